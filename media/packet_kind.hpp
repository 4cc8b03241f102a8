#pragma once
// Sorts one datagram received on the bundled ICE transport into STUN, DTLS,
// RTP or RTCP by its first bytes (RFC 7983, with RTCP told apart from RTP by
// the packet type byte as RFC 5761 section 4 describes).

#include <cstdint>
#include <span>

namespace huijian::media {

enum class PacketKind { Stun, Dtls, Rtp, Rtcp, Unknown };

// First byte 0..3 STUN (needs >= 20 bytes, the STUN header), 20..63 DTLS
// (needs >= 13 bytes, the DTLS record header), 128..191 RTP or RTCP: RTCP when
// the second byte (marker + payload type) is 192..223 (needs >= 8 bytes), else
// RTP (needs >= 12 bytes). Anything else, or too short, is Unknown.
PacketKind classify_datagram(std::span<const std::uint8_t> datagram) noexcept;

// "stun", "dtls", "rtp", "rtcp" or "unknown"; for logs and counters.
const char* to_string(PacketKind kind) noexcept;

}  // namespace huijian::media
