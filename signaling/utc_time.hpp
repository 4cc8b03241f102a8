#pragma once
// Wall-clock time for records and messages, injected so tests control it.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace huijian::signaling {

using WallClock = std::function<std::chrono::system_clock::time_point()>;

// The real clock.
WallClock system_wall_clock();
// ISO-8601 UTC with milliseconds: "2026-11-23T09:00:00.123Z".
std::string format_utc_ms(std::chrono::system_clock::time_point at);
// Reads what format_utc_ms writes; nullopt for anything else.
std::optional<std::chrono::system_clock::time_point> parse_utc_ms(std::string_view text);

}  // namespace huijian::signaling
