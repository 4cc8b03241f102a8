#pragma once
// A counter that one thread writes and others may read (relaxed atomics: a
// consistent-enough snapshot, no read-modify-write on the per-packet path).

#include <atomic>
#include <cstdint>

namespace huijian::media {

using RelaxedCounter = std::atomic<std::uint64_t>;

inline void bump_relaxed(RelaxedCounter& c) noexcept {
  c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

}  // namespace huijian::media
