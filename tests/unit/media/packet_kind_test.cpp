#include "media/packet_kind.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

using huijian::media::classify_datagram;
using huijian::media::PacketKind;

namespace {

// A datagram of `size` bytes starting with `first` and `second`, zero filled.
std::vector<std::uint8_t> datagram(std::uint8_t first, std::uint8_t second, std::size_t size) {
  std::vector<std::uint8_t> bytes(size, 0);
  if (size > 0) {
    bytes[0] = first;
  }
  if (size > 1) {
    bytes[1] = second;
  }
  return bytes;
}

PacketKind kind_of(const std::vector<std::uint8_t>& bytes) { return classify_datagram(bytes); }

}  // namespace

TEST_CASE("classify_datagram: a STUN binding request is STUN", "[packet_kind]") {
  const std::vector<std::uint8_t> binding_request = {
      0x00, 0x01,                                                  // type: Binding Request
      0x00, 0x00,                                                  // message length: 0
      0x21, 0x12, 0xA4, 0x42,                                      // magic cookie
      0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C,  // transaction ID
  };
  CHECK(kind_of(binding_request) == PacketKind::Stun);
  const std::vector<std::uint8_t> truncated(binding_request.begin(), binding_request.end() - 1);
  CHECK(kind_of(truncated) == PacketKind::Unknown);
}

TEST_CASE("classify_datagram: a DTLS handshake record is DTLS", "[packet_kind]") {
  const std::vector<std::uint8_t> record = {
      0x16,                                // content type: handshake (22)
      0xFE, 0xFD,                          // DTLS 1.2
      0x00, 0x00,                          // epoch 0
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // sequence number
      0x00, 0x00,                          // length 0
  };
  CHECK(kind_of(record) == PacketKind::Dtls);
  const std::vector<std::uint8_t> header_cut(record.begin(), record.end() - 1);
  CHECK(kind_of(header_cut) == PacketKind::Unknown);
}

TEST_CASE("classify_datagram: RTP and RTCP are told apart by the second byte", "[packet_kind]") {
  const std::vector<std::uint8_t> rtp = {
      0x80,                    // V=2, no padding/extension/CSRC
      0xE0,                    // marker, PT 96: 224 is above the RTCP range
      0x00, 0x01,              // sequence
      0x00, 0x00, 0x00, 0x00,  // timestamp
      0x11, 0x22, 0x33, 0x44,  // SSRC
  };
  CHECK(kind_of(rtp) == PacketKind::Rtp);
  const std::vector<std::uint8_t> receiver_report = {
      0x80,                    // V=2, RC=0
      0xC9,                    // PT 201 (RR)
      0x00, 0x01,              // length: 1 word after the first
      0x11, 0x22, 0x33, 0x44,  // sender SSRC
  };
  CHECK(kind_of(receiver_report) == PacketKind::Rtcp);
  const std::vector<std::uint8_t> pli = {
      0x81, 0xCE, 0x00, 0x02,  // V=2 FMT=1, PT 206 (PSFB), length 2
      0x11, 0x22, 0x33, 0x44,  // sender SSRC
      0x55, 0x66, 0x77, 0x88,  // media SSRC
  };
  CHECK(kind_of(pli) == PacketKind::Rtcp);
}

TEST_CASE("classify_datagram: boundaries of the first-byte ranges", "[packet_kind]") {
  CHECK(kind_of(datagram(0, 1, 20)) == PacketKind::Stun);
  CHECK(kind_of(datagram(3, 1, 20)) == PacketKind::Stun);
  CHECK(kind_of(datagram(4, 1, 20)) == PacketKind::Unknown);
  CHECK(kind_of(datagram(19, 0, 20)) == PacketKind::Unknown);  // ZRTP
  CHECK(kind_of(datagram(20, 0xFE, 13)) == PacketKind::Dtls);
  CHECK(kind_of(datagram(63, 0xFE, 13)) == PacketKind::Dtls);
  CHECK(kind_of(datagram(64, 0, 20)) == PacketKind::Unknown);  // TURN channel
  CHECK(kind_of(datagram(127, 0x60, 20)) == PacketKind::Unknown);
  CHECK(kind_of(datagram(128, 0x60, 12)) == PacketKind::Rtp);
  CHECK(kind_of(datagram(191, 0x60, 12)) == PacketKind::Rtp);
  CHECK(kind_of(datagram(192, 0x60, 12)) == PacketKind::Unknown);
  CHECK(kind_of(datagram(255, 0x60, 12)) == PacketKind::Unknown);
}

TEST_CASE("classify_datagram: RTCP range of the second byte is 192..223", "[packet_kind]") {
  CHECK(kind_of(datagram(0x80, 191, 12)) == PacketKind::Rtp);
  CHECK(kind_of(datagram(0x80, 192, 8)) == PacketKind::Rtcp);
  CHECK(kind_of(datagram(0x80, 223, 8)) == PacketKind::Rtcp);
  CHECK(kind_of(datagram(0x80, 224, 12)) == PacketKind::Rtp);
}

TEST_CASE("classify_datagram: too short for its kind is Unknown", "[packet_kind]") {
  CHECK(kind_of({}) == PacketKind::Unknown);
  CHECK(kind_of(datagram(0x80, 0x60, 1)) == PacketKind::Unknown);
  CHECK(kind_of(datagram(0x80, 0x60, 11)) == PacketKind::Unknown);  // RTP needs 12
  CHECK(kind_of(datagram(0x80, 0xC9, 7)) == PacketKind::Unknown);   // RTCP needs 8
  CHECK(kind_of(datagram(0x80, 0xC9, 8)) == PacketKind::Rtcp);
  CHECK(kind_of(datagram(0x16, 0xFE, 12)) == PacketKind::Unknown);  // DTLS needs 13
  CHECK(kind_of(datagram(0x00, 0x01, 19)) == PacketKind::Unknown);  // STUN needs 20
}

TEST_CASE("to_string(PacketKind): names every kind", "[packet_kind]") {
  using huijian::media::to_string;
  CHECK(std::string(to_string(PacketKind::Stun)) == "stun");
  CHECK(std::string(to_string(PacketKind::Dtls)) == "dtls");
  CHECK(std::string(to_string(PacketKind::Rtp)) == "rtp");
  CHECK(std::string(to_string(PacketKind::Rtcp)) == "rtcp");
  CHECK(std::string(to_string(PacketKind::Unknown)) == "unknown");
}
