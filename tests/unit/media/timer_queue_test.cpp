// TimerQueue on a context of its own, iterated on this thread: timers fire
// in the order of their due times and keep their periods, one GSource carries
// them all, and a callback may cancel itself, another timer, or drop the last
// reference to the queue without harm.
#include "media/timer_queue.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using huijian::media::TimerQueue;
using namespace std::chrono_literals;

namespace {

struct Context {
  GMainContext* context = g_main_context_new();
  ~Context() { g_main_context_unref(context); }
};

// Blocking iterations until `done`, at most `limit`.
template <class Done>
bool iterate_until(GMainContext* context, Done done, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    g_main_context_iteration(context, FALSE);
    g_usleep(500);
  }
  return true;
}

int sources_of(GMainContext* context) {
  // The sources attached: each one's id is found again by its id.
  int n = 0;
  for (guint id = 1; id < 10000; ++id)
    if (g_main_context_find_source_by_id(context, id)) ++n;
  return n;
}

}  // namespace

TEST_CASE("TimerQueue: timers fire by due time, keep their periods, and share one source") {
  Context c;
  auto queue = TimerQueue::for_context(c.context);
  CHECK(TimerQueue::for_context(c.context) == queue);
  std::vector<std::string> fired;
  int fast = 0, slow = 0;
  const auto start = std::chrono::steady_clock::now();
  queue->every(20ms, [&] {
    fired.push_back("fast");
    return ++fast < 5;
  });
  queue->every(45ms, [&] {
    fired.push_back("slow");
    ++slow;
    return true;
  });
  CHECK(queue->size() == 2);
  CHECK(sources_of(c.context) == 1);
  REQUIRE(iterate_until(c.context, [&] { return fast == 5 && slow >= 2; }, 2000ms));
  const auto took = std::chrono::steady_clock::now() - start;
  // Five periods of 20 ms cannot pass in less than 100 ms.
  CHECK(took >= 100ms);
  // The 20 ms timer fired twice before the 45 ms one, and ended itself after its fifth call.
  REQUIRE(fired.size() >= 3);
  CHECK(fired[0] == "fast");
  CHECK(fired[1] == "fast");
  CHECK(fired[2] == "slow");
  CHECK(queue->size() == 1);
  // Nothing runs ahead of time: 30 ms after a new 200 ms timer it has not fired.
  int late = 0;
  queue->every(200ms, [&] {
    ++late;
    return true;
  });
  iterate_until(c.context, [] { return false; }, 30ms);
  CHECK(late == 0);
  CHECK(sources_of(c.context) == 1);
}

TEST_CASE("TimerQueue: a callback cancels itself or another timer, and a cancelled token stays cancelled") {
  Context c;
  auto queue = TimerQueue::for_context(c.context);
  int a = 0, b = 0, d = 0;
  std::uint64_t token_a = 0, token_b = 0;
  token_a = queue->every(10ms, [&] {
    ++a;
    queue->cancel(token_a);  // its own
    queue->cancel(token_b);  // due at the same time or later: must never run
    return true;             // ignored: the timer is gone
  });
  token_b = queue->every(10ms, [&] {
    ++b;
    return true;
  });
  const auto token_d = queue->every(10ms, [&] {
    ++d;
    return true;
  });
  REQUIRE(iterate_until(c.context, [&] { return d >= 3; }, 2000ms));
  CHECK(a == 1);
  CHECK(b == 0);
  queue->cancel(token_d);
  queue->cancel(token_d);  // twice is harmless
  queue->cancel(12345);    // never made
  CHECK(queue->size() == 0);
  const int d_then = d;
  iterate_until(c.context, [] { return false; }, 40ms);
  CHECK(d == d_then);
}

TEST_CASE("TimerQueue: a callback may drop the last reference to its queue") {
  Context c;
  auto queue = TimerQueue::for_context(c.context);
  std::weak_ptr<TimerQueue> watch = queue;
  bool ran = false;
  queue->every(10ms, [&] {
    ran = true;
    queue.reset();  // the queue must outlive this call, then go
    return true;
  });
  REQUIRE(iterate_until(c.context, [&] { return ran; }, 2000ms));
  CHECK(watch.expired());
  CHECK(sources_of(c.context) == 0);
  // A new queue for the same context starts empty and works.
  auto again = TimerQueue::for_context(c.context);
  int n = 0;
  again->every(5ms, [&] { return ++n < 2; });
  REQUIRE(iterate_until(c.context, [&] { return n == 2; }, 2000ms));
  CHECK(again->size() == 0);
}

TEST_CASE("TimerQueue: a job that throws is logged and its timer goes on") {
  Context c;
  auto queue = TimerQueue::for_context(c.context);
  int calls = 0;
  queue->every(5ms, [&]() -> bool {
    ++calls;
    throw std::runtime_error("broken job");
  });
  REQUIRE(iterate_until(c.context, [&] { return calls >= 3; }, 2000ms));
  CHECK(queue->size() == 1);
}
