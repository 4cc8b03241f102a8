#include "recorder/h264_depacketizer.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

using huijian::recorder::H264Depacketizer;

namespace {

using Bytes = std::vector<std::uint8_t>;
constexpr std::int64_t kMs = 1'000'000;
constexpr std::uint32_t kSsrc = 0x11223344;

const Bytes kSps = {0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40, 0x16};
const Bytes kPps = {0x68, 0xce, 0x3c, 0x80};

// A slice of `size` bytes: IDR or not, the picture's first slice (first_mb_in_slice = 0).
Bytes slice(bool idr, std::size_t size, std::uint8_t fill) {
  Bytes nal(size, fill);
  nal[0] = idr ? 0x65 : 0x41;
  nal[1] = 0x88;
  return nal;
}

Bytes annex_b(const std::vector<Bytes>& nals) {
  Bytes out;
  for (const auto& nal : nals) {
    out.insert(out.end(), {0, 0, 0, 1});
    out.insert(out.end(), nal.begin(), nal.end());
  }
  return out;
}

Bytes rtp(std::uint16_t seq, std::uint32_t timestamp, bool marker, const Bytes& payload, std::uint32_t ssrc = kSsrc) {
  Bytes p = {0x80,
             static_cast<std::uint8_t>((marker ? 0x80 : 0) | 96),
             static_cast<std::uint8_t>(seq >> 8),
             static_cast<std::uint8_t>(seq),
             static_cast<std::uint8_t>(timestamp >> 24),
             static_cast<std::uint8_t>(timestamp >> 16),
             static_cast<std::uint8_t>(timestamp >> 8),
             static_cast<std::uint8_t>(timestamp),
             static_cast<std::uint8_t>(ssrc >> 24),
             static_cast<std::uint8_t>(ssrc >> 16),
             static_cast<std::uint8_t>(ssrc >> 8),
             static_cast<std::uint8_t>(ssrc)};
  p.insert(p.end(), payload.begin(), payload.end());
  return p;
}

Bytes stap_a(const std::vector<Bytes>& nals) {
  Bytes p = {0x78};
  for (const auto& nal : nals) {
    p.push_back(static_cast<std::uint8_t>(nal.size() >> 8));
    p.push_back(static_cast<std::uint8_t>(nal.size()));
    p.insert(p.end(), nal.begin(), nal.end());
  }
  return p;
}

// The NAL unit split into `parts` FU-A payloads.
std::vector<Bytes> fu_a(const Bytes& nal, std::size_t parts) {
  std::vector<Bytes> out;
  const std::size_t body = nal.size() - 1;
  for (std::size_t i = 0; i < parts; ++i) {
    const std::size_t from = 1 + body * i / parts, to = 1 + body * (i + 1) / parts;
    Bytes p = {static_cast<std::uint8_t>((nal[0] & 0xe0) | 28),
               static_cast<std::uint8_t>((i == 0 ? 0x80 : 0) | (i + 1 == parts ? 0x40 : 0) | (nal[0] & 0x1f))};
    p.insert(p.end(), nal.begin() + static_cast<std::ptrdiff_t>(from), nal.begin() + static_cast<std::ptrdiff_t>(to));
    out.push_back(std::move(p));
  }
  return out;
}

struct Packet {
  Bytes bytes;
  std::int64_t arrival_ns;
};

// Numbers and times packets as a 30 fps sender would: one frame's packets share
// an RTP time and an arrival, the last carries the marker.
struct Sender {
  std::uint16_t seq = 1000;
  std::uint32_t timestamp = 90000;
  std::int64_t arrival_ns = 1000 * kMs;
  std::uint32_t ssrc = kSsrc;

