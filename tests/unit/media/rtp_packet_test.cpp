#include "media/rtp_packet.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

using huijian::media::h264_payload_is_keyframe;
using huijian::media::RtpPacket;

namespace {

std::vector<std::uint8_t> simple_packet() {
  return {
      0x80,                    // V=2, P=0, X=0, CC=0
      0xE0,                    // M=1, PT=96
      0x12, 0x34,              // sequence 0x1234
      0x00, 0x01, 0x5F, 0x90,  // timestamp 90000
      0xDE, 0xAD, 0xBE, 0xEF,  // SSRC
      0x65, 0x88, 0x84,        // payload: IDR slice NAL header and two bytes
  };
}

// CSRCs, a one-byte header extension and padding around a 3-byte payload.
std::vector<std::uint8_t> full_packet() {
  return {
      0xB2,                    // V=2, P=1, X=1, CC=2
      0x6F,                    // M=0, PT=111
      0x00, 0x01,              // sequence 1
      0x00, 0x00, 0x00, 0x10,  // timestamp 16
      0x11, 0x22, 0x33, 0x44,  // SSRC
      0xAA, 0xAA, 0xAA, 0xAA,  // CSRC 1
      0xBB, 0xBB, 0xBB, 0xBB,  // CSRC 2
      0xBE, 0xDE, 0x00, 0x01,  // extension profile 0xBEDE (RFC 8285 one-byte), length 1 word
      0x10, 0xAB, 0x00, 0x00,  // element id 1 len 1 value 0xAB, two padding bytes
      0x01, 0x02, 0x03,        // payload
      0x00, 0x00, 0x03,        // padding: 3 bytes, the last one counts them
  };
}

}  // namespace

TEST_CASE("RtpPacket: reads the fixed header fields", "[rtp]") {
  auto bytes = simple_packet();
  const auto packet = RtpPacket::parse(bytes);
  REQUIRE(packet);
  CHECK(packet->payload_type() == 96);
  CHECK(packet->marker());
  CHECK(packet->sequence() == 0x1234);
  CHECK(packet->timestamp() == 90000);
  CHECK(packet->ssrc() == 0xDEADBEEF);
  CHECK(packet->header_size() == 12);
  CHECK(packet->payload().size() == 3);
  CHECK(packet->payload()[0] == 0x65);
  CHECK(packet->bytes().size() == bytes.size());
  CHECK(packet->bytes().data() == bytes.data());
}

TEST_CASE("RtpPacket: skips CSRCs and the header extension, drops the padding", "[rtp]") {
  auto bytes = full_packet();
  const auto packet = RtpPacket::parse(bytes);
  REQUIRE(packet);
  CHECK(packet->csrc_count() == 2);
  CHECK(packet->has_extension());
  CHECK(packet->has_padding());
  CHECK_FALSE(packet->marker());
  CHECK(packet->payload_type() == 111);
  CHECK(packet->header_size() == 28);  // 12 + 2*4 CSRC + 4 extension header + 4 extension body
  const auto payload = packet->payload();
  REQUIRE(payload.size() == 3);
  CHECK(payload[0] == 0x01);
  CHECK(payload[1] == 0x02);
  CHECK(payload[2] == 0x03);
  CHECK(packet->bytes().size() == bytes.size());
}

TEST_CASE("RtpPacket: setters rewrite the buffer in place and keep the marker", "[rtp]") {
  auto bytes = simple_packet();
  auto packet = RtpPacket::parse(bytes);
  REQUIRE(packet);
  packet->set_payload_type(102);
  packet->set_sequence(0xFFFE);
  packet->set_timestamp(0x01020304);
  packet->set_ssrc(0xCAFEBABE);
  const std::vector<std::uint8_t> expected_header = {
      0x80,                    // unchanged
      0xE6,                    // M=1 kept, PT=102
      0xFF, 0xFE,              // sequence
      0x01, 0x02, 0x03, 0x04,  // timestamp
      0xCA, 0xFE, 0xBA, 0xBE,  // SSRC
  };
  CHECK(std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 12) == expected_header);
  CHECK(bytes[12] == 0x65);  // payload untouched
  const auto reread = RtpPacket::parse(bytes);
  REQUIRE(reread);
  CHECK(reread->payload_type() == 102);
  CHECK(reread->marker());
  CHECK(reread->sequence() == 0xFFFE);
  CHECK(reread->timestamp() == 0x01020304);
  CHECK(reread->ssrc() == 0xCAFEBABE);

  packet->set_marker(false);
  packet->set_payload_type(0xFF);  // only 7 bits count
  CHECK(bytes[1] == 0x7F);
}

TEST_CASE("RtpPacket: rejects a packet shorter than the fixed header", "[rtp]") {
  auto bytes = simple_packet();
  bytes.resize(11);
  CHECK_FALSE(RtpPacket::parse(bytes));
  std::vector<std::uint8_t> empty;
  CHECK_FALSE(RtpPacket::parse(empty));
}

