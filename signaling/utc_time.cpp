#include "signaling/utc_time.hpp"

#include <fmt/format.h>

namespace huijian::signaling {

WallClock system_wall_clock() {
  return [] { return std::chrono::system_clock::now(); };
}

std::string format_utc_ms(std::chrono::system_clock::time_point at) {
  using namespace std::chrono;
  auto ms = floor<milliseconds>(at);
  auto day = floor<days>(ms);
  year_month_day ymd{day};
  hh_mm_ss hms{ms - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
                     hms.subseconds().count());
}

}  // namespace huijian::signaling
