#include "recorder/beijing_time.hpp"

#include <fmt/format.h>

namespace huijian::recorder {

std::string format_beijing_time(std::chrono::system_clock::time_point at) {
  using namespace std::chrono;
  const auto local = floor<seconds>(at) + kBeijingUtcOffset;
  const auto day = floor<days>(local);
  const year_month_day ymd{day};
  const hh_mm_ss hms{local - day};
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                     hms.minutes().count(), hms.seconds().count());
}

}  // namespace huijian::recorder
