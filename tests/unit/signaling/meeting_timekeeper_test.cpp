#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "manual_timers.hpp"
#include "signaling/meeting_timekeeper.hpp"

using namespace huijian::signaling;
using namespace huijian::signaling::testing;
using namespace std::chrono_literals;

namespace {

struct Heard : MeetingTimekeeperListener {
  ManualClock* clock = nullptr;
  // "<meeting> warn <s> at +<ms>" and "<meeting> over at +<ms>", ms from the start of the test.
  std::vector<std::string> events;
  TimePoint start;
  long long since_start() const { return std::chrono::duration_cast<std::chrono::milliseconds>(clock->base - start).count(); }
  void on_time_warning(const std::string& meeting, std::chrono::seconds remaining) override {
    events.push_back(meeting + " warn " + std::to_string(remaining.count()) + " at +" + std::to_string(since_start()));
  }
  void on_time_over(const std::string& meeting) override {
    events.push_back(meeting + " over at +" + std::to_string(since_start()));
  }
};

struct Keeper {
  ManualClock clock;
  ManualTimers timers{clock};
  Heard heard;
  MeetingTimekeeper keeper{timers, clock.wall(), {300s, 60s}, heard};
  Keeper() {
    heard.clock = &clock;
    heard.start = clock.base;
  }
};

}  // namespace

TEST_CASE("MeetingTimekeeper: warns 5 and 1 minutes before the end and ends exactly on time") {
  Keeper k;
  auto ends = k.clock.base + 30min;
  k.keeper.set_end("m-1", ends);
  CHECK(k.keeper.end_of("m-1") == ends);
  k.timers.advance(25min - 1ms);
  CHECK(k.heard.events.empty());
  k.timers.advance(1ms);
  CHECK(k.heard.events == std::vector<std::string>{"m-1 warn 300 at +1500000"});
  k.timers.advance(4min);
  CHECK(k.heard.events.back() == "m-1 warn 60 at +1740000");
  k.timers.advance(1min - 1ms);
  CHECK(k.heard.events.size() == 2);
  k.timers.advance(1ms);
  CHECK(k.heard.events.back() == "m-1 over at +1800000");
  CHECK_FALSE(k.keeper.end_of("m-1"));
  CHECK(k.timers.pending() == 0);
}

TEST_CASE("MeetingTimekeeper: a meeting shorter than a warning gets only the warnings still ahead") {
  Keeper k;
  k.keeper.set_end("quick", k.clock.base + 3min);
  k.timers.advance(10min);
  CHECK(k.heard.events == std::vector<std::string>{"quick warn 60 at +120000", "quick over at +180000"});

  Keeper short_one;
  short_one.keeper.set_end("m-2", short_one.clock.base + 30s);
  short_one.timers.advance(1min);
  CHECK(short_one.heard.events == std::vector<std::string>{"m-2 over at +30000"});
}

TEST_CASE("MeetingTimekeeper: moving the end re-arms the warnings and the end, and the old end passes silently") {
  Keeper k;
  k.keeper.set_end("m-1", k.clock.base + 30min);
  k.timers.advance(26min);  // the 5-minute warning came at 25:00
  REQUIRE(k.heard.events == std::vector<std::string>{"m-1 warn 300 at +1500000"});
  k.keeper.set_end("m-1", k.clock.base + 14min);  // now 26:00, new end 40:00
  k.timers.advance(5min);                          // past the old end at 30:00
  CHECK(k.heard.events.size() == 1);
  k.timers.advance(10min);
  CHECK(k.heard.events == std::vector<std::string>{"m-1 warn 300 at +1500000", "m-1 warn 300 at +2100000",
                                                   "m-1 warn 60 at +2340000", "m-1 over at +2400000"});
}

TEST_CASE("MeetingTimekeeper: shortening to less than a minute skips every warning and ends then") {
  Keeper k;
  k.keeper.set_end("m-1", k.clock.base + 30min);
  k.timers.advance(1min);
  k.keeper.set_end("m-1", k.clock.base + 8s);
  k.timers.advance(1min);
  CHECK(k.heard.events == std::vector<std::string>{"m-1 over at +68000"});
}

TEST_CASE("MeetingTimekeeper: stop cancels the warnings and the end of that meeting only") {
  Keeper k;
  k.keeper.set_end("m-1", k.clock.base + 10min);
  k.keeper.set_end("m-2", k.clock.base + 10min);
  k.keeper.stop("m-1");
  k.keeper.stop("never-kept");
  k.timers.advance(20min);
  CHECK(k.heard.events ==
        std::vector<std::string>{"m-2 warn 300 at +300000", "m-2 warn 60 at +540000", "m-2 over at +600000"});
}

TEST_CASE("MeetingTimekeeper: an end timer that comes early waits for the rest instead of ending the meeting") {
  Keeper k;
  k.keeper.set_end("m-1", k.clock.base + 10s);
  k.timers.fire_all_now();  // early: the clock is still at +0
  CHECK(k.heard.events.empty());
  CHECK(k.keeper.end_of("m-1").has_value());
  k.timers.advance(10s);
  CHECK(k.heard.events == std::vector<std::string>{"m-1 over at +10000"});
}

TEST_CASE("MeetingTimekeeper: warnings_ahead lists the thresholds still in the future, largest first") {
  TimePoint now{};
  CHECK(MeetingTimekeeper::warnings_ahead(now + 30min, now, {60s, 300s}) == std::vector<std::chrono::seconds>{300s, 60s});
  CHECK(MeetingTimekeeper::warnings_ahead(now + 5min, now, {60s, 300s}) == std::vector<std::chrono::seconds>{60s});
  CHECK(MeetingTimekeeper::warnings_ahead(now + 5min + 1ms, now, {60s, 300s}) ==
        std::vector<std::chrono::seconds>{300s, 60s});
  CHECK(MeetingTimekeeper::warnings_ahead(now + 59s, now, {60s, 300s}).empty());
}
