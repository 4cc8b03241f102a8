#pragma once
// One-shot timers on the hub's thread, by wall-clock time. AsioTimerService
// runs them on the io_context; unit tests use a manual one with an injected
// clock, so timing rules are tested without sleeping.

#include <chrono>
#include <cstdint>
#include <functional>

namespace huijian::signaling {

class TimerService {
 public:
  using TimerId = std::uint64_t;
  virtual ~TimerService() = default;
  // Runs `fn` on the hub's thread at (or just after) `at`; never inline, even
  // when `at` has passed. Returns an id for cancel(); ids are never reused.
  virtual TimerId start_at(std::chrono::system_clock::time_point at, std::function<void()> fn) = 0;
  // Cancelling a timer that fired or is unknown does nothing.
  virtual void cancel(TimerId id) noexcept = 0;
};

}  // namespace huijian::signaling
