#include "media/retransmission_buffer.hpp"

#include <cstring>

namespace huijian::media {

RetransmissionBuffer::RetransmissionBuffer() : slots_(std::make_unique<Slot[]>(kSlots)) {}

void RetransmissionBuffer::store(std::uint16_t sequence, std::span<const std::uint8_t> protected_packet) noexcept {
  Slot& slot = slots_[sequence % kSlots];
  if (protected_packet.size() > kMaxPacket) {
    slot.used = false;
    return;
  }
  slot.used = true;
  slot.sequence = sequence;
  slot.length = static_cast<std::uint16_t>(protected_packet.size());
  std::memcpy(slot.bytes.data(), protected_packet.data(), protected_packet.size());
}

std::span<const std::uint8_t> RetransmissionBuffer::find(std::uint16_t sequence) const noexcept {
  const Slot& slot = slots_[sequence % kSlots];
  if (!slot.used || slot.sequence != sequence) return {};
  return {slot.bytes.data(), slot.length};
}

}  // namespace huijian::media
