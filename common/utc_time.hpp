#pragma once
// Instants as the store, the protocol and the archive write them: ISO-8601
// UTC with milliseconds, "2026-11-23T09:00:00.123Z".

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace huijian::common {

std::string format_utc_ms(std::chrono::system_clock::time_point at);
// Reads what format_utc_ms writes; nullopt for anything else.
std::optional<std::chrono::system_clock::time_point> parse_utc_ms(std::string_view text);

}  // namespace huijian::common
