#pragma once
// Relay latency samples in microseconds: 1 µs buckets up to 100 ms, one
// overflow bucket above. Fixed memory, no allocation per sample.

#include <array>
#include <cstdint>
#include <vector>

namespace huijian::terminals::loadgen {

class LatencyHistogram {
 public:
  static constexpr std::uint32_t kMaxMicros = 100'000;

  LatencyHistogram() : buckets_(kMaxMicros + 1, 0) {}

  void add(std::int64_t micros) noexcept {
    if (micros < 0) micros = 0;
    const auto index = micros > kMaxMicros ? kMaxMicros : static_cast<std::uint32_t>(micros);
    buckets_[index]++;
    count_++;
    if (micros > max_) max_ = micros;
  }
  std::uint64_t count() const noexcept { return count_; }
  std::int64_t max() const noexcept { return max_; }
  // The smallest value v with at least `fraction` of the samples <= v; a value
  // over 100 ms reads as 100000. 0 when empty.
  std::int64_t quantile(double fraction) const noexcept {
    if (count_ == 0) return 0;
    const auto wanted = static_cast<std::uint64_t>(fraction * static_cast<double>(count_) + 0.999999);
    std::uint64_t seen = 0;
    for (std::uint32_t i = 0; i <= kMaxMicros; ++i) {
      seen += buckets_[i];
      if (seen >= wanted && seen > 0) return i;
    }
    return kMaxMicros;
  }

 private:
  std::vector<std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
  std::int64_t max_ = 0;
};

}  // namespace huijian::terminals::loadgen
