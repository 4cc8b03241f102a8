#pragma once
// The last packets sent on one outgoing stream, already protected, kept by
// sequence number so a receiver's NACK can be answered without asking the
// sender. Fixed size, allocated once; the per-packet path never allocates.

#include <array>
#include <cstdint>
#include <memory>
#include <span>

namespace huijian::media {

class RetransmissionBuffer {
 public:
  static constexpr std::size_t kSlots = 512;             // about 3 s of 4 Mbit/s video in 1200-byte packets
  static constexpr std::size_t kMaxPacket = 1500 + 160;  // an MTU-sized packet plus the SRTP trailer

  RetransmissionBuffer();

  // Keeps a copy of a protected packet; a packet larger than kMaxPacket is not kept.
  void store(std::uint16_t sequence, std::span<const std::uint8_t> protected_packet) noexcept;
  // The stored packet with this sequence number, or an empty span.
  std::span<const std::uint8_t> find(std::uint16_t sequence) const noexcept;

 private:
  struct Slot {
    bool used = false;
    std::uint16_t sequence = 0;
    std::uint16_t length = 0;
    std::array<std::uint8_t, kMaxPacket> bytes;
  };
  std::unique_ptr<Slot[]> slots_;
};

}  // namespace huijian::media
