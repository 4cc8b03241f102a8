#include "signaling/meeting_timekeeper.hpp"

#include <algorithm>

namespace huijian::signaling {

MeetingTimekeeper::MeetingTimekeeper(TimerService& timers, WallClock clock,
                                     std::vector<std::chrono::seconds> warnings,
                                     MeetingTimekeeperListener& listener)
    : timers_(timers), clock_(std::move(clock)), warnings_(std::move(warnings)), listener_(listener) {}

MeetingTimekeeper::~MeetingTimekeeper() {
  for (auto& [id, kept] : kept_) cancel_timers(kept);
}

std::vector<std::chrono::seconds> MeetingTimekeeper::warnings_ahead(TimePoint ends_at, TimePoint now,
                                                                    std::vector<std::chrono::seconds> thresholds) {
  std::sort(thresholds.begin(), thresholds.end(), std::greater<>());
  thresholds.erase(std::unique(thresholds.begin(), thresholds.end()), thresholds.end());
  std::vector<std::chrono::seconds> out;
  for (auto t : thresholds)
    if (ends_at - t > now) out.push_back(t);
  return out;
}

void MeetingTimekeeper::cancel_timers(Kept& kept) noexcept {
  for (auto id : kept.timers) timers_.cancel(id);
  kept.timers.clear();
}

void MeetingTimekeeper::set_end(const std::string& meeting_id, TimePoint ends_at) {
  Kept& kept = kept_[meeting_id];
  cancel_timers(kept);
  kept.ends_at = ends_at;
  for (auto threshold : warnings_ahead(ends_at, clock_(), warnings_)) {
    kept.timers.push_back(timers_.start_at(ends_at - threshold, [this, meeting_id, threshold] {
      listener_.on_time_warning(meeting_id, threshold);
    }));
  }
  arm_end(meeting_id, kept);
}

void MeetingTimekeeper::arm_end(const std::string& meeting_id, Kept& kept) {
  TimePoint ends_at = kept.ends_at;
  kept.timers.push_back(
      timers_.start_at(ends_at, [this, meeting_id, ends_at] { on_end_timer(meeting_id, ends_at); }));
}

void MeetingTimekeeper::on_end_timer(const std::string& meeting_id, TimePoint ends_at) {
  auto it = kept_.find(meeting_id);
  if (it == kept_.end() || it->second.ends_at != ends_at) return;  // moved or stopped meanwhile
  if (clock_() < ends_at) {
    // The timer ran on another clock than ours and came early: wait for the rest.
    arm_end(meeting_id, it->second);
    return;
  }
  cancel_timers(it->second);
  kept_.erase(it);
  listener_.on_time_over(meeting_id);
}

void MeetingTimekeeper::stop(const std::string& meeting_id) noexcept {
  auto it = kept_.find(meeting_id);
  if (it == kept_.end()) return;
  cancel_timers(it->second);
  kept_.erase(it);
}

std::optional<MeetingTimekeeper::TimePoint> MeetingTimekeeper::end_of(const std::string& meeting_id) const {
  auto it = kept_.find(meeting_id);
  if (it == kept_.end()) return std::nullopt;
  return it->second.ends_at;
}

}  // namespace huijian::signaling
