#include "media/retransmission_buffer.hpp"

#include <catch2/catch.hpp>
#include <vector>

using huijian::media::RetransmissionBuffer;

TEST_CASE("RetransmissionBuffer: finds what was stored by sequence number", "[rtxbuffer]") {
  RetransmissionBuffer buffer;
  std::vector<std::uint8_t> packet{0x80, 0x66, 0x00, 0x2a, 1, 2, 3};
  buffer.store(42, packet);
  auto found = buffer.find(42);
  REQUIRE(found.size() == packet.size());
  CHECK(std::equal(found.begin(), found.end(), packet.begin()));
  CHECK(buffer.find(43).empty());
}

TEST_CASE("RetransmissionBuffer: an older packet in the same slot is gone once overwritten", "[rtxbuffer]") {
  RetransmissionBuffer buffer;
  std::vector<std::uint8_t> a{1, 1, 1}, b{2, 2};
  buffer.store(7, a);
  buffer.store(static_cast<std::uint16_t>(7 + RetransmissionBuffer::kSlots), b);
  CHECK(buffer.find(7).empty());
  CHECK(buffer.find(static_cast<std::uint16_t>(7 + RetransmissionBuffer::kSlots)).size() == 2);
}

TEST_CASE("RetransmissionBuffer: refuses a packet larger than a slot", "[rtxbuffer]") {
  RetransmissionBuffer buffer;
  std::vector<std::uint8_t> big(RetransmissionBuffer::kMaxPacket + 1, 0xEE);
  buffer.store(9, big);
  CHECK(buffer.find(9).empty());
}
