#include "media/timer_queue.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <vector>

#include "media/context_registry.hpp"

namespace huijian::media {

namespace {

struct QueueSource {
  GSource base;
  TimerQueue* queue;
};

}  // namespace

std::shared_ptr<TimerQueue> TimerQueue::for_context(GMainContext* context) {
  static ContextRegistry<TimerQueue> registry;
  return registry.get(context, [context] { return std::shared_ptr<TimerQueue>(new TimerQueue(context)); });
}

TimerQueue::TimerQueue(GMainContext* context) {
  static GSourceFuncs funcs = {nullptr, nullptr, &TimerQueue::dispatch, nullptr, nullptr, nullptr};
  source_ = g_source_new(&funcs, sizeof(QueueSource));
  reinterpret_cast<QueueSource*>(source_)->queue = this;
  g_source_set_name(source_, "huijian timers");
  g_source_set_ready_time(source_, -1);
  g_source_attach(source_, context);
}

TimerQueue::~TimerQueue() {
  g_source_destroy(source_);
  g_source_unref(source_);
}

std::uint64_t TimerQueue::every(std::chrono::milliseconds period, Callback callback) {
  const std::uint64_t token = next_token_++;
  Timer timer;
  timer.period_us = std::max<std::int64_t>(1, period.count()) * 1000;
  timer.due_us = g_get_monotonic_time() + timer.period_us;
  timer.callback = std::move(callback);
  order_.emplace(timer.due_us, token);
  timers_.emplace(token, std::move(timer));
  arm();
  return token;
}

void TimerQueue::cancel(std::uint64_t token) noexcept {
  auto it = timers_.find(token);
  if (it == timers_.end()) return;
  order_.erase({it->second.due_us, token});
  timers_.erase(it);
  arm();
}

gboolean TimerQueue::dispatch(GSource* source, GSourceFunc, gpointer) {
  // A callback may drop the last reference to the queue.
  const auto keep = reinterpret_cast<QueueSource*>(source)->queue->weak_from_this().lock();
  if (keep) keep->run_due();
  return G_SOURCE_CONTINUE;
}

void TimerQueue::run_due() noexcept {
  const gint64 now = g_get_monotonic_time();
  // The timers due now, taken out of the order first: a callback may add,
  // cancel or re-arm any of them while the others wait their turn.
  std::vector<std::uint64_t> due;
  while (!order_.empty() && order_.begin()->first <= now) {
    due.push_back(order_.begin()->second);
    order_.erase(order_.begin());
  }
  for (const std::uint64_t token : due) {
    auto it = timers_.find(token);
    if (it == timers_.end()) continue;  // cancelled by an earlier callback
    // The callback runs from a copy: it may cancel its own timer, which destroys the original.
    Callback callback = it->second.callback;
    bool keep_timer = false;
    try {
      keep_timer = callback();
    } catch (const std::exception& e) {
      spdlog::error("[media] a periodic job failed (it runs again next period): {}", e.what());
      keep_timer = true;
    } catch (...) {
      spdlog::error("[media] a periodic job failed (it runs again next period)");
      keep_timer = true;
    }
    it = timers_.find(token);
    if (it == timers_.end()) continue;
    if (!keep_timer) {
      timers_.erase(it);
      continue;
    }
    it->second.due_us = g_get_monotonic_time() + it->second.period_us;
    order_.emplace(it->second.due_us, token);
  }
  arm();
}

void TimerQueue::arm() noexcept {
  g_source_set_ready_time(source_, order_.empty() ? -1 : order_.begin()->first);
}

}  // namespace huijian::media
