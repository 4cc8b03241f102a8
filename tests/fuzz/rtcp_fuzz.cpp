// libFuzzer target: compound RTCP walking, SSRC rewriting, filtering and the
// NACK writer round trip on hostile bytes.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <vector>

#include "media/rtcp_packet.hpp"

namespace rtcp = huijian::media::rtcp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> buffer(data, data + size);
  const bool valid = rtcp::validate_compound(buffer);

  std::size_t visited_bytes = 0;
  const bool walked = rtcp::for_each_block(buffer, [&](const rtcp::Block& block) {
    visited_bytes += block.bytes.size();
    (void)rtcp::is_keyframe_request(block);
    (void)rtcp::feedback_media_ssrc(block);
    (void)rtcp::remb_bitrate(block);
    rtcp::for_each_nacked_sequence(block, [](std::uint16_t) {});
  });
  if (walked != valid || (walked && visited_bytes != size)) {
    std::abort();
  }

  // The identity map must leave the bytes as they were.
  const bool rewritten = rtcp::rewrite_ssrcs(buffer, [](std::uint32_t ssrc) { return ssrc; });
  if (std::memcmp(buffer.data(), data, size) != 0 || (rewritten && !valid)) {
    std::abort();
  }
  (void)rtcp::rewrite_ssrcs(buffer, [](std::uint32_t ssrc) { return ssrc ^ 0x5A5A5A5AU; });

  std::array<std::uint8_t, 2048> out{};
  const std::size_t copied = rtcp::copy_blocks_if(std::span<const std::uint8_t>(data, size), out,
                                                  [](const rtcp::Block&) { return true; });
  if (copied != 0 && (copied != size || std::memcmp(out.data(), data, size) != 0)) {
    std::abort();
  }

  // Read the input as a list of lost sequence numbers: NACK round trip.
  std::vector<std::uint16_t> lost;
  for (std::size_t i = 0; i + 1 < size && lost.size() < 200; i += 2) {
    lost.push_back(static_cast<std::uint16_t>((data[i] << 8) | data[i + 1]));
  }
  const std::size_t written = rtcp::write_nack(out, 1, 2, lost);
  if (!lost.empty()) {
    if (written == 0) {
      std::abort();  // 200 pairs fit in 2048 bytes
    }
    std::set<std::uint16_t> seen;
    rtcp::for_each_block(std::span<std::uint8_t>(out.data(), written), [&](const rtcp::Block& block) {
      rtcp::for_each_nacked_sequence(block, [&](std::uint16_t s) { seen.insert(s); });
    });
    if (seen != std::set<std::uint16_t>(lost.begin(), lost.end())) {
      std::abort();
    }
  }
  return 0;
}
