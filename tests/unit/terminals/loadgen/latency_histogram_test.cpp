#include "terminals/loadgen/latency_histogram.hpp"

#include <catch2/catch.hpp>

using namespace huijian::terminals::loadgen;

TEST_CASE("LatencyHistogram: quantiles of 1..1000 µs are the matching ranks") {
  LatencyHistogram h;
  for (int i = 1; i <= 1000; ++i) h.add(i);
  CHECK(h.count() == 1000);
  CHECK(h.quantile(0.5) == 500);
  CHECK(h.quantile(0.99) == 990);
  CHECK(h.quantile(0.999) == 999);
  CHECK(h.quantile(1.0) == 1000);
  CHECK(h.max() == 1000);
}

TEST_CASE("LatencyHistogram: one slow packet in a thousand shows at p99.9, not at p99") {
  LatencyHistogram h;
  for (int i = 0; i < 999; ++i) h.add(200);
  h.add(30'000);
  CHECK(h.quantile(0.99) == 200);
  CHECK(h.quantile(0.9995) == 30'000);
  CHECK(h.max() == 30'000);
}

TEST_CASE("LatencyHistogram: values over 100 ms land in the overflow bucket; negatives count as 0") {
  LatencyHistogram h;
  h.add(-5);
  h.add(250'000);
  CHECK(h.quantile(0.5) == 0);
  CHECK(h.quantile(1.0) == LatencyHistogram::kMaxMicros);
  CHECK(h.max() == 250'000);
}

TEST_CASE("LatencyHistogram: an empty histogram reports 0") {
  LatencyHistogram h;
  CHECK(h.quantile(0.99) == 0);
  CHECK(h.count() == 0);
}
