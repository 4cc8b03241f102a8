#include "recorder/video_packet_queue.hpp"

#include <cstring>

namespace huijian::recorder {

namespace {
std::size_t round_up_pow2(std::size_t n) {
  std::size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}
}  // namespace

VideoPacketQueue::VideoPacketQueue(std::size_t capacity)
    : slots_(std::make_unique<Slot[]>(round_up_pow2(capacity < 2 ? 2 : capacity))),
      mask_(round_up_pow2(capacity < 2 ? 2 : capacity) - 1) {}

bool VideoPacketQueue::push(std::span<const std::uint8_t> packet,
                            std::chrono::steady_clock::time_point arrival) noexcept {
  const std::size_t head = head_.load(std::memory_order_relaxed);
  const std::size_t tail = tail_.load(std::memory_order_acquire);
  if (packet.size() > kMaxPacket || head - tail > mask_) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  Slot& slot = slots_[head & mask_];
  slot.arrival_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(arrival.time_since_epoch()).count();
  slot.length = static_cast<std::uint16_t>(packet.size());
  std::memcpy(slot.bytes, packet.data(), packet.size());
  head_.store(head + 1, std::memory_order_release);
  return true;
}

}  // namespace huijian::recorder
