#pragma once
// Marshalling onto the GLib default main context (the terminal's main loop):
// callbacks from GStreamer and network threads are turned into tasks there.

#include <glib.h>

#include <chrono>
#include <functional>
#include <memory>

namespace huijian::terminals {

// Runs `task` on the default main context later, unless `alive` has expired
// by then. Thread-safe; never runs the task inline.
void post_to_main(std::weak_ptr<void> alive, std::function<void()> task);

// A one-shot or repeating timer on the default main context; destroying it
// (or calling cancel) removes it, so a callback never outlives its owner.
class MainLoopTimer {
 public:
  MainLoopTimer() = default;
  MainLoopTimer(std::chrono::milliseconds interval, bool repeat, std::function<void()> callback);
  ~MainLoopTimer();
  MainLoopTimer(MainLoopTimer&& other) noexcept;
  MainLoopTimer& operator=(MainLoopTimer&& other) noexcept;
  MainLoopTimer(const MainLoopTimer&) = delete;
  MainLoopTimer& operator=(const MainLoopTimer&) = delete;

  void cancel() noexcept;
  bool active() const noexcept { return source_ != nullptr; }

 private:
  struct State {
    std::function<void()> callback;
    bool repeat = false;
  };
  GSource* source_ = nullptr;
};

}  // namespace huijian::terminals
