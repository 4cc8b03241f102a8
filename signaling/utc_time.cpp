#include "signaling/utc_time.hpp"

namespace huijian::signaling {

WallClock system_wall_clock() {
  return [] { return std::chrono::system_clock::now(); };
}

}  // namespace huijian::signaling
