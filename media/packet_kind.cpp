#include "media/packet_kind.hpp"

namespace huijian::media {

namespace {
constexpr std::size_t kStunHeaderSize = 20;
constexpr std::size_t kDtlsRecordHeaderSize = 13;
constexpr std::size_t kRtpFixedHeaderSize = 12;
constexpr std::size_t kRtcpMinimumSize = 8;  // common header + sender SSRC
}  // namespace

PacketKind classify_datagram(std::span<const std::uint8_t> datagram) noexcept {
  if (datagram.empty()) {
    return PacketKind::Unknown;
  }
  const std::uint8_t first = datagram[0];
  if (first <= 3) {
    return datagram.size() >= kStunHeaderSize ? PacketKind::Stun : PacketKind::Unknown;
  }
  if (first >= 20 && first <= 63) {
    return datagram.size() >= kDtlsRecordHeaderSize ? PacketKind::Dtls : PacketKind::Unknown;
  }
  if (first >= 128 && first <= 191) {
    if (datagram.size() < 2) {
      return PacketKind::Unknown;
    }
    const std::uint8_t second = datagram[1];
    if (second >= 192 && second <= 223) {
      return datagram.size() >= kRtcpMinimumSize ? PacketKind::Rtcp : PacketKind::Unknown;
    }
    return datagram.size() >= kRtpFixedHeaderSize ? PacketKind::Rtp : PacketKind::Unknown;
  }
  return PacketKind::Unknown;
}

const char* to_string(PacketKind kind) noexcept {
  switch (kind) {
    case PacketKind::Stun:
      return "stun";
    case PacketKind::Dtls:
      return "dtls";
    case PacketKind::Rtp:
      return "rtp";
    case PacketKind::Rtcp:
      return "rtcp";
    case PacketKind::Unknown:
      break;
  }
  return "unknown";
}

}  // namespace huijian::media
