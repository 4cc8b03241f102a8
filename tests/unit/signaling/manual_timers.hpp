#pragma once
// Test doubles for time: a wall clock the test moves by hand, and a
// TimerService whose timers run only when the test advances that clock. No
// test sleeps.

#include <chrono>
#include <functional>
#include <map>
#include <utility>

#include "signaling/timer_service.hpp"
#include "signaling/utc_time.hpp"

namespace huijian::signaling::testing {

using TimePoint = std::chrono::system_clock::time_point;

// 2024-10-04T00:00:00Z plus whatever the test adds; every reading also adds
// 1 ms, so stored events keep their order.
struct ManualClock {
  TimePoint base = TimePoint{} + std::chrono::hours(24 * 20000);
  long ticks = 0;
  TimePoint now() { return base + std::chrono::milliseconds(++ticks); }
  WallClock wall() {
    return [this] { return now(); };
  }
};

class ManualTimers final : public TimerService {
 public:
  explicit ManualTimers(ManualClock& clock) : clock_(clock) {}

  TimerId start_at(TimePoint at, std::function<void()> fn) override {
    TimerId id = next_++;
    pending_.emplace(id, std::make_pair(at, std::move(fn)));
    return id;
  }
  void cancel(TimerId id) noexcept override { pending_.erase(id); }

  // Moves the clock forward by `d`, running every timer that falls due on the
  // way in time order, with the clock set to the timer's moment.
  void advance(std::chrono::system_clock::duration d) {
    const TimePoint target = clock_.base + d;
    for (int guard = 0; guard < 10000; ++guard) {
      auto due = pending_.end();
      for (auto it = pending_.begin(); it != pending_.end(); ++it)
        if (it->second.first <= target && (due == pending_.end() || it->second.first < due->second.first)) due = it;
      if (due == pending_.end()) break;
      auto fn = std::move(due->second.second);
      if (due->second.first > clock_.base) clock_.base = due->second.first;
      pending_.erase(due);
      fn();
    }
    clock_.base = target;
  }

  // Runs every pending timer now, without moving the clock (a timer that
  // comes early).
  void fire_all_now() {
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& [id, entry] : pending) entry.second();
  }

  std::size_t pending() const noexcept { return pending_.size(); }

 private:
  ManualClock& clock_;
  TimerId next_ = 1;
  std::map<TimerId, std::pair<TimePoint, std::function<void()>>> pending_;
};

}  // namespace huijian::signaling::testing
