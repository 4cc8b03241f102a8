#pragma once
// Many periodic timers of one GMainContext carried by one GSource.
//
// GLib walks every source of a context twice on each iteration of its loop
// (prepare, then check), and a media worker iterates once per wake-up,
// thousands of times a second under load. A GLib timeout per peer for each
// of its periodic jobs (the ICE liveness tick, the receiver estimate) put two
// sources per peer in that walk; here they are entries of one ordered set,
// and GLib sees a single source whose ready time is the earliest of them.
//
// Created, used and destroyed on the context's thread.

#include <glib.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <utility>
#include <vector>

namespace huijian::media {

class TimerQueue : public std::enable_shared_from_this<TimerQueue> {
 public:
  // Returns true to keep the timer, false to end it.
  using Callback = std::function<bool()>;

  // The one queue of `context`, made on first use; it lives while some user holds it.
  static std::shared_ptr<TimerQueue> for_context(GMainContext* context);
  ~TimerQueue();
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  // Calls `callback` every `period` (at least 1 ms), the first time one period
  // from now; each next time is one period after the call, as GLib's timeouts
  // do. A callback that throws is logged and called again next period.
  // Returns a token for cancel().
  std::uint64_t every(std::chrono::milliseconds period, Callback callback);
  // Ends a timer; safe from inside any callback, its own included, and for a
  // token already ended.
  void cancel(std::uint64_t token) noexcept;
  std::size_t size() const noexcept { return timers_.size(); }

 private:
  explicit TimerQueue(GMainContext* context);
  static gboolean dispatch(GSource* source, GSourceFunc, gpointer);
  void run_due() noexcept;
  void arm() noexcept;

  struct Timer {
    gint64 period_us = 0;
    gint64 due_us = 0;
    Callback callback;
  };
  GSource* source_ = nullptr;
  std::map<std::uint64_t, Timer> timers_;
  std::set<std::pair<gint64, std::uint64_t>> order_;  // (due, token), earliest first
  std::uint64_t next_token_ = 1;
};

}  // namespace huijian::media