  std::vector<Packet> frame(const std::vector<Bytes>& payloads) {
    std::vector<Packet> out;
    for (std::size_t i = 0; i < payloads.size(); ++i)
      out.push_back({rtp(seq++, timestamp, i + 1 == payloads.size(), payloads[i], ssrc), arrival_ns});
    timestamp += 3000;
    arrival_ns += 33 * kMs;
    return out;
  }
  std::vector<Packet> keyframe(std::uint8_t fill = 1, std::size_t size = 3000) {
    std::vector<Bytes> payloads = {stap_a({kSps, kPps})};
    for (auto& p : fu_a(slice(true, size, fill), 3)) payloads.push_back(std::move(p));
    return frame(payloads);
  }
  std::vector<Packet> delta(std::uint8_t fill = 2) { return frame(fu_a(slice(false, 2000, fill), 2)); }
};

struct Frame {
  Bytes data;
  std::int64_t time_ns;
  bool keyframe;
  bool operator==(const Frame&) const = default;
};

struct Harness {
  std::vector<Frame> frames;
  H264Depacketizer depacketizer{[this](const H264Depacketizer::AccessUnit& au) {
    frames.push_back({Bytes(au.data.begin(), au.data.end()), au.time_ns, au.keyframe});
  }};

  void push(const std::vector<Packet>& packets) {
    for (const auto& p : packets) depacketizer.push(p.bytes, p.arrival_ns);
  }
  void push(const Bytes& bytes, std::int64_t arrival_ns) { depacketizer.push(bytes, arrival_ns); }
};

std::vector<Packet> concat(std::vector<std::vector<Packet>> parts) {
  std::vector<Packet> out;
  for (auto& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

}  // namespace

TEST_CASE("H264Depacketizer: FU-A fragments become one NAL unit behind a start code", "[recorder]") {
  Sender s;
  Harness h;
  const Bytes idr = slice(true, 4000, 7);
  std::vector<Bytes> payloads = {stap_a({kSps, kPps})};
  for (auto& p : fu_a(idr, 3)) payloads.push_back(std::move(p));
  h.push(s.frame(payloads));
  const Bytes p = slice(false, 2500, 9);
  h.push(s.frame(fu_a(p, 2)));
  REQUIRE(h.frames.size() == 2);
  CHECK(h.frames[0] == Frame{annex_b({kSps, kPps, idr}), 1000 * kMs, true});
  CHECK(h.frames[1] == Frame{annex_b({p}), 1000 * kMs + 33'333'333, false});
  CHECK(h.depacketizer.take_losses().empty());
  CHECK_FALSE(h.depacketizer.take_keyframe_wanted());
  CHECK(h.depacketizer.stats().frames == 2);
}

TEST_CASE("H264Depacketizer: a STAP-A is split into its NAL units", "[recorder]") {
  Sender s;
  Harness h;
  const Bytes idr = slice(true, 300, 3);
  h.push(s.frame({stap_a({kSps, kPps, idr})}));
  REQUIRE(h.frames.size() == 1);
  CHECK(h.frames[0].data == annex_b({kSps, kPps, idr}));
  CHECK(h.frames[0].keyframe);
}

TEST_CASE("H264Depacketizer: single NAL unit packets make one AU up to the marker", "[recorder]") {
  Sender s;
  Harness h;
  const Bytes idr = slice(true, 900, 3), p = slice(false, 400, 4);
  h.push(s.frame({kSps, kPps, idr}));
  h.push(s.frame({p}));
  REQUIRE(h.frames.size() == 2);
  CHECK(h.frames[0] == Frame{annex_b({kSps, kPps, idr}), 1000 * kMs, true});
  CHECK(h.frames[1] == Frame{annex_b({p}), 1000 * kMs + 33'333'333, false});
}

TEST_CASE("H264Depacketizer: parameter sets repeated between the slices of a picture are left out", "[recorder]") {
  // rtph264pay config-interval=-1 sends SPS and PPS before every IDR slice;
  // h264parse would take the second pair for the start of another picture.
  Sender s;
  Harness h;
  const Bytes aud = {0x09, 0xf0}, sei = {0x06, 0x05, 0x01, 0x00, 0x80};
  Bytes second = slice(true, 2000, 2);
  second[1] = 0x40;  // first_mb_in_slice != 0: the same picture's second slice
  const Bytes first = slice(true, 2000, 1);
  const auto first_fu = fu_a(first, 2), second_fu = fu_a(second, 2);
  h.push(s.frame({stap_a({aud, kSps, kPps, sei}), first_fu[0], first_fu[1], stap_a({kSps, kPps}), second_fu[0],
                  second_fu[1]}));
  REQUIRE(h.frames.size() == 1);
  CHECK(h.frames[0].data == annex_b({kSps, kPps, first, second}));  // the AUD and SEI are left out
  CHECK(h.depacketizer.stats().repeated_parameter_sets == 2);
  // A parameter set that differs is the sender's to send, and stays.
  Bytes other_pps = kPps;
  other_pps.back() = 0x81;
  h.push(s.frame({stap_a({kSps, kPps}), first_fu[0], first_fu[1], stap_a({kSps, other_pps}), second_fu[0],
                  second_fu[1]}));
  REQUIRE(h.frames.size() == 2);
  CHECK(h.frames[1].data == annex_b({kSps, kPps, first, other_pps, second}));
}

TEST_CASE("H264Depacketizer: only slices and parameter sets reach the file", "[recorder]") {
  Sender s;
  Harness h;
  const Bytes aud = {0x09, 0xf0}, sei = {0x06, 0x05, 0x01, 0x00, 0x80};
  // A subset SPS (MVC, type 15) with a damaged extension crashed GStreamer 1.22's h264parse.
  const Bytes subset_sps = {0x0f, 0x76, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0x80};
  const Bytes end_of_stream = {0x0b};
  Bytes long_sei(1200, 0x55);
  long_sei[0] = 0x06;
  const Bytes idr = slice(true, 2400, 1);
  const auto idr_fu = fu_a(idr, 2), sei_fu = fu_a(long_sei, 2);  // fragments under kMaxPayload
  // Left-out units first in the AU still tell that the AU begins whole.
  h.push(s.frame({stap_a({aud, subset_sps, sei}), sei_fu[0], sei_fu[1], stap_a({kSps, kPps, end_of_stream}),
                  idr_fu[0], idr_fu[1]}));
  REQUIRE(h.frames.size() == 1);
  CHECK(h.frames[0] == Frame{annex_b({kSps, kPps, idr}), 1000 * kMs, true});
  CHECK(h.depacketizer.stats().left_out == 5);
  // A lone subset SPS as a single NAL unit packet between pictures changes nothing.
  h.push(s.frame({subset_sps}));
  const Bytes p = slice(false, 800, 2);
  h.push(s.frame({p}));
  REQUIRE(h.frames.size() == 2);
  CHECK(h.frames[1].data == annex_b({p}));
  CHECK(h.depacketizer.take_losses().empty());
  CHECK_FALSE(h.depacketizer.take_keyframe_wanted());

  SECTION("a data partition is part of a picture: without its decoder the picture is broken") {
    Bytes partition = slice(false, 500, 3);
    partition[0] = 0x42;  // type 2
    h.push(s.frame({partition}));
    h.push(s.frame({slice(false, 500, 4)}));
    CHECK(h.frames.size() == 2);
    CHECK(h.depacketizer.take_keyframe_wanted());
  }
}

TEST_CASE("H264Depacketizer: a start code inside a NAL unit breaks its picture", "[recorder]") {
  Sender s;
  Harness h;
  h.push(s.keyframe());
  REQUIRE(h.frames.size() == 1);
  // The escape 00 00 03 is how H.264 carries such runs; it stays.
  Bytes escaped = slice(false, 1000, 2);
  escaped[500] = 0;
  escaped[501] = 0;
  escaped[502] = 3;
  escaped[503] = 1;
  h.push(s.frame(fu_a(escaped, 2)));
  REQUIRE(h.frames.size() == 2);
  CHECK(h.frames[1].data == annex_b({escaped}));

  for (std::uint8_t third : {0, 1, 2}) {
    INFO("00 00 0" << int{third});
    Harness g;
    Sender t;
    g.push(t.keyframe());
    // 00 00 01 0f across the two fragments: in Annex-B, a subset SPS nobody sent.
    Bytes bad = slice(false, 1000, 2);
    bad[499] = 0;
    bad[500] = 0;
    bad[501] = third;
    bad[502] = 0x0f;
    g.push(t.frame(fu_a(bad, 2)));
    g.push(t.delta(4));
    REQUIRE(g.frames.size() == 1);
    CHECK(g.depacketizer.stats().start_codes_inside == 1);
    CHECK(g.depacketizer.take_keyframe_wanted());
    g.push(t.keyframe(5));
    REQUIRE(g.frames.size() == 2);
    CHECK(g.frames[1].keyframe);
    CHECK(g.depacketizer.take_losses().size() == 1);
  }
  // A parameter set that holds one is not kept either: the next keyframe brings its own.
  Bytes bad_sps = kSps;
  bad_sps.insert(bad_sps.end(), {0, 0, 1, 0x0f, 0x80});
  h.push(s.frame({stap_a({bad_sps, kPps}), fu_a(slice(true, 1000, 6), 2)[0], fu_a(slice(true, 1000, 6), 2)[1]}));
  CHECK(h.frames.size() == 2);
  CHECK(h.depacketizer.stats().start_codes_inside == 1);
}

TEST_CASE("H264Depacketizer: an AU also ends where the RTP time changes", "[recorder]") {
  Harness h;
  const Bytes idr = slice(true, 500, 3), p = slice(false, 400, 4);
  h.push(rtp(1, 9000, false, stap_a({kSps, kPps, idr})), 0);
  h.push(rtp(2, 12000, false, p), 33 * kMs);
  REQUIRE(h.frames.size() == 1);
  CHECK(h.frames[0].data == annex_b({kSps, kPps, idr}));
  h.depacketizer.finish();  // the last AU never ended: not written
  CHECK(h.frames.size() == 1);
  CHECK(h.depacketizer.take_losses().empty());
}

TEST_CASE("H264Depacketizer: packets out of order give the same frames", "[recorder]") {
  Sender s;
  const auto packets = concat({s.keyframe(1), s.delta(2), s.delta(3), s.keyframe(4), s.delta(5)});
  Harness in_order;
  in_order.push(packets);
  auto swapped = packets;
  std::swap(swapped[1], swapped[2]);  // inside the first keyframe
  std::swap(swapped[4], swapped[5]);  // across the first two frames' boundary
  std::swap(swapped[swapped.size() - 2], swapped[swapped.size() - 1]);  // the marker first
  Harness reordered;
  reordered.push(swapped);
  REQUIRE(in_order.frames.size() == 5);
  CHECK(reordered.frames == in_order.frames);
  CHECK(reordered.depacketizer.stats().lost == 0);
  CHECK(reordered.depacketizer.take_losses().empty());
}

TEST_CASE("H264Depacketizer: a lost FU-A fragment drops the frames up to the next IDR, once reported", "[recorder]") {
  Sender s;
  Harness h;
  h.push(concat({s.keyframe(1), s.delta(2)}));
  CHECK(h.frames.size() == 2);
  CHECK_FALSE(h.depacketizer.take_keyframe_wanted());
  auto broken = s.frame(fu_a(slice(false, 3000, 3), 3));
  broken.erase(broken.begin() + 1);  // the middle fragment never comes
  h.push(broken);
  h.push(concat({s.delta(4), s.delta(5), s.keyframe(6), s.delta(7), s.delta(8)}));
  REQUIRE(h.frames.size() == 5);
  CHECK(h.frames[2].keyframe);
  CHECK(h.frames[2].data == annex_b({kSps, kPps, slice(true, 3000, 6)}));
  CHECK(h.frames[3].data == annex_b({slice(false, 2000, 7)}));
  CHECK(h.depacketizer.take_keyframe_wanted());
  const auto losses = h.depacketizer.take_losses();
  REQUIRE(losses.size() == 1);
  CHECK(losses[0].from_ms == h.frames[1].time_ns / kMs);  // the last frame written
  CHECK(losses[0].to_ms == h.frames[2].time_ns / kMs);    // the keyframe that resumed
  CHECK(losses[0].to_ms == 1166);
  CHECK(h.depacketizer.stats().lost == 1);
  CHECK(h.depacketizer.stats().dropped_frames == 3);
}

TEST_CASE("H264Depacketizer: a hole is given up on 64 packets later, or 100 ms after", "[recorder]") {
  SECTION("by count") {
    Harness h;
    std::uint16_t seq = 10;
    std::uint32_t ts = 0;
    std::int64_t at = 0;
    h.push(rtp(seq++, ts, true, stap_a({kSps, kPps, slice(true, 100, 1)})), at);
    ++seq;  // lost
    for (int i = 0; i < 63; ++i) h.push(rtp(seq++, ts += 90, true, slice(false, 50, 2)), at += kMs / 2);
    CHECK(h.depacketizer.stats().lost == 0);
    h.push(rtp(seq++, ts += 90, true, stap_a({kSps, kPps, slice(true, 100, 3)})), at += kMs / 2);
    CHECK(h.depacketizer.stats().lost == 1);
    REQUIRE(h.frames.size() == 2);
    CHECK(h.frames[1].keyframe);
    CHECK(h.depacketizer.take_losses().size() == 1);
  }
  SECTION("by time, also without a later packet") {
    Sender s;
    Harness h;
    h.push(s.keyframe(1));
    s.delta();  // lost entirely
    const auto resume = s.keyframe(3);
    h.push(resume);
    CHECK(h.frames.size() == 1);
    h.depacketizer.advance(resume[0].arrival_ns + 99 * kMs);
    CHECK(h.frames.size() == 1);
    h.depacketizer.advance(resume[0].arrival_ns + 100 * kMs);
    REQUIRE(h.frames.size() == 2);
    CHECK(h.frames[1].time_ns == 1066'666'666);
    const auto losses = h.depacketizer.take_losses();
    REQUIRE(losses.size() == 1);
    CHECK(losses[0].from_ms == 1000);
    CHECK(losses[0].to_ms == 1066);
  }
}

TEST_CASE("H264Depacketizer: sequence numbers and RTP times wrap", "[recorder]") {
  Sender s;
  s.seq = 65530;
  s.timestamp = 0xffffffffu - 4000;
  auto packets = concat({s.keyframe(1), s.delta(2), s.delta(3), s.delta(4), s.delta(5)});
  std::swap(packets[5], packets[6]);  // 65535 after 0
  CHECK(std::uint16_t(packets[5].bytes[2] << 8 | packets[5].bytes[3]) == 0);
  Harness h;
  h.push(packets);
  REQUIRE(h.frames.size() == 5);
  for (std::size_t i = 0; i < h.frames.size(); ++i)
    CHECK(h.frames[i].time_ns == 1000 * kMs + static_cast<std::int64_t>(i) * 100'000'000 / 3);
  CHECK(h.depacketizer.stats().lost == 0);
  CHECK(h.depacketizer.stats().late == 0);
}

TEST_CASE("H264Depacketizer: a stray sequence number is dropped, a new numbering is followed", "[recorder]") {
  Sender s;
  Harness h;
  h.push(concat({s.keyframe(1), s.delta(2)}));
  h.push(rtp(static_cast<std::uint16_t>(s.seq + 20000), s.timestamp, true, slice(false, 100, 9)), s.arrival_ns);
  h.push(rtp(static_cast<std::uint16_t>(s.seq - 5000), s.timestamp, true, slice(false, 100, 9)), s.arrival_ns);
  h.push(s.delta(3));
  CHECK(h.frames.size() == 3);
  CHECK(h.depacketizer.take_losses().empty());
  CHECK(h.depacketizer.stats().lost == 0);
  for (const std::uint16_t jump : {20000, 40000}) {  // ahead, then behind
    s.seq = static_cast<std::uint16_t>(s.seq + jump);
    h.push(concat({s.delta(4), s.delta(5), s.keyframe(6), s.delta(7)}));
  }
  REQUIRE(h.frames.size() == 7);
  CHECK(h.frames[3].keyframe);
  CHECK(h.frames[5].keyframe);
  CHECK(h.depacketizer.take_losses().size() == 2);
}

TEST_CASE("H264Depacketizer: duplicates and late packets are dropped", "[recorder]") {
  Sender s;
  const auto packets = concat({s.keyframe(1), s.delta(2), s.delta(3)});
  Harness once, twice;
  once.push(packets);
  for (const auto& p : packets) {
    twice.push(p.bytes, p.arrival_ns);
    twice.push(p.bytes, p.arrival_ns);
  }
  twice.push(packets[2].bytes, packets.back().arrival_ns);  // long after it was written
  CHECK(twice.frames == once.frames);
  CHECK(twice.depacketizer.stats().late == packets.size() + 1);
  CHECK(twice.depacketizer.take_losses().empty());
}

TEST_CASE("H264Depacketizer: times follow the RTP clock, re-anchored when it strays from the arrivals", "[recorder]") {
  Harness h;
  const auto key = stap_a({kSps, kPps, slice(true, 100, 1)});
  const auto delta = slice(false, 100, 2);
  std::uint16_t seq = 1;
  h.push(rtp(seq++, 1000, true, key), 1000 * kMs);
  h.push(rtp(seq++, 4000, true, delta), 1040 * kMs);           // jitter: the RTP clock rules
  h.push(rtp(seq++, 4000 + 900000, true, delta), 1066 * kMs);  // +10 s of RTP time: re-anchored
  h.push(rtp(seq++, 7000 + 900000, true, delta), 1100 * kMs);
  h.push(rtp(seq++, 10000 + 900000, true, delta), 4100 * kMs);  // a 3 s pause
  h.push(rtp(seq++, 10000 + 720000, true, delta), 4133 * kMs);  // the clock went back 2 s
  h.push(rtp(seq++, 7000 + 720000, true, delta), 4140 * kMs);   // 33 ms back: bumped, not re-anchored
  REQUIRE(h.frames.size() == 7);
  std::vector<std::int64_t> times;
  for (const auto& f : h.frames) times.push_back(f.time_ns);
  CHECK(times == std::vector<std::int64_t>{1000 * kMs, 1000 * kMs + 33'333'333, 1066 * kMs, 1066 * kMs + 33'333'333,
                                           4100 * kMs, 4133 * kMs, 4134 * kMs});
}

TEST_CASE("H264Depacketizer: nothing is written before the first keyframe", "[recorder]") {
  SECTION("delta frames and a half frame first") {
    Sender s;
    Harness h;
    auto first = s.delta(1);
    first.erase(first.begin());  // joined mid-frame: an FU-A without its start
    h.push(concat({first, s.delta(2), s.keyframe(3), s.delta(4)}));
    REQUIRE(h.frames.size() == 2);
    CHECK(h.frames[0].keyframe);
    CHECK(h.depacketizer.take_losses().empty());
    CHECK(h.depacketizer.stats().dropped_frames == 2);
  }
  SECTION("parameter sets an earlier AU brought go in front of the first IDR") {
    Sender s;
    Harness h;
    const Bytes aud = {0x09, 0xf0}, idr = slice(true, 200, 5);
    h.push(s.frame({slice(true, 200, 4)}));  // no parameter sets known: h264parse could not start
    CHECK(h.frames.empty());
    h.push(s.frame({kSps, kPps}));
    h.push(s.frame({aud, idr}));
    REQUIRE(h.frames.size() == 1);
    CHECK(h.frames[0].data == annex_b({kSps, kPps, idr}));  // the AUD is left out
  }
}

TEST_CASE("H264Depacketizer: a stream that ends before a keyframe resumes reports the loss to the last arrival",
          "[recorder]") {
  Sender s;
  Harness h;
  h.push(concat({s.keyframe(1), s.delta(2)}));
  s.delta();  // lost
  const auto last = concat({s.delta(4), s.delta(5)});
  h.push(last);
  h.depacketizer.finish();
  CHECK(h.frames.size() == 2);
  const auto losses = h.depacketizer.take_losses();
  REQUIRE(losses.size() == 1);
  CHECK(losses[0].from_ms == 1033);
  CHECK(losses[0].to_ms == last.back().arrival_ns / kMs);
  h.push(s.keyframe(6));  // after finish(): ignored
  CHECK(h.frames.size() == 2);
}

TEST_CASE("H264Depacketizer: an AU over the size limit is dropped as a loss", "[recorder]") {
  Sender s;
  Harness h;
  h.push(s.keyframe(1));
  const std::size_t size = H264Depacketizer::kMaxAccessUnit + 1000;
  h.push(s.frame(fu_a(slice(false, size, 2), size / 1400 + 1)));
  h.push(concat({s.delta(3), s.keyframe(4)}));
  REQUIRE(h.frames.size() == 2);
  CHECK(h.frames[1].keyframe);
  CHECK(h.depacketizer.stats().oversized == 1);
  CHECK(h.depacketizer.take_losses().size() == 1);
}

TEST_CASE("H264Depacketizer: another SSRC is ignored unless it goes on", "[recorder]") {
  Sender s;
  Harness h;
  h.push(s.keyframe(1));
  h.push(rtp(7, 1234, true, stap_a({kSps, kPps, slice(true, 100, 9)}), 0xdead), 1010 * kMs);  // a stray
  h.push(s.delta(2));
  CHECK(h.frames.size() == 2);
  CHECK(h.depacketizer.stats().foreign == 1);
  Sender restarted;
  restarted.ssrc = 0xbeef;
  restarted.seq = 5;
  restarted.arrival_ns = 2000 * kMs;
  h.push(concat({restarted.delta(3), restarted.delta(4), restarted.delta(5), restarted.delta(6),
                 restarted.keyframe(7), restarted.delta(8)}));
  REQUIRE(h.frames.size() == 4);
  CHECK(h.frames[2].keyframe);
  CHECK(h.frames[2].time_ns == restarted.arrival_ns - 2 * 33 * kMs);
  CHECK(h.depacketizer.take_losses().size() == 1);
}

TEST_CASE("H264Depacketizer: garbage never crashes and never makes a frame", "[recorder]") {
  Harness h;
  SECTION("random bytes") {
    std::mt19937 random(20261123);
    std::uniform_int_distribution<int> byte(0, 255), length(0, 1500);
    for (int i = 0; i < 20000; ++i) {
      Bytes p(static_cast<std::size_t>(length(random)));
      for (auto& b : p) b = static_cast<std::uint8_t>(byte(random));
      h.push(p, i * kMs);
      if (i % 10 == 0) h.depacketizer.advance(i * kMs);
    }
    h.depacketizer.finish();
    CHECK(h.frames.empty());
  }
  SECTION("truncated and inconsistent RTP headers") {
    const Bytes good = rtp(1, 0, true, stap_a({kSps, kPps, slice(true, 100, 1)}));
    for (std::size_t n = 0; n < 12; ++n) h.push(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n)), 0);
    Bytes csrc = good;
    csrc[0] = 0x8f;  // 15 CSRCs that are not there
    h.push(Bytes(csrc.begin(), csrc.begin() + 40), 0);
    Bytes extension = rtp(2, 0, true, {0x00, 0x00, 0xff, 0xff});
    extension[0] |= 0x10;  // an extension longer than the packet
    h.push(extension, 0);
    Bytes padding = good;
    padding[0] |= 0x20;
    padding.back() = 0;  // padding of zero bytes
    h.push(padding, 0);
    padding.back() = 255;  // more padding than payload
    h.push(padding, 0);
    h.push(rtp(3, 0, true, {}), 0);  // no payload
    Bytes version = good;
    version[0] = 0x40;
    h.push(version, 0);
    CHECK(h.depacketizer.stats().malformed == 18);
    CHECK(h.frames.empty());
  }
  SECTION("FU-A without a start, bad STAP-A lengths, damaged NAL units") {
    Sender s;
    const auto fragments = fu_a(slice(true, 3000, 1), 3);
    h.push(s.frame({stap_a({kSps, kPps}), fragments[2]}));  // the end alone
    h.push(s.frame({stap_a({kSps, kPps}), fragments[1], fragments[2]}));
    auto stap = stap_a({kSps, kPps, slice(true, 100, 1)});
    stap[1] = 0xff;  // a length past the end
    h.push(s.frame({stap}));
    stap = stap_a({kSps, kPps, slice(true, 100, 1)});
    stap.push_back(0x00);  // a length cut in half
    h.push(s.frame({stap}));
    h.push(s.frame({{0x78, 0x00, 0x00, 0x67}}));   // a length of zero
    h.push(s.frame({{0x7c}}));                     // an FU-A header cut off
    h.push(s.frame({{0x7c, 0x9d, 0x01}}));         // an FU-A of a FU-A
    auto damaged = stap_a({kSps, kPps, slice(true, 100, 1)});
    damaged[0] |= 0x80;  // forbidden_zero_bit
    h.push(s.frame({damaged}));
    h.push(s.frame({{0x79, 0x00, 0x01, 0x02}}));   // STAP-B: never negotiated
    h.depacketizer.finish();
    CHECK(h.frames.empty());
    CHECK(h.depacketizer.stats().malformed >= 8);
  }
  SECTION("random payloads behind good headers, then a good keyframe") {
    std::mt19937 random(7);
    std::uniform_int_distribution<int> byte(0, 255), length(1, 1400);
    Sender s;
    for (int i = 0; i < 5000; ++i) {
      Bytes payload(static_cast<std::size_t>(length(random)));
      for (auto& b : payload) b = static_cast<std::uint8_t>(byte(random));
      if (i % 3 == 0) payload[0] = static_cast<std::uint8_t>(24 + 4 * (byte(random) & 1));  // STAP-A or FU-A
      h.push(rtp(s.seq++, s.timestamp, byte(random) < 64, payload), s.arrival_ns);
      if (byte(random) < 32) s.timestamp += static_cast<std::uint32_t>(byte(random) * 1000);
      s.arrival_ns += kMs;
    }
    std::int64_t last = -1;
    for (const auto& f : h.frames) {
      // Whatever came of it is Annex-B with rising times.
      CHECK(Bytes(f.data.begin(), f.data.begin() + 4) == Bytes{0, 0, 0, 1});
      CHECK(f.time_ns > last);
      last = f.time_ns;
    }
    const auto written = h.frames.size();
    s.timestamp += 3000;  // not the RTP time of the AU the garbage left open
    h.push(concat({s.keyframe(1), s.delta(2)}));
    REQUIRE(h.frames.size() == written + 2);
    CHECK(h.frames[written].data == annex_b({kSps, kPps, slice(true, 3000, 1)}));
  }
}
