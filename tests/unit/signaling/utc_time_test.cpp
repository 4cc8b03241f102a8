#include <catch2/catch.hpp>

#include "signaling/utc_time.hpp"

using namespace huijian::signaling;

TEST_CASE("UtcTime: format and parse round-trip to the millisecond") {
  auto t = std::chrono::system_clock::time_point{} + std::chrono::hours(24 * 20780) + std::chrono::milliseconds(33123456);
  auto text = format_utc_ms(t);
  CHECK(text == "2026-11-23T09:12:03.456Z");
  CHECK(parse_utc_ms(text) == t);
}

TEST_CASE("UtcTime: anything but the exact format is not a time") {
  for (const char* bad : {"", "2026-11-23T09:12:03Z", "2026-11-23 09:12:03.456Z", "2026-13-01T00:00:00.000Z",
                          "2026-02-30T00:00:00.000Z", "2026-11-23T24:00:00.000Z", "2026-11-23T09:12:03.45xZ"}) {
    INFO(bad);
    CHECK_FALSE(parse_utc_ms(bad).has_value());
  }
}
