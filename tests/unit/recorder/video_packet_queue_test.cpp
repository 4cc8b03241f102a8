#include "recorder/video_packet_queue.hpp"

#include <catch2/catch.hpp>

#include <vector>

using huijian::recorder::VideoPacketQueue;

namespace {

std::vector<std::uint8_t> packet(std::uint8_t fill, std::size_t size) { return std::vector<std::uint8_t>(size, fill); }

}  // namespace

TEST_CASE("VideoPacketQueue: hands packets out in order with their arrival time", "[recorder]") {
  VideoPacketQueue q(4);
  const auto t0 = std::chrono::steady_clock::time_point(std::chrono::milliseconds(1000));
  REQUIRE(q.push(packet(1, 100), t0));
  REQUIRE(q.push(packet(2, 1200), t0 + std::chrono::milliseconds(5)));
  std::vector<std::pair<std::uint8_t, std::size_t>> seen;
  std::vector<std::int64_t> times;
  CHECK(q.drain([&](const VideoPacketQueue::Slot& s) {
    seen.emplace_back(s.bytes[0], s.length);
    times.push_back(s.arrival_ns);
  }) == 2);
  CHECK(seen == std::vector<std::pair<std::uint8_t, std::size_t>>{{1, 100}, {2, 1200}});
  CHECK(times == std::vector<std::int64_t>{1'000'000'000, 1'005'000'000});
  CHECK(q.drain([](const VideoPacketQueue::Slot&) {}) == 0);
}

TEST_CASE("VideoPacketQueue: drops and counts what does not fit instead of waiting", "[recorder]") {
  VideoPacketQueue q(3);  // rounded up to 4 slots
  CHECK(q.capacity() == 4);
  const auto now = std::chrono::steady_clock::now();
  for (std::uint8_t i = 0; i < 4; ++i) CHECK(q.push(packet(i, 10), now));
  CHECK_FALSE(q.push(packet(9, 10), now));                       // full
  CHECK_FALSE(q.push(packet(9, VideoPacketQueue::kMaxPacket + 1), now));  // longer than a datagram
  CHECK(q.dropped() == 2);
  std::vector<std::uint8_t> first;
  q.drain([&](const VideoPacketQueue::Slot& s) { first.push_back(s.bytes[0]); }, 2);
  CHECK(first == std::vector<std::uint8_t>{0, 1});
  CHECK(q.push(packet(4, 10), now));  // room again after draining
  std::vector<std::uint8_t> rest;
  q.drain([&](const VideoPacketQueue::Slot& s) { rest.push_back(s.bytes[0]); });
  CHECK(rest == std::vector<std::uint8_t>{2, 3, 4});
}
