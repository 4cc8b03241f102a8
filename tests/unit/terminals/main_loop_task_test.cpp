#include "terminals/main_loop_task.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace huijian::terminals;

namespace {
// Runs the default context until `done` or a bounded time has passed.
void spin(const bool& done, int max_ms = 2000) {
  auto deadline = g_get_monotonic_time() + max_ms * 1000;
  while (!done && g_get_monotonic_time() < deadline) g_main_context_iteration(nullptr, FALSE), g_usleep(1000);
}
}  // namespace

TEST_CASE("post_to_main: a task posted from another thread runs on the main context") {
  auto alive = std::make_shared<int>(0);
  bool ran = false;
  std::thread::id ran_on;
  std::thread t([&] { post_to_main(alive, [&] { ran = true, ran_on = std::this_thread::get_id(); }); });
  t.join();
  CHECK_FALSE(ran);  // never inline
  spin(ran);
  CHECK(ran);
  CHECK(ran_on == std::this_thread::get_id());
}

TEST_CASE("post_to_main: a task whose owner is gone is dropped") {
  auto alive = std::make_shared<int>(0);
  bool ran = false;
  post_to_main(alive, [&] { ran = true; });
  alive.reset();
  bool tick = false;
  post_to_main(std::make_shared<int>(0), [&] { tick = true; });  // expired too, so use a timer to stop
  MainLoopTimer stop(std::chrono::milliseconds(50), false, [&] { tick = true; });
  spin(tick);
  for (int i = 0; i < 10; ++i) g_main_context_iteration(nullptr, FALSE);
  CHECK_FALSE(ran);
}

TEST_CASE("MainLoopTimer: fires once, repeats when asked, and never after cancel") {
  int once = 0, repeated = 0, cancelled = 0;
  bool done = false;
  MainLoopTimer a(std::chrono::milliseconds(10), false, [&] { ++once; });
  MainLoopTimer b(std::chrono::milliseconds(10), true, [&] { ++repeated; });
  MainLoopTimer c(std::chrono::milliseconds(10), false, [&] { ++cancelled; });
  c.cancel();
  MainLoopTimer end(std::chrono::milliseconds(120), false, [&] { done = true; });
  spin(done);
  CHECK(done);
  CHECK(once == 1);
  CHECK(repeated >= 3);
  CHECK(cancelled == 0);
}

TEST_CASE("MainLoopTimer: destroying the timer removes it") {
  int fired = 0;
  bool done = false;
  {
    MainLoopTimer t(std::chrono::milliseconds(10), true, [&] { ++fired; });
  }
  MainLoopTimer end(std::chrono::milliseconds(60), false, [&] { done = true; });
  spin(done);
  CHECK(fired == 0);
}
