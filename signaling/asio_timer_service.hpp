#pragma once
// TimerService on a Boost.Asio io_context (the hub's thread). A wall-clock
// moment becomes a steady_timer delay when the timer is started.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>

#include "signaling/timer_service.hpp"
#include "signaling/utc_time.hpp"

namespace huijian::signaling {

class AsioTimerService final : public TimerService {
 public:
  AsioTimerService(boost::asio::io_context& io, WallClock clock);
  ~AsioTimerService() override;  // cancels every pending timer; none of them runs

  TimerId start_at(std::chrono::system_clock::time_point at, std::function<void()> fn) override;
  void cancel(TimerId id) noexcept override;

  std::size_t pending() const noexcept { return timers_.size(); }

 private:
  boost::asio::io_context& io_;
  WallClock clock_;
  TimerId next_id_ = 1;
  std::map<TimerId, std::unique_ptr<boost::asio::steady_timer>> timers_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace huijian::signaling
