// libFuzzer target: RtpPacket::parse and the H.264 keyframe check on hostile bytes.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "media/rtp_packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> buffer(data, data + size);
  (void)huijian::media::h264_payload_is_keyframe(buffer);
  auto packet = huijian::media::RtpPacket::parse(buffer);
  if (!packet) {
    return 0;
  }
  const auto payload = packet->payload();
  if (packet->header_size() + payload.size() > size || payload.data() < buffer.data() ||
      packet->bytes().size() != size) {
    std::abort();  // the view must stay inside the buffer
  }
  (void)huijian::media::h264_payload_is_keyframe(payload);
  const auto pt = packet->payload_type();
  const auto sequence = packet->sequence();
  const auto timestamp = packet->timestamp();
  const auto ssrc = packet->ssrc();
  const bool marker = packet->marker();
  packet->set_payload_type(static_cast<std::uint8_t>(pt + 1));
  packet->set_sequence(static_cast<std::uint16_t>(sequence + 1));
  packet->set_timestamp(timestamp + 1);
  packet->set_ssrc(~ssrc);
  auto again = huijian::media::RtpPacket::parse(buffer);
  if (!again || again->marker() != marker || again->ssrc() != ~ssrc ||
      again->payload_type() != ((pt + 1) & 0x7F) || again->header_size() != packet->header_size()) {
    std::abort();  // rewriting header fields must not change the structure
  }
  return 0;
}
