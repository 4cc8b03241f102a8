#include "signaling/asio_timer_service.hpp"

namespace huijian::signaling {

AsioTimerService::AsioTimerService(boost::asio::io_context& io, WallClock clock)
    : io_(io), clock_(std::move(clock)) {}

AsioTimerService::~AsioTimerService() {
  alive_.reset();
  for (auto& [id, timer] : timers_) timer->cancel();
}

TimerService::TimerId AsioTimerService::start_at(std::chrono::system_clock::time_point at,
                                                 std::function<void()> fn) {
  TimerId id = next_id_++;
  auto delay = at - clock_();
  if (delay < std::chrono::system_clock::duration::zero()) delay = std::chrono::system_clock::duration::zero();
  auto timer = std::make_unique<boost::asio::steady_timer>(io_);
  timer->expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(delay));
  timer->async_wait([this, id, alive = std::weak_ptr<int>(alive_), fn = std::move(fn)](
                        const boost::system::error_code& ec) {
    if (ec || !alive.lock()) return;
    auto it = timers_.find(id);
    if (it == timers_.end()) return;  // cancelled after it was already queued
    timers_.erase(it);
    fn();
  });
  timers_.emplace(id, std::move(timer));
  return id;
}

void AsioTimerService::cancel(TimerId id) noexcept {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  it->second->cancel();
  timers_.erase(it);
}

}  // namespace huijian::signaling
