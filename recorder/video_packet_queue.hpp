#pragma once
// A single-producer single-consumer queue of RTP packets with fixed slots:
// the media worker pushes (no allocation, no lock), the recorder's thread
// drains. When the recorder falls behind, new packets are dropped and counted,
// so the relay never waits for the disk.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>

namespace huijian::recorder {

class VideoPacketQueue {
 public:
  static constexpr std::size_t kMaxPacket = 1500;

  struct Slot {
    std::int64_t arrival_ns = 0;  // steady clock
    std::uint16_t length = 0;
    std::uint8_t bytes[kMaxPacket];
  };

  // `capacity` is rounded up to a power of two.
  explicit VideoPacketQueue(std::size_t capacity);
  VideoPacketQueue(const VideoPacketQueue&) = delete;
  VideoPacketQueue& operator=(const VideoPacketQueue&) = delete;

  // Producer side. False (and counted) when the queue is full or the packet too long.
  bool push(std::span<const std::uint8_t> packet, std::chrono::steady_clock::time_point arrival) noexcept;

  // Consumer side: calls f(const Slot&) for every queued packet, oldest
  // first, up to `max`; returns how many.
  template <class F>
  std::size_t drain(F&& f, std::size_t max = SIZE_MAX) {
    std::size_t n = 0;
    std::size_t tail = tail_.load(std::memory_order_relaxed);
    const std::size_t head = head_.load(std::memory_order_acquire);
    while (tail != head && n < max) {
      f(static_cast<const Slot&>(slots_[tail & mask_]));
      ++tail;
      ++n;
      tail_.store(tail, std::memory_order_release);
    }
    return n;
  }

  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  std::size_t capacity() const noexcept { return mask_ + 1; }

 private:
  std::unique_ptr<Slot[]> slots_;
  std::size_t mask_;
  alignas(64) std::atomic<std::size_t> head_{0};  // next slot the producer writes
  alignas(64) std::atomic<std::size_t> tail_{0};  // next slot the consumer reads
  alignas(64) std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace huijian::recorder
