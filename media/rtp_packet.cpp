#include "media/rtp_packet.hpp"

#include "media/wire_bytes.hpp"

namespace huijian::media {

namespace {
constexpr std::uint8_t kVersion = 2;
constexpr std::size_t kExtensionHeaderSize = 4;  // profile-defined 16 bits + length in words

constexpr std::uint8_t kNalIdr = 5;
constexpr std::uint8_t kNalSps = 7;
constexpr std::uint8_t kNalStapA = 24;
constexpr std::uint8_t kNalFuA = 28;

bool is_keyframe_nal(std::uint8_t nal_type) noexcept { return nal_type == kNalIdr || nal_type == kNalSps; }
}  // namespace

std::optional<RtpLayout> rtp_layout(std::span<const std::uint8_t> bytes) noexcept {
  if (bytes.size() < RtpPacket::kFixedHeaderSize) {
    return std::nullopt;
  }
  const std::uint8_t first = bytes[0];
  if ((first >> 6) != kVersion) {
    return std::nullopt;
  }
  std::size_t header = RtpPacket::kFixedHeaderSize + 4 * std::size_t{static_cast<std::uint8_t>(first & 0x0F)};
  if (bytes.size() < header) {
    return std::nullopt;
  }
  if ((first & 0x10) != 0) {  // X: a header extension follows the CSRCs
    if (bytes.size() < header + kExtensionHeaderSize) {
      return std::nullopt;
    }
    const std::size_t words = wire::load_u16(bytes.data() + header + 2);
    header += kExtensionHeaderSize + 4 * words;
    if (bytes.size() < header) {
      return std::nullopt;
    }
  }
  std::size_t padding = 0;
  if ((first & 0x20) != 0) {  // P: the last byte counts the padding, itself included
    padding = bytes.back();
    if (padding == 0 || padding > bytes.size() - header) {
      return std::nullopt;
    }
  }
  return RtpLayout{header, bytes.size() - header - padding};
}

std::optional<RtpPacket> RtpPacket::parse(std::span<std::uint8_t> bytes) noexcept {
  const auto layout = rtp_layout(bytes);
  if (!layout) return std::nullopt;
  return RtpPacket(bytes, layout->header_size, layout->payload_size);
}

std::uint8_t RtpPacket::payload_type() const noexcept { return bytes_[1] & 0x7F; }
bool RtpPacket::marker() const noexcept { return (bytes_[1] & 0x80) != 0; }
std::uint16_t RtpPacket::sequence() const noexcept { return wire::load_u16(bytes_.data() + 2); }
std::uint32_t RtpPacket::timestamp() const noexcept { return wire::load_u32(bytes_.data() + 4); }
std::uint32_t RtpPacket::ssrc() const noexcept { return wire::load_u32(bytes_.data() + 8); }
std::uint8_t RtpPacket::csrc_count() const noexcept { return bytes_[0] & 0x0F; }
bool RtpPacket::has_extension() const noexcept { return (bytes_[0] & 0x10) != 0; }
bool RtpPacket::has_padding() const noexcept { return (bytes_[0] & 0x20) != 0; }

void RtpPacket::set_payload_type(std::uint8_t payload_type) noexcept {
  bytes_[1] = static_cast<std::uint8_t>((bytes_[1] & 0x80) | (payload_type & 0x7F));
}
void RtpPacket::set_marker(bool marker) noexcept {
  bytes_[1] = static_cast<std::uint8_t>((bytes_[1] & 0x7F) | (marker ? 0x80 : 0x00));
}
void RtpPacket::set_sequence(std::uint16_t sequence) noexcept { wire::store_u16(bytes_.data() + 2, sequence); }
void RtpPacket::set_timestamp(std::uint32_t timestamp) noexcept { wire::store_u32(bytes_.data() + 4, timestamp); }
void RtpPacket::set_ssrc(std::uint32_t ssrc) noexcept { wire::store_u32(bytes_.data() + 8, ssrc); }

bool h264_payload_is_keyframe(std::span<const std::uint8_t> payload) noexcept {
  if (payload.empty()) {
    return false;
  }
  const std::uint8_t nal_type = payload[0] & 0x1F;
  if (nal_type >= 1 && nal_type <= 23) {  // single NAL unit packet
    return is_keyframe_nal(nal_type);
  }
  if (nal_type == kNalStapA) {
    // STAP-A header, then units of [16-bit size][NAL unit].
    std::size_t offset = 1;
    while (offset + 2 <= payload.size()) {
      const std::size_t size = wire::load_u16(payload.data() + offset);
      offset += 2;
      if (size == 0 || size > payload.size() - offset) {
        return false;
      }
      if (is_keyframe_nal(payload[offset] & 0x1F)) {
        return true;
      }
      offset += size;
    }
    return false;
  }
  if (nal_type == kNalFuA) {
    // FU indicator, then FU header: S E R Type.
    if (payload.size() < 2) {
      return false;
    }
    const std::uint8_t fu_header = payload[1];
    return (fu_header & 0x80) != 0 && is_keyframe_nal(fu_header & 0x1F);
  }
  return false;
}

}  // namespace huijian::media
