// libFuzzer target: what the relay does with every datagram it receives:
// sort it, then parse it as RTP or RTCP.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "media/packet_kind.hpp"
#include "media/rtcp_packet.hpp"
#include "media/rtp_packet.hpp"

using namespace huijian::media;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> buffer(data, data + size);
  const PacketKind kind = classify_datagram(buffer);
  (void)to_string(kind);
  switch (kind) {
    case PacketKind::Rtp:
      if (auto packet = RtpPacket::parse(buffer)) {
        (void)h264_payload_is_keyframe(packet->payload());
      }
      break;
    case PacketKind::Rtcp:
      rtcp::for_each_block(buffer, [](const rtcp::Block& block) {
        (void)rtcp::is_nack(block);
        (void)rtcp::feedback_media_ssrc(block);
      });
      (void)rtcp::rewrite_ssrcs(buffer, [](std::uint32_t ssrc) { return ssrc + 1; });
      break;
    case PacketKind::Stun:
    case PacketKind::Dtls:
      if (size < 13) {
        std::abort();  // both need at least their header
      }
      break;
    case PacketKind::Unknown:
      break;
  }
  return 0;
}
