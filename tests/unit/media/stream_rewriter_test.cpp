#include "media/stream_rewriter.hpp"

#include <catch2/catch.hpp>

using huijian::media::StreamRewriter;

TEST_CASE("StreamRewriter: one source passes sequence and timestamp unchanged", "[rewriter]") {
  StreamRewriter rewriter(3000);
  auto a = rewriter.map(0x1111, 100, 90000);
  auto b = rewriter.map(0x1111, 101, 93000);
  CHECK(a.sequence == 100);
  CHECK(a.timestamp == 90000);
  CHECK(b.sequence == 101);
  CHECK(b.timestamp == 93000);
}

TEST_CASE("StreamRewriter: a new source continues right after the last output", "[rewriter]") {
  StreamRewriter rewriter(3000);
  rewriter.map(0x1111, 65534, 1000);
  rewriter.map(0x1111, 65535, 4000);  // highest so far
  auto switched = rewriter.map(0x2222, 7, 500);
  CHECK(switched.sequence == 0);  // 65535 + 1 wraps to 0
  CHECK(switched.timestamp == 7000);
  auto next = rewriter.map(0x2222, 8, 3500);
  CHECK(next.sequence == 1);
  CHECK(next.timestamp == 10000);
  CHECK(rewriter.source_sequence(1) == 8);
}

TEST_CASE("StreamRewriter: a late packet keeps its place and does not move the highest", "[rewriter]") {
  StreamRewriter rewriter(960);
  rewriter.map(0xAA, 10, 0);
  rewriter.map(0xAA, 12, 1920);
  auto late = rewriter.map(0xAA, 11, 960);
  CHECK(late.sequence == 11);
  auto switched = rewriter.map(0xBB, 500, 0);
  CHECK(switched.sequence == 13);  // after 12, not after 11
}
