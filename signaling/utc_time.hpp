#pragma once
// Wall-clock time for records and messages, injected so tests control it.

#include <chrono>
#include <functional>

#include "common/utc_time.hpp"

namespace huijian::signaling {

using WallClock = std::function<std::chrono::system_clock::time_point()>;

// The real clock.
WallClock system_wall_clock();

using common::format_utc_ms;
using common::parse_utc_ms;

}  // namespace huijian::signaling
