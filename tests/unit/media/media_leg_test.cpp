#include "media/media_leg.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

using huijian::media::DatagramSink;
using huijian::media::kSrtpMaxTrailer;
using huijian::media::MediaKind;
using huijian::media::MediaLeg;
using huijian::media::PacketKind;
using huijian::media::RelayCounterSet;
using huijian::media::SrtpProfile;
using huijian::media::SrtpSession;
using huijian::media::srtp_master_key_length;

namespace {

using Bytes = std::vector<std::uint8_t>;

// What each terminal sends (announced in its offer) and what the relay sends it from.
constexpr std::uint32_t kAudioFromA = 0x1111AAAA, kVideoFromA = 0x2222AAAA;
constexpr std::uint32_t kAudioFromB = 0x1111BBBB, kVideoFromB = 0x2222BBBB;
constexpr std::uint32_t kAudioToA = 0xA0A0A0A1, kVideoToA = 0xA0A0A0A2;
constexpr std::uint32_t kAudioToB = 0xB0B0B0B1, kVideoToB = 0xB0B0B0B2;
// Payload types differ per terminal, as two offers may choose them.
constexpr std::uint8_t kOpusA = 111, kH264A = 96;
constexpr std::uint8_t kOpusB = 109, kH264B = 102;

Bytes key_salt(SrtpProfile profile, std::uint8_t seed) {
  Bytes key(srtp_master_key_length(profile));
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(seed + 11 * i);
  return key;
}

// Collects what a leg sends, in order.
class MemorySink final : public DatagramSink {
 public:
  bool send(std::span<const std::uint8_t> datagram) noexcept override {
    try {
      sent.emplace_back(datagram.begin(), datagram.end());
    } catch (...) {
      return false;
    }
    return true;
  }
  std::vector<Bytes> sent;
};

void put_u16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
void put_u32(Bytes& b, std::uint32_t v) {
  put_u16(b, static_cast<std::uint16_t>(v >> 16));
  put_u16(b, static_cast<std::uint16_t>(v));
}
std::uint32_t get_u32(const Bytes& b, std::size_t at) {
  return (std::uint32_t{b.at(at)} << 24) | (std::uint32_t{b.at(at + 1)} << 16) | (std::uint32_t{b.at(at + 2)} << 8) |
         b.at(at + 3);
}
std::uint16_t get_u16(const Bytes& b, std::size_t at) {
  return static_cast<std::uint16_t>((b.at(at) << 8) | b.at(at + 1));
}

Bytes rtp(std::uint8_t payload_type, std::uint16_t sequence, std::uint32_t timestamp, std::uint32_t ssrc,
          bool marker = false, std::size_t payload_size = 40) {
  Bytes p{0x80,  // V=2, P=0, X=0, CC=0
          static_cast<std::uint8_t>((marker ? 0x80 : 0x00) | payload_type)};
  put_u16(p, sequence);
  put_u32(p, timestamp);
  put_u32(p, ssrc);
  for (std::size_t i = 0; i < payload_size; ++i) p.push_back(static_cast<std::uint8_t>(0x40 + i));
  return p;
}

// Generic NACK (RFC 4585 6.2.1) for `pid` and the bitmask of the 16 after it.
Bytes nack(std::uint32_t sender, std::uint32_t media, std::uint16_t pid, std::uint16_t blp) {
  Bytes p{0x81, 205};  // V=2, FMT=1 (generic NACK), PT=205 (RTPFB)
  put_u16(p, 3);       // length: 4 words - 1
  put_u32(p, sender);
  put_u32(p, media);
  put_u16(p, pid);
  put_u16(p, blp);
  return p;
}

// Picture loss indication (RFC 4585 6.3.1).
Bytes pli(std::uint32_t sender, std::uint32_t media) {
  Bytes p{0x81, 206};  // V=2, FMT=1 (PLI), PT=206 (PSFB)
  put_u16(p, 2);       // length: 3 words - 1
  put_u32(p, sender);
  put_u32(p, media);
  return p;
}

// REMB (draft-alvestrand-rmcat-remb) of 1 000 000 bit/s for one SSRC.
Bytes remb(std::uint32_t sender, std::uint32_t ssrc) {
  Bytes p{0x8f, 206};  // V=2, FMT=15 (application layer feedback), PT=206 (PSFB)
  put_u16(p, 5);       // length: 6 words - 1
  put_u32(p, sender);
  put_u32(p, 0);                              // media source: unused
  p.insert(p.end(), {'R', 'E', 'M', 'B'});    // unique identifier
  p.insert(p.end(), {0x01, 0x18, 0x3d, 0x09});  // 1 SSRC; exp 6, mantissa 15625: 1 000 000 bit/s
  put_u32(p, ssrc);
  return p;
}

// Bytes as hex, so a failed comparison prints something readable.
std::string hex(const Bytes& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

std::optional<Bytes> run(SrtpSession& session, Bytes packet, bool protect, bool rtcp) {
  const std::size_t length = packet.size();
  packet.resize(length + kSrtpMaxTrailer);
  auto n = protect ? (rtcp ? session.protect_rtcp(packet, length) : session.protect_rtp(packet, length))
                   : (rtcp ? session.unprotect_rtcp(packet, length) : session.unprotect_rtp(packet, length));
  if (!n) return std::nullopt;
  packet.resize(*n);
  return packet;
}

// Two legs of one meeting, linked and keyed as after DTLS, and two SRTP
// sessions that play the terminals A and B.
struct Meeting {
  explicit Meeting(SrtpProfile profile, bool link = true)
      : leg_a(counters, sink_a, 4000),
        leg_b(counters, sink_b, 4000),
        terminal_a(profile, key_salt(profile, 0x10), key_salt(profile, 0x20)),
        terminal_b(profile, key_salt(profile, 0x30), key_salt(profile, 0x40)) {
    leg_a.add_section({MediaKind::Audio, kOpusA, kAudioToA, true, {kAudioFromA}});
    leg_a.add_section({MediaKind::Video, kH264A, kVideoToA, true, {kVideoFromA}});
    leg_b.add_section({MediaKind::Audio, kOpusB, kAudioToB, true, {kAudioFromB}});
    leg_b.add_section({MediaKind::Video, kH264B, kVideoToB, true, {kVideoFromB}});
    // The relay receives with what the terminal sends with, and the other way round.
    leg_a.set_srtp(SrtpSession(profile, key_salt(profile, 0x20), key_salt(profile, 0x10)));
    leg_b.set_srtp(SrtpSession(profile, key_salt(profile, 0x40), key_salt(profile, 0x30)));
    if (link) {
      leg_a.set_partner(&leg_b);
      leg_b.set_partner(&leg_a);
    }
  }

  // Terminal A (or B) sends a packet: protected with its key, handed to its leg as ICE would.
  PacketKind a_sends_rtp(const Bytes& packet) { return leg_a.receive(*run(terminal_a, packet, true, false)); }
  PacketKind b_sends_rtp(const Bytes& packet) { return leg_b.receive(*run(terminal_b, packet, true, false)); }
  PacketKind a_sends_rtcp(const Bytes& packet) { return leg_a.receive(*run(terminal_a, packet, true, true)); }
  PacketKind b_sends_rtcp(const Bytes& packet) { return leg_b.receive(*run(terminal_b, packet, true, true)); }

  RelayCounterSet counters;
  MemorySink sink_a;  // towards terminal A
  MemorySink sink_b;  // towards terminal B
  MediaLeg leg_a;
  MediaLeg leg_b;
  SrtpSession terminal_a;
  SrtpSession terminal_b;
};

std::uint64_t get(const RelayCounterSet::Counter& c) { return c.load(); }

}  // namespace

TEST_CASE("MediaLeg: forwards a video packet to the partner with the partner's SSRC, payload type and sequence",
          "[media_leg]") {
  const auto profile = GENERATE(SrtpProfile::AeadAes128Gcm, SrtpProfile::AesCm128HmacSha1_80);
  Meeting m(profile);
  const Bytes sent = rtp(kH264A, 1000, 90000, kVideoFromA, true, 1188);

  CHECK(m.a_sends_rtp(sent) == PacketKind::Rtp);

  REQUIRE(m.sink_b.sent.size() == 1);
  CHECK(m.sink_a.sent.empty());
  auto got = run(m.terminal_b, m.sink_b.sent[0], false, false);
  REQUIRE(got);
  REQUIRE(got->size() == sent.size());
  CHECK((*got)[1] == (0x80 | kH264B));         // marker kept, B's payload type
  CHECK(get_u16(*got, 2) == 1000);             // one source: sequence passes unchanged
  CHECK(get_u32(*got, 4) == 90000);            // and so does the timestamp
  CHECK(get_u32(*got, 8) == kVideoToB);        // the relay's SSRC towards B
  CHECK(std::equal(got->begin() + 12, got->end(), sent.begin() + 12));  // payload untouched
  CHECK(get(m.counters.rtp_forwarded) == 1);
  CHECK(get(m.counters.video_forwarded) == 1);
  CHECK(get(m.counters.audio_forwarded) == 0);
}

TEST_CASE("MediaLeg: forwards audio to the partner's audio stream with its payload type", "[media_leg]") {
  Meeting m(SrtpProfile::AeadAes128Gcm);
  m.b_sends_rtp(rtp(kOpusB, 7, 960, kAudioFromB));
  m.b_sends_rtp(rtp(kOpusB, 8, 1920, kAudioFromB));

  REQUIRE(m.sink_a.sent.size() == 2);
  auto second = run(m.terminal_a, m.sink_a.sent[1], false, false);
  REQUIRE(second);
  CHECK(((*second)[1] & 0x7f) == kOpusA);
  CHECK(get_u16(*second, 2) == 8);
  CHECK(get_u32(*second, 8) == kAudioToA);
  CHECK(get(m.counters.audio_forwarded) == 2);
}

TEST_CASE("MediaLeg: what it sends is encrypted for the partner's key only", "[media_leg]") {
  const auto profile = GENERATE(SrtpProfile::AeadAes128Gcm, SrtpProfile::AesCm128HmacSha1_80);
  Meeting m(profile);
  const Bytes sent = rtp(kH264A, 5, 3000, kVideoFromA, false, 200);
  m.a_sends_rtp(sent);

  REQUIRE(m.sink_b.sent.size() == 1);
  const Bytes& wire = m.sink_b.sent[0];
  CHECK(wire.size() == sent.size() + (profile == SrtpProfile::AeadAes128Gcm ? 16 : 10));  // the tag
  CHECK(std::search(wire.begin(), wire.end(), sent.begin() + 12, sent.begin() + 44) == wire.end());  // no plaintext
  CHECK_FALSE(run(m.terminal_a, wire, false, false));  // A's keys do not open B's stream
  CHECK(run(m.terminal_b, wire, false, false));
}

TEST_CASE("MediaLeg: answers a NACK from the retransmission buffer with the bytes it sent", "[media_leg]") {
  const auto profile = GENERATE(SrtpProfile::AeadAes128Gcm, SrtpProfile::AesCm128HmacSha1_80);
  Meeting m(profile);
  for (std::uint16_t seq = 1000; seq < 1005; ++seq) m.a_sends_rtp(rtp(kH264A, seq, 3000u * seq, kVideoFromA));
  REQUIRE(m.sink_b.sent.size() == 5);

  // B lost 1002 and 1003 of the relay's stream towards it.
  m.b_sends_rtcp(nack(kVideoFromB, kVideoToB, 1002, 0x0001));

  REQUIRE(m.sink_b.sent.size() == 7);
  CHECK(hex(m.sink_b.sent[5]) == hex(m.sink_b.sent[2]));  // the same protected bytes again
  CHECK(hex(m.sink_b.sent[6]) == hex(m.sink_b.sent[3]));
  CHECK(get(m.counters.nacks_answered) == 2);
  CHECK(m.sink_a.sent.empty());  // answered here, not forwarded to the sender
  CHECK(get(m.counters.rtcp_forwarded) == 0);
}

TEST_CASE("MediaLeg: a NACK for a sequence it no longer holds is not answered", "[media_leg]") {
  Meeting m(SrtpProfile::AeadAes128Gcm);
  m.a_sends_rtp(rtp(kH264A, 10, 0, kVideoFromA));
  m.b_sends_rtcp(nack(kVideoFromB, kVideoToB, 9, 0x0000));       // never sent
  m.b_sends_rtcp(nack(kVideoFromB, kAudioToB, 10, 0x0000));      // audio keeps no buffer
  CHECK(m.sink_b.sent.size() == 1);
  CHECK(get(m.counters.nacks_answered) == 0);
}

TEST_CASE("MediaLeg: NACKs the sender for a short gap in its video", "[media_leg]") {
  Meeting m(SrtpProfile::AesCm128HmacSha1_80);
  m.a_sends_rtp(rtp(kH264A, 1000, 0, kVideoFromA));
  m.a_sends_rtp(rtp(kH264A, 1003, 0, kVideoFromA));  // 1001 and 1002 lost on the way in

  REQUIRE(m.sink_a.sent.size() == 1);
  auto got = run(m.terminal_a, m.sink_a.sent[0], false, true);
  REQUIRE(got);
  CHECK(hex(*got) == hex(nack(kVideoToA, kVideoFromA, 1001, 0x0001)));
  CHECK(m.sink_b.sent.size() == 2);  // both packets still forwarded
}

TEST_CASE("MediaLeg: asks for a keyframe instead of NACKing a long gap", "[media_leg]") {
  Meeting m(SrtpProfile::AeadAes128Gcm);
  m.a_sends_rtp(rtp(kH264A, 1000, 0, kVideoFromA));
  m.a_sends_rtp(rtp(kH264A, 1100, 0, kVideoFromA));

  REQUIRE(m.sink_a.sent.size() == 1);
  auto got = run(m.terminal_a, m.sink_a.sent[0], false, true);
  REQUIRE(got);
  CHECK(hex(*got) == hex(pli(kVideoToA, kVideoFromA)));
  CHECK(get(m.counters.keyframe_requests) == 1);
}

TEST_CASE("MediaLeg: forwards a PLI to the partner's sender with both SSRCs mapped", "[media_leg]") {
  const auto profile = GENERATE(SrtpProfile::AeadAes128Gcm, SrtpProfile::AesCm128HmacSha1_80);
  Meeting m(profile);
  m.a_sends_rtp(rtp(kH264A, 1, 0, kVideoFromA));
  m.b_sends_rtp(rtp(kH264B, 1, 0, kVideoFromB));
  m.sink_a.sent.clear();
  m.sink_b.sent.clear();

  // B asks for a keyframe of the stream the relay sends it.
  m.b_sends_rtcp(pli(kVideoFromB, kVideoToB));

  REQUIRE(m.sink_a.sent.size() == 1);
  CHECK(m.sink_b.sent.empty());
  auto got = run(m.terminal_a, m.sink_a.sent[0], false, true);
  REQUIRE(got);
  // A sees it come from the relay's stream towards A, about A's own video.
  CHECK(hex(*got) == hex(pli(kVideoToA, kVideoFromA)));
  CHECK(get(m.counters.rtcp_forwarded) == 1);
  CHECK(get(m.counters.keyframe_requests) == 1);
}

TEST_CASE("MediaLeg: forwards the partner's REMB with SSRCs mapped and notes when", "[media_leg]") {
  Meeting m(SrtpProfile::AeadAes128Gcm);
  m.a_sends_rtp(rtp(kH264A, 1, 0, kVideoFromA));
  m.b_sends_rtp(rtp(kH264B, 1, 0, kVideoFromB));
  m.sink_a.sent.clear();
  CHECK(m.leg_a.last_forwarded_remb() == MediaLeg::Clock::time_point{});

  const auto before = MediaLeg::Clock::now();
  m.b_sends_rtcp(remb(kVideoFromB, kVideoToB));

  REQUIRE(m.sink_a.sent.size() == 1);
  auto got = run(m.terminal_a, m.sink_a.sent[0], false, true);
  REQUIRE(got);
  CHECK(hex(*got) == hex(remb(kVideoToA, kVideoFromA)));
  CHECK(m.leg_a.last_forwarded_remb() >= before);                       // A's leg: A got a REMB
  CHECK(m.leg_b.last_forwarded_remb() == MediaLeg::Clock::time_point{});
}

TEST_CASE("MediaLeg: sends its own PLI and REMB to its terminal once secure", "[media_leg]") {
  Meeting m(SrtpProfile::AesCm128HmacSha1_80);
  m.leg_a.request_keyframe();
  m.leg_a.send_own_remb();

  REQUIRE(m.sink_a.sent.size() == 2);
  auto first = run(m.terminal_a, m.sink_a.sent[0], false, true);
  auto second = run(m.terminal_a, m.sink_a.sent[1], false, true);
  REQUIRE(first);
  REQUIRE(second);
  CHECK(hex(*first) == hex(pli(kVideoToA, kVideoFromA)));  // the announced SSRC, nothing learned yet
  REQUIRE(second->size() == 24);
  CHECK(get_u32(*second, 20) == kVideoFromA);
  const unsigned exponent = (*second)[17] >> 2;
  const std::uint64_t mantissa = ((*second)[17] & 3u) << 16 | get_u16(*second, 18);
  CHECK((mantissa << exponent) == 4'000'000);  // video_bitrate_kbps 4000
}

TEST_CASE("MediaLeg: counts media with no routed destination and sends nothing", "[media_leg]") {
  SECTION("no partner") {
    Meeting m(SrtpProfile::AeadAes128Gcm, false);
    m.a_sends_rtp(rtp(kH264A, 1, 0, kVideoFromA));
    CHECK(get(m.counters.dropped_unrouted) == 1);
    CHECK(m.sink_a.sent.empty());
    CHECK(m.sink_b.sent.empty());
  }
  SECTION("an SSRC and payload type the offer did not name") {
    Meeting m(SrtpProfile::AeadAes128Gcm);
    m.a_sends_rtp(rtp(77, 1, 0, 0x12345678));
    CHECK(get(m.counters.dropped_unrouted) == 1);
    CHECK(m.sink_b.sent.empty());
  }
  SECTION("a partner that is not secure yet") {
    RelayCounterSet counters;
    MemorySink sink_a, sink_b;
    MediaLeg a(counters, sink_a, 4000), b(counters, sink_b, 4000);
    a.add_section({MediaKind::Video, kH264A, kVideoToA, true, {kVideoFromA}});
    b.add_section({MediaKind::Video, kH264B, kVideoToB, true, {kVideoFromB}});
    const auto profile = SrtpProfile::AeadAes128Gcm;
    a.set_srtp(SrtpSession(profile, key_salt(profile, 1), key_salt(profile, 2)));
    a.set_partner(&b);
    b.set_partner(&a);
    SrtpSession terminal(profile, key_salt(profile, 2), key_salt(profile, 1));
    a.receive(*run(terminal, rtp(kH264A, 1, 0, kVideoFromA), true, false));
    CHECK(get(counters.dropped_unrouted) == 1);
    CHECK(sink_b.sent.empty());
  }
  SECTION("a partner section the relay may not send on") {
    RelayCounterSet counters;
    MemorySink sink_a, sink_b;
    MediaLeg a(counters, sink_a, 4000), b(counters, sink_b, 4000);
    const auto profile = SrtpProfile::AeadAes128Gcm;
    a.add_section({MediaKind::Audio, kOpusA, kAudioToA, true, {kAudioFromA}});
    b.add_section({MediaKind::Audio, kOpusB, kAudioToB, false, {kAudioFromB}});  // B offered sendonly
    a.set_srtp(SrtpSession(profile, key_salt(profile, 1), key_salt(profile, 2)));
    b.set_srtp(SrtpSession(profile, key_salt(profile, 3), key_salt(profile, 4)));
    a.set_partner(&b);
    SrtpSession terminal(profile, key_salt(profile, 2), key_salt(profile, 1));
    a.receive(*run(terminal, rtp(kOpusA, 1, 0, kAudioFromA), true, false));
    CHECK(get(counters.dropped_unrouted) == 1);
    CHECK(sink_b.sent.empty());
  }
}

TEST_CASE("MediaLeg: learns an unannounced SSRC by payload type", "[media_leg]") {
  Meeting m(SrtpProfile::AeadAes128Gcm);
  m.a_sends_rtp(rtp(kH264A, 1, 0, 0x5EED5EED));
  REQUIRE(m.sink_b.sent.size() == 1);
  auto got = run(m.terminal_b, m.sink_b.sent[0], false, false);
  REQUIRE(got);
  CHECK(get_u32(*got, 8) == kVideoToB);
  CHECK(get(m.counters.dropped_unrouted) == 0);
}

TEST_CASE("MediaLeg: a tampered packet is counted in dropped_srtp and not forwarded", "[media_leg]") {
  const auto profile = GENERATE(SrtpProfile::AeadAes128Gcm, SrtpProfile::AesCm128HmacSha1_80);
  Meeting m(profile);
  const Bytes wire = *run(m.terminal_a, rtp(kH264A, 1, 0, kVideoFromA), true, false);
  Bytes tampered = wire;
  tampered[20] ^= 0x01;  // one payload bit

  CHECK(m.leg_a.receive(tampered) == PacketKind::Rtp);
  CHECK(get(m.counters.dropped_srtp) == 1);
  CHECK(m.sink_b.sent.empty());
  CHECK(get(m.counters.rtp_forwarded) == 0);

  m.leg_a.receive(wire);  // the genuine one still passes
  CHECK(m.sink_b.sent.size() == 1);
}

TEST_CASE("MediaLeg: a replayed packet is counted in dropped_srtp and not forwarded twice", "[media_leg]") {
  Meeting m(SrtpProfile::AesCm128HmacSha1_80);
  const Bytes wire = *run(m.terminal_a, rtp(kH264A, 1, 0, kVideoFromA), true, false);
  m.leg_a.receive(wire);
  m.leg_a.receive(wire);
  CHECK(m.sink_b.sent.size() == 1);
  CHECK(get(m.counters.dropped_srtp) == 1);
}

TEST_CASE("MediaLeg: drops media that arrives before its keys in dropped_srtp", "[media_leg]") {
  RelayCounterSet counters;
  MemorySink sink;
  MediaLeg leg(counters, sink, 4000);
  leg.add_section({MediaKind::Video, kH264A, kVideoToA, true, {kVideoFromA}});
  CHECK_FALSE(leg.secure());
  CHECK(leg.receive(rtp(kH264A, 1, 0, kVideoFromA)) == PacketKind::Rtp);
  CHECK(get(counters.dropped_srtp) == 1);
  leg.request_keyframe();  // not secure: nothing to send it with
  CHECK(sink.sent.empty());
}

TEST_CASE("MediaLeg: hands DTLS back to its caller and counts STUN and garbage as unknown", "[media_leg]") {
  Meeting m(SrtpProfile::AeadAes128Gcm);
  const Bytes dtls{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};  // handshake record header, DTLS 1.2
  Bytes stun(20, 0);                                                // binding request header
  stun[1] = 0x01;
  const Bytes garbage{0xff, 0x00, 0x01};

  CHECK(m.leg_a.receive(dtls) == PacketKind::Dtls);
  CHECK(m.leg_a.receive(stun) == PacketKind::Stun);
  CHECK(m.leg_a.receive(garbage) == PacketKind::Unknown);
  CHECK(get(m.counters.dropped_unknown) == 2);
  CHECK(get(m.counters.dropped_srtp) == 0);
  CHECK(m.sink_a.sent.empty());
  CHECK(m.sink_b.sent.empty());
}

TEST_CASE("MediaLeg: a datagram larger than 1500 bytes is counted as malformed", "[media_leg]") {
  Meeting m(SrtpProfile::AeadAes128Gcm);
  Bytes big = rtp(kH264A, 1, 0, kVideoFromA, false, 1600);
  CHECK(m.leg_a.receive(big) == PacketKind::Rtp);
  CHECK(get(m.counters.dropped_malformed) == 1);
  CHECK(m.sink_b.sent.empty());
}

namespace {

// Keeps what a leg hands its video tap.
class MemoryTap final : public huijian::media::VideoTap {
 public:
  void on_video_rtp(const huijian::media::VideoRtpPacket& packet) noexcept override {
    try {
      seen.emplace_back(packet.bytes().begin(), packet.bytes().end());
    } catch (...) {
    }
  }
  std::vector<Bytes> seen;
};

}  // namespace

TEST_CASE("MediaLeg: its video tap gets the terminal's video as sent and never its audio", "[media_leg]") {
  Meeting m(SrtpProfile::AeadAes128Gcm);
  auto tap = std::make_shared<MemoryTap>();
  m.leg_a.set_video_tap(tap);
  const Bytes video = rtp(kH264A, 40, 9000, kVideoFromA, true, 1000);
  m.a_sends_rtp(rtp(kOpusA, 1, 960, kAudioFromA));
  m.a_sends_rtp(video);
  m.a_sends_rtp(rtp(kOpusA, 2, 1920, kAudioFromA));
  m.b_sends_rtp(rtp(kH264B, 7, 0, kVideoFromB));  // the other terminal's video: not this leg's

  REQUIRE(tap->seen.size() == 1);
  CHECK(hex(tap->seen[0]) == hex(video));  // the terminal's own SSRC, payload type and sequence
  CHECK(get(m.counters.audio_forwarded) == 2);

  SECTION("also while no partner takes it") {
    m.leg_a.set_partner(nullptr);
    m.a_sends_rtp(rtp(kH264A, 41, 12000, kVideoFromA));
    CHECK(tap->seen.size() == 2);
  }
  SECTION("not sound sent with the picture's SSRC, nor anything else the answer did not choose for it") {
    const auto video_before = get(m.counters.video_forwarded);
    m.a_sends_rtp(rtp(kOpusA, 41, 12000, kVideoFromA, true, 200));  // the picture's SSRC, Opus's payload type
    m.a_sends_rtp(rtp(kH264A, 3, 2880, kAudioFromA));                // the sound's SSRC, H.264's payload type
    m.a_sends_rtp(rtp(77, 42, 12000, kVideoFromA));                  // a payload type nobody chose
    CHECK(tap->seen.size() == 1);
    CHECK(get(m.counters.dropped_payload_type) == 3);
    CHECK(get(m.counters.dropped_unrouted) == 0);
    CHECK(get(m.counters.audio_forwarded) == 2);
    CHECK(get(m.counters.video_forwarded) == video_before);
    // The stream goes on as before.
    m.a_sends_rtp(rtp(kH264A, 43, 15000, kVideoFromA));
    CHECK(tap->seen.size() == 2);
    CHECK(get(m.counters.video_forwarded) == video_before + 1);
  }
  SECTION("and nothing once it is detached") {
    m.leg_a.set_video_tap(nullptr);
    m.a_sends_rtp(rtp(kH264A, 41, 12000, kVideoFromA));
    CHECK(tap->seen.size() == 1);
  }
}

namespace {

using huijian::media::SectionRole;

// What the relay sends the officer's console from, and the console's payload
// types; what the officer's microphone sends; the relay's officer-voice
// streams towards the terminals.
constexpr std::uint32_t kLawyerPictureToO = 0x0F0F0001, kDetaineePictureToO = 0x0F0F0002;
constexpr std::uint32_t kMicFromO = 0x3333CCCC;
constexpr std::uint32_t kVoiceToA = 0xA0A0A0A3, kVoiceToB = 0xB0B0B0B3;
constexpr std::uint8_t kH264O = 98, kOpusO = 100, kVoiceOpusA = 112;

// The meeting of A (the lawyer) and B (the detainee), both with an
// officer-voice section (only A's uses its own payload type), watched by an
// officer's leg O.
struct Watched : Meeting {
  explicit Watched(SrtpProfile profile = SrtpProfile::AeadAes128Gcm)
      : Meeting(profile), leg_o(counters, sink_o, 4000), console(profile, key_salt(profile, 0x50), key_salt(profile, 0x60)) {
    MediaLeg::SectionConfig voice_a{MediaKind::Audio, kVoiceOpusA, kVoiceToA, true, {}};
    voice_a.role = SectionRole::OfficerVoice;
    voice_a.relay_receives = false;
    leg_a.add_section(voice_a);
    MediaLeg::SectionConfig voice_b{MediaKind::Audio, kOpusB, kVoiceToB, true, {}};
    voice_b.role = SectionRole::OfficerVoice;
    voice_b.relay_receives = false;
    leg_b.add_section(voice_b);

    MediaLeg::SectionConfig mic{MediaKind::Audio, kOpusO, 0x0F0F0003, false, {kMicFromO}};
    mic.role = SectionRole::OfficerVoice;
    leg_o.add_section(mic);
    for (std::uint8_t party : {0, 1}) {
      MediaLeg::SectionConfig picture{MediaKind::Video, kH264O, party == 0 ? kLawyerPictureToO : kDetaineePictureToO,
                                      true, {}};
      picture.role = SectionRole::Picture;
      picture.party = party;
      picture.relay_receives = false;
      leg_o.add_section(picture);
    }
    leg_o.set_srtp(SrtpSession(profile, key_salt(profile, 0x60), key_salt(profile, 0x50)));
    REQUIRE(leg_a.add_watcher(&leg_o, 0));
    REQUIRE(leg_b.add_watcher(&leg_o, 1));
    leg_o.set_party(0, &leg_a);
    leg_o.set_party(1, &leg_b);
  }

