#pragma once
// The call time of connected meetings: for each meeting its end time, the
// warnings before it (e.g. 5 and 1 minutes) and the end itself, as timers of
// a TimerService. Moving the end re-arms what is still ahead. The listener is
// called on the hub's thread; it may call set_end() or stop() from there.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "signaling/timer_service.hpp"
#include "signaling/utc_time.hpp"

namespace huijian::signaling {

class MeetingTimekeeperListener {
 public:
  virtual ~MeetingTimekeeperListener() = default;
  // `remaining` is the warning's threshold (e.g. 300 s), not a measured time.
  virtual void on_time_warning(const std::string& meeting_id, std::chrono::seconds remaining) = 0;
  // The end time was reached; the meeting is no longer kept.
  virtual void on_time_over(const std::string& meeting_id) = 0;
};

class MeetingTimekeeper {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  // `warnings`: how long before the end each warning comes (any order).
  MeetingTimekeeper(TimerService& timers, WallClock clock, std::vector<std::chrono::seconds> warnings,
                    MeetingTimekeeperListener& listener);
  ~MeetingTimekeeper();
  MeetingTimekeeper(const MeetingTimekeeper&) = delete;
  MeetingTimekeeper& operator=(const MeetingTimekeeper&) = delete;

  // Starts keeping the meeting, or moves its end: cancels its timers and
  // arms the warnings whose moment is still ahead and the end.
  void set_end(const std::string& meeting_id, TimePoint ends_at);
  // Stops keeping the meeting (it ended); cancels its timers.
  void stop(const std::string& meeting_id) noexcept;
  std::optional<TimePoint> end_of(const std::string& meeting_id) const;

  // The warning thresholds whose moment (ends_at - threshold) is after `now`,
  // largest first: what set_end arms.
  static std::vector<std::chrono::seconds> warnings_ahead(TimePoint ends_at, TimePoint now,
                                                          std::vector<std::chrono::seconds> thresholds);

 private:
  struct Kept {
    TimePoint ends_at;
    std::vector<TimerService::TimerId> timers;
  };
  void cancel_timers(Kept& kept) noexcept;
  void arm_end(const std::string& meeting_id, Kept& kept);
  void on_end_timer(const std::string& meeting_id, TimePoint ends_at);

  TimerService& timers_;
  WallClock clock_;
  std::vector<std::chrono::seconds> warnings_;
  MeetingTimekeeperListener& listener_;
  std::map<std::string, Kept> kept_;
};

}  // namespace huijian::signaling