TEST_CASE("RtpPacket: rejects a version other than 2", "[rtp]") {
  auto bytes = simple_packet();
  bytes[0] = 0x40;  // V=1
  CHECK_FALSE(RtpPacket::parse(bytes));
  bytes[0] = 0xC0;  // V=3
  CHECK_FALSE(RtpPacket::parse(bytes));
}

TEST_CASE("RtpPacket: rejects a CSRC count beyond the length", "[rtp]") {
  auto bytes = simple_packet();  // 15 bytes
  bytes[0] = 0x81;               // CC=1 needs 16 bytes of header
  CHECK_FALSE(RtpPacket::parse(bytes));
  bytes.push_back(0x00);  // now exactly 16: a header with no payload is fine
  const auto packet = RtpPacket::parse(bytes);
  REQUIRE(packet);
  CHECK(packet->payload().empty());
}

TEST_CASE("RtpPacket: rejects a header extension longer than the packet", "[rtp]") {
  auto bytes = full_packet();
  bytes[22] = 0x00;
  bytes[23] = 0x05;  // extension length 5 words: past the end
  CHECK_FALSE(RtpPacket::parse(bytes));
  bytes.resize(22);  // X set but the extension header itself cut
  bytes[0] = 0x92;   // V=2 X=1 CC=2, no padding
  CHECK_FALSE(RtpPacket::parse(bytes));
}

TEST_CASE("RtpPacket: rejects padding larger than the payload or zero", "[rtp]") {
  auto bytes = full_packet();  // payload 3 + padding 3 after a 28-byte header
  bytes.back() = 7;            // 7 > 6 bytes after the header
  CHECK_FALSE(RtpPacket::parse(bytes));
  bytes.back() = 0;  // a padding count of 0 is malformed
  CHECK_FALSE(RtpPacket::parse(bytes));
  bytes.back() = 6;  // padding eats the whole payload: valid, empty payload
  const auto packet = RtpPacket::parse(bytes);
  REQUIRE(packet);
  CHECK(packet->payload().empty());
}

TEST_CASE("h264_payload_is_keyframe: single NAL units", "[rtp]") {
  const std::vector<std::uint8_t> idr = {0x65, 0x88};      // F=0 NRI=3 type 5
  const std::vector<std::uint8_t> sps = {0x67, 0x42};      // type 7
  const std::vector<std::uint8_t> pps = {0x68, 0xCE};      // type 8
  const std::vector<std::uint8_t> slice = {0x41, 0x9A};    // type 1, non-IDR
  CHECK(h264_payload_is_keyframe(idr));
  CHECK(h264_payload_is_keyframe(sps));
  CHECK_FALSE(h264_payload_is_keyframe(pps));
  CHECK_FALSE(h264_payload_is_keyframe(slice));
  CHECK_FALSE(h264_payload_is_keyframe({}));
}

TEST_CASE("h264_payload_is_keyframe: STAP-A carrying an SPS", "[rtp]") {
  const std::vector<std::uint8_t> stap_a = {
      0x78,                    // STAP-A (24), NRI=3
      0x00, 0x03, 0x67, 0x42, 0xC0,  // size 3: SPS
      0x00, 0x02, 0x68, 0xCE,  // size 2: PPS
  };
  CHECK(h264_payload_is_keyframe(stap_a));
  const std::vector<std::uint8_t> no_key = {
      0x78,
      0x00, 0x02, 0x68, 0xCE,  // PPS
      0x00, 0x02, 0x06, 0x05,  // SEI
  };
  CHECK_FALSE(h264_payload_is_keyframe(no_key));
  const std::vector<std::uint8_t> overrun = {
      0x78,
      0x00, 0x09, 0x67, 0x42,  // size 9 but only 2 bytes follow: stop, not a keyframe
  };
  CHECK_FALSE(h264_payload_is_keyframe(overrun));
  const std::vector<std::uint8_t> idr_second = {
      0x78,
      0x00, 0x02, 0x06, 0x05,  // SEI
      0x00, 0x02, 0x65, 0x88,  // IDR
  };
  CHECK(h264_payload_is_keyframe(idr_second));
}

TEST_CASE("h264_payload_is_keyframe: FU-A counts only the start fragment", "[rtp]") {
  const std::vector<std::uint8_t> start_idr = {0x7C, 0x85, 0x00};   // FU-A (28), S=1, type 5
  const std::vector<std::uint8_t> middle_idr = {0x7C, 0x05, 0x00};  // S=0
  const std::vector<std::uint8_t> end_idr = {0x7C, 0x45, 0x00};     // E=1
  const std::vector<std::uint8_t> start_slice = {0x7C, 0x81, 0x00};  // S=1, type 1
  const std::vector<std::uint8_t> cut = {0x7C};                      // no FU header
  CHECK(h264_payload_is_keyframe(start_idr));
  CHECK_FALSE(h264_payload_is_keyframe(middle_idr));
  CHECK_FALSE(h264_payload_is_keyframe(end_idr));
  CHECK_FALSE(h264_payload_is_keyframe(start_slice));
  CHECK_FALSE(h264_payload_is_keyframe(cut));
}
