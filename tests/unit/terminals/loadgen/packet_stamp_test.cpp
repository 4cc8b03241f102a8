#include "terminals/loadgen/packet_stamp.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace huijian::terminals::loadgen;

TEST_CASE("PacketStamp: a stamp written into a payload reads back with its time and sender") {
  std::vector<std::uint8_t> payload(1000, 0xAB);
  REQUIRE(write_stamp(payload, PacketStamp{0x0102030405060708ull, 77}));
  // Only the last 16 bytes change: the NAL header and slice start stay.
  for (std::size_t i = 0; i < payload.size() - kStampSize; ++i) REQUIRE(payload[i] == 0xAB);
  // Big-endian send time at the start of the mark.
  CHECK(payload[payload.size() - 16] == 0x01);
  CHECK(payload[payload.size() - 9] == 0x08);
  auto stamp = read_stamp(payload);
  REQUIRE(stamp);
  CHECK(stamp->sent_ns == 0x0102030405060708ull);
  CHECK(stamp->sender == 77);
}

TEST_CASE("PacketStamp: a changed byte of the mark makes it unreadable") {
  std::vector<std::uint8_t> payload(200, 0);
  REQUIRE(write_stamp(payload, PacketStamp{123456789, 3}));
  for (std::size_t i = payload.size() - kStampSize; i < payload.size(); ++i) {
    auto copy = payload;
    copy[i] ^= 0x10;
    CHECK_FALSE(read_stamp(copy));
  }
}

TEST_CASE("PacketStamp: payloads shorter than the minimum are neither stamped nor read") {
  std::vector<std::uint8_t> small(kMinStampedPayload - 1, 0);
  CHECK_FALSE(write_stamp(small, PacketStamp{1, 1}));
  CHECK_FALSE(read_stamp(small));
}

TEST_CASE("PacketStamp: clip bytes without a mark are not taken for one") {
  std::vector<std::uint8_t> payload(1200);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(i * 31 + 7);
  CHECK_FALSE(read_stamp(payload));
}
