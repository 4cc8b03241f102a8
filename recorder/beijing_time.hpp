#pragma once
// Instants as an archivist in China reads them: Beijing time (UTC+8, no
// daylight saving), "2026-11-23 18:00:05". The archive itself stores UTC.

#include <chrono>
#include <string>

namespace huijian::recorder {

inline constexpr std::chrono::hours kBeijingUtcOffset{8};

// "YYYY-MM-DD HH:MM:SS" in UTC+8, seconds rounded down.
std::string format_beijing_time(std::chrono::system_clock::time_point at);

}  // namespace huijian::recorder