  PacketKind o_sends_rtp(const Bytes& packet) { return leg_o.receive(*run(console, packet, true, false)); }
  PacketKind o_sends_rtcp(const Bytes& packet) { return leg_o.receive(*run(console, packet, true, true)); }
  // What the console decrypts of everything sent to it.
  std::vector<Bytes> console_got() {
    std::vector<Bytes> out;
    for (const auto& d : sink_o.sent) {
      auto plain = run(console, d, false, (d.at(1) & 0x7f) >= 64 && (d.at(1) & 0x7f) < 96);
      REQUIRE(plain);
      out.push_back(*plain);
    }
    return out;
  }

  MemorySink sink_o;  // towards the officer's console
  MediaLeg leg_o;
  SrtpSession console;
};

}  // namespace

TEST_CASE("MediaLeg: an officer watching gets both pictures, each on its own stream, and never a party's sound",
          "[media_leg][supervision]") {
  const auto profile = GENERATE(SrtpProfile::AeadAes128Gcm, SrtpProfile::AesCm128HmacSha1_80);
  Watched m(profile);
  const Bytes lawyer_video = rtp(kH264A, 500, 3000, kVideoFromA, true, 1100);
  m.a_sends_rtp(rtp(kOpusA, 1, 960, kAudioFromA));
  m.a_sends_rtp(lawyer_video);
  m.b_sends_rtp(rtp(kOpusB, 9, 960, kAudioFromB));
  m.b_sends_rtp(rtp(kH264B, 77, 6000, kVideoFromB));
  m.b_sends_rtp(rtp(kOpusB, 10, 1920, kAudioFromB));

  auto got = m.console_got();
  REQUIRE(got.size() == 2);
  CHECK(get_u32(got[0], 8) == kLawyerPictureToO);
  CHECK(got[0][1] == (0x80 | kH264O));
  CHECK(get_u16(got[0], 2) == 500);
  CHECK(std::equal(got[0].begin() + 12, got[0].end(), lawyer_video.begin() + 12));
  CHECK(get_u32(got[1], 8) == kDetaineePictureToO);
  CHECK(get(m.counters.officer_video_forwarded) == 2);
  // The partners still get each other's media, sound included.
  CHECK(get(m.counters.audio_forwarded) == 3);
  CHECK(get(m.counters.video_forwarded) == 2);
  CHECK(m.leg_o.sends_picture_ssrc(kLawyerPictureToO));
  CHECK_FALSE(m.leg_o.sends_picture_ssrc(kVoiceToA));

  SECTION("the console's NACK is answered from what it was sent") {
    const Bytes first = m.sink_o.sent.at(0);
    m.sink_o.sent.clear();
    m.o_sends_rtcp(nack(0x0F0F0003, kLawyerPictureToO, 500, 0));
    REQUIRE(m.sink_o.sent.size() == 1);
    CHECK(hex(m.sink_o.sent[0]) == hex(first));
  }
  SECTION("the console's PLI of one picture goes to that party's terminal only") {
    m.sink_a.sent.clear();
    m.sink_b.sent.clear();
    m.o_sends_rtcp(pli(0x0F0F0003, kDetaineePictureToO));
    CHECK(m.sink_a.sent.empty());
    REQUIRE(m.sink_b.sent.size() == 1);
    CHECK(hex(*run(m.terminal_b, m.sink_b.sent[0], false, true)) == hex(pli(kVideoToB, kVideoFromB)));
  }
  SECTION("the console's reports and estimates reach neither party") {
    m.sink_a.sent.clear();
    m.sink_b.sent.clear();
    m.o_sends_rtcp(remb(0x0F0F0003, kLawyerPictureToO));
    CHECK(m.sink_a.sent.empty());
    CHECK(m.sink_b.sent.empty());
  }
  SECTION("once forgotten on both sides, nothing more goes to the officer") {
    m.leg_a.forget(&m.leg_o);
    m.leg_b.forget(&m.leg_o);
    m.leg_o.forget(&m.leg_a);
    m.leg_o.forget(&m.leg_b);
    m.sink_o.sent.clear();
    m.a_sends_rtp(rtp(kH264A, 501, 6000, kVideoFromA));
    m.b_sends_rtp(rtp(kH264B, 78, 9000, kVideoFromB));
    CHECK(m.sink_o.sent.empty());
    CHECK(m.sink_b.sent.size() >= 1);  // the meeting itself goes on
  }
}

TEST_CASE("MediaLeg: the officer's microphone reaches both parties only while the voice is open",
          "[media_leg][supervision]") {
  Watched m;
  m.sink_a.sent.clear();
  m.sink_b.sent.clear();
  m.o_sends_rtp(rtp(kOpusO, 1, 960, kMicFromO));
  CHECK(m.sink_a.sent.empty());
  CHECK(m.sink_b.sent.empty());
  CHECK(get(m.counters.officer_voice_held) == 1);

  m.leg_o.set_voice_open(true);
  m.o_sends_rtp(rtp(kOpusO, 2, 1920, kMicFromO));
  REQUIRE(m.sink_a.sent.size() == 1);
  REQUIRE(m.sink_b.sent.size() == 1);
  auto to_a = run(m.terminal_a, m.sink_a.sent[0], false, false);
  auto to_b = run(m.terminal_b, m.sink_b.sent[0], false, false);
  REQUIRE(to_a);
  REQUIRE(to_b);
  // Each on the terminal's officer-voice stream, not the partner's sound.
  CHECK(get_u32(*to_a, 8) == kVoiceToA);
  CHECK((*to_a)[1] == kVoiceOpusA);
  CHECK(get_u32(*to_b, 8) == kVoiceToB);
  CHECK(get(m.counters.officer_voice_forwarded) == 2);
  CHECK(get(m.counters.audio_forwarded) == 0);
  CHECK(m.sink_o.sent.empty());  // nothing of it comes back to the officer

  // The partner's own sound still arrives on the conversation stream.
  m.b_sends_rtp(rtp(kOpusB, 9, 960, kAudioFromB));
  REQUIRE(m.sink_a.sent.size() == 2);
  CHECK(get_u32(*run(m.terminal_a, m.sink_a.sent[1], false, false), 8) == kAudioToA);

  m.leg_o.set_voice_open(false);
  m.o_sends_rtp(rtp(kOpusO, 3, 2880, kMicFromO));
  CHECK(m.sink_a.sent.size() == 2);
  CHECK(get(m.counters.officer_voice_held) == 2);
}

TEST_CASE("MediaLeg: a terminal takes at most kMaxWatchers officers", "[media_leg][supervision]") {
  Meeting m(SrtpProfile::AeadAes128Gcm);
  RelayCounterSet counters;
  MemorySink sink;
  std::vector<std::unique_ptr<MediaLeg>> officers;
  for (std::size_t i = 0; i <= MediaLeg::kMaxWatchers; ++i)
    officers.push_back(std::make_unique<MediaLeg>(counters, sink, 4000));
  for (std::size_t i = 0; i < MediaLeg::kMaxWatchers; ++i) CHECK(m.leg_a.add_watcher(officers[i].get(), 0));
  CHECK(m.leg_a.add_watcher(officers[0].get(), 0));  // again: no second place taken
  CHECK_FALSE(m.leg_a.add_watcher(officers.back().get(), 0));
  m.leg_a.forget(officers[1].get());
  CHECK(m.leg_a.add_watcher(officers.back().get(), 0));
}
