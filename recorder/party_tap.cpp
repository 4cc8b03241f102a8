#include "recorder/party_tap.hpp"

namespace huijian::recorder {

void PartyTap::on_video_rtp(const media::VideoRtpPacket& packet) noexcept {
  const auto bytes = packet.bytes();
  packets_.fetch_add(1, std::memory_order_relaxed);
  bytes_.fetch_add(bytes.size(), std::memory_order_relaxed);
  if (bytes.size() >= 12) {
    const std::uint32_t ssrc = (std::uint32_t{bytes[8]} << 24) | (std::uint32_t{bytes[9]} << 16) |
                               (std::uint32_t{bytes[10]} << 8) | bytes[11];
    const std::uint64_t key = (std::uint64_t{1} << 40) | (std::uint64_t{bytes[1] & 0x7fu} << 32) | ssrc;
    bool counted = false;
    // One writer (the media worker): find the pair or take a free slot.
    for (auto& w : watched_) {
      std::uint64_t k = w.key.load(std::memory_order_relaxed);
      if (k == 0) {
        w.key.store(key, std::memory_order_release);
        k = key;
      }
      if (k == key) {
        w.packets.fetch_add(1, std::memory_order_relaxed);
        counted = true;
        break;
      }
    }
    if (!counted) other_.fetch_add(1, std::memory_order_relaxed);
  } else {
    other_.fetch_add(1, std::memory_order_relaxed);
  }
  queue_.push(bytes, packet.arrival());
}

std::vector<TapInput> PartyTap::inputs() const {
  std::vector<TapInput> out;
  for (const auto& w : watched_) {
    const std::uint64_t k = w.key.load(std::memory_order_acquire);
    if (k == 0) break;
    out.push_back({static_cast<std::uint32_t>(k), static_cast<std::uint8_t>((k >> 32) & 0x7f),
                   w.packets.load(std::memory_order_relaxed)});
  }
  return out;
}

}  // namespace huijian::recorder
