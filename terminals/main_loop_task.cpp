#include "terminals/main_loop_task.hpp"

#include <utility>

namespace huijian::terminals {

void post_to_main(std::weak_ptr<void> alive, std::function<void()> task) {
  auto* heap = new std::function<void()>([alive = std::move(alive), task = std::move(task)] {
    if (alive.lock()) task();
  });
  g_idle_add_full(
      G_PRIORITY_DEFAULT,
      [](gpointer data) -> gboolean {
        (*static_cast<std::function<void()>*>(data))();
        return G_SOURCE_REMOVE;
      },
      heap, [](gpointer data) { delete static_cast<std::function<void()>*>(data); });
}

MainLoopTimer::MainLoopTimer(std::chrono::milliseconds interval, bool repeat, std::function<void()> callback) {
  auto* state = new State{std::move(callback), repeat};
  source_ = g_timeout_source_new(static_cast<guint>(interval.count()));
  g_source_set_callback(
      source_,
      [](gpointer data) -> gboolean {
        auto* s = static_cast<State*>(data);
        // Copy first: the callback may destroy this timer (and its State).
        bool repeat = s->repeat;
        auto callback = s->callback;
        callback();
        return repeat ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
      },
      state, [](gpointer data) { delete static_cast<State*>(data); });
  g_source_attach(source_, nullptr);
}

MainLoopTimer::~MainLoopTimer() { cancel(); }

MainLoopTimer::MainLoopTimer(MainLoopTimer&& other) noexcept : source_(std::exchange(other.source_, nullptr)) {}

MainLoopTimer& MainLoopTimer::operator=(MainLoopTimer&& other) noexcept {
  if (this != &other) {
    cancel();
    source_ = std::exchange(other.source_, nullptr);
  }
  return *this;
}

void MainLoopTimer::cancel() noexcept {
  if (source_) {
    g_source_destroy(source_);
    g_source_unref(source_);
    source_ = nullptr;
  }
}

}  // namespace huijian::terminals
