#include "terminals/loadgen/packet_stamp.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace huijian::terminals::loadgen;

TEST_CASE("PacketStamp: a stamp written into a payload reads back with its time and sender") {
  std::vector<std::uint8_t> payload(1000, 0xAB);
  REQUIRE(write_stamp(payload, PacketStamp{0x0102030405060708ull, 77}));
  // Only the last kStampSize bytes change: the NAL header and slice start stay.
  for (std::size_t i = 0; i < payload.size() - kStampSize; ++i) REQUIRE(payload[i] == 0xAB);
  // Big-endian send time, 7 bits a byte, at the start of the mark: its last byte holds the low 7 bits.
  CHECK(payload[payload.size() - kStampSize + 9] == (0x80 | 0x08));
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

TEST_CASE("PacketStamp: no byte of a mark is zero, so H.264 slice data never gains a start code") {
  // Small senders and times with zero bytes are the case that used to write 00 00 00 01.
  for (std::uint32_t sender : {0u, 1u, 2u, 256u, 0x01000000u, 0xFFFFFFFFu})
    for (std::uint64_t sent : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{0x0000000100000000ull},
                               ~std::uint64_t{0}}) {
      std::vector<std::uint8_t> payload(100, 0);
      REQUIRE(write_stamp(payload, PacketStamp{sent, sender}));
      for (std::size_t i = payload.size() - kStampSize; i < payload.size(); ++i) REQUIRE(payload[i] != 0);
      auto stamp = read_stamp(payload);
      REQUIRE(stamp);
      CHECK(stamp->sent_ns == sent);
      CHECK(stamp->sender == sender);
    }
}
