#pragma once
// One media worker: a thread running a GLib main loop on a GMainContext of its
// own. Peers (libnice agents, DTLS timers) of the meetings pinned to this
// worker live on that context; everything that touches them runs there.

#include <glib.h>

#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>

namespace huijian::media {

class MediaWorker {
 public:
  explicit MediaWorker(std::string name);
  ~MediaWorker();  // stops the loop and joins the thread
  MediaWorker(const MediaWorker&) = delete;
  MediaWorker& operator=(const MediaWorker&) = delete;

  GMainContext* context() const noexcept { return context_.get(); }

  // Runs `task` on the worker thread, soon; returns at once.
  void post(std::function<void()> task);

  // Runs `task` on the worker thread and waits for its result; an exception
  // thrown by the task is rethrown here. Called on the worker itself, it runs inline.
  template <class F>
  auto call(F&& task) -> decltype(task()) {
    using R = decltype(task());
    if (on_worker_thread()) return task();
    auto promise = std::make_shared<std::promise<R>>();
    auto future = promise->get_future();
    post([promise, task = std::forward<F>(task)]() mutable {
      try {
        if constexpr (std::is_void_v<R>) {
          task();
          promise->set_value();
        } else {
          promise->set_value(task());
        }
      } catch (...) {
        promise->set_exception(std::current_exception());
      }
    });
    return future.get();
  }

  bool on_worker_thread() const noexcept { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  struct ContextUnref {
    void operator()(GMainContext* c) const noexcept { g_main_context_unref(c); }
  };
  struct LoopUnref {
    void operator()(GMainLoop* l) const noexcept { g_main_loop_unref(l); }
  };
  std::string name_;
  std::unique_ptr<GMainContext, ContextUnref> context_;
  std::unique_ptr<GMainLoop, LoopUnref> loop_;
  std::thread thread_;
};

}  // namespace huijian::media
