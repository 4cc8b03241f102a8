#include "media/srtp_session.hpp"
#include "media/srtp_gcm_openssl.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <vector>

using huijian::media::kSrtpMaxTrailer;
using huijian::media::SrtpError;
using huijian::media::SrtpProfile;
using huijian::media::SrtpSession;
using huijian::media::srtp_master_key_length;

namespace {

std::vector<std::uint8_t> key_salt(SrtpProfile profile, std::uint8_t seed) {
  std::vector<std::uint8_t> key(srtp_master_key_length(profile));
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(seed + 7 * i);
  return key;
}

// A pair of sessions whose keys are mirrored, as after DTLS: alice sends with A, bob receives with A.
struct Pair {
  explicit Pair(SrtpProfile profile)
      : alice(profile, key_salt(profile, 0x10), key_salt(profile, 0x80)),
        bob(profile, key_salt(profile, 0x80), key_salt(profile, 0x10)) {}
  SrtpSession alice;
  SrtpSession bob;
};

// An RTP packet in a buffer with room for the SRTP trailer.
struct Packet {
  std::array<std::uint8_t, 256 + kSrtpMaxTrailer> bytes{};
  std::size_t length = 0;
  std::span<std::uint8_t> buffer() { return bytes; }
  std::vector<std::uint8_t> contents() const { return {bytes.begin(), bytes.begin() + length}; }
};

Packet rtp(std::uint16_t sequence, std::uint32_t ssrc = 0x12345678) {
  Packet p;
  const std::uint8_t header[] = {
      0x80,                                      // V=2, P=0, X=0, CC=0
      0x6f,                                      // M=0, PT=111 (Opus)
      static_cast<std::uint8_t>(sequence >> 8),  // sequence number
      static_cast<std::uint8_t>(sequence),
      0x00, 0x00, 0x03, 0xc0,                    // timestamp 960
      static_cast<std::uint8_t>(ssrc >> 24), static_cast<std::uint8_t>(ssrc >> 16),  // SSRC
      static_cast<std::uint8_t>(ssrc >> 8), static_cast<std::uint8_t>(ssrc),
  };
  const char payload[] = "opus frame payload: twenty-odd bytes";
  std::copy(std::begin(header), std::end(header), p.bytes.begin());
  std::copy(std::begin(payload), std::end(payload) - 1, p.bytes.begin() + sizeof(header));
  p.length = sizeof(header) + sizeof(payload) - 1;
  return p;
}

Packet rtcp_receiver_report(std::uint32_t ssrc = 0x0badcafe) {
  Packet p;
  const std::uint8_t report[] = {
      0x81, 0xc9, 0x00, 0x07,  // V=2, RC=1, PT=201 (RR), length 7 words + 1
      static_cast<std::uint8_t>(ssrc >> 24), static_cast<std::uint8_t>(ssrc >> 16),
      static_cast<std::uint8_t>(ssrc >> 8), static_cast<std::uint8_t>(ssrc),  // sender SSRC
      0x12, 0x34, 0x56, 0x78,  // report block: source SSRC
      0x00, 0x00, 0x00, 0x02,  // fraction lost 0, cumulative lost 2
      0x00, 0x00, 0x10, 0x00,  // extended highest sequence
      0x00, 0x00, 0x00, 0x10,  // jitter
      0x00, 0x00, 0x00, 0x00,  // LSR
      0x00, 0x00, 0x00, 0x00,  // DLSR
  };
  std::copy(std::begin(report), std::end(report), p.bytes.begin());
  p.length = sizeof(report);
  return p;
}

std::size_t rtp_overhead(SrtpProfile profile) { return profile == SrtpProfile::AeadAes128Gcm ? 16 : 10; }
// SRTCP adds the E-flag + 31-bit index word on top of the tag.
std::size_t rtcp_overhead(SrtpProfile profile) { return rtp_overhead(profile) + 4; }

std::uint64_t total_failures(const SrtpSession& s) {
  return s.counters().auth_failures + s.counters().replays + s.counters().other_failures;
}

}  // namespace

TEST_CASE("SrtpSession: master key lengths are key+salt per profile", "[srtp]") {
  CHECK(srtp_master_key_length(SrtpProfile::AeadAes128Gcm) == 28);
  CHECK(srtp_master_key_length(SrtpProfile::AesCm128HmacSha1_80) == 30);
}

TEST_CASE("SrtpSession: rejects keys of the wrong length", "[srtp]") {
  const auto gcm = key_salt(SrtpProfile::AeadAes128Gcm, 1);
  const auto cm = key_salt(SrtpProfile::AesCm128HmacSha1_80, 1);
  CHECK_THROWS_AS(SrtpSession(SrtpProfile::AeadAes128Gcm, cm, gcm), SrtpError);
  CHECK_THROWS_AS(SrtpSession(SrtpProfile::AesCm128HmacSha1_80, cm, gcm), SrtpError);
  CHECK_THROWS_AS(SrtpSession(SrtpProfile::AeadAes128Gcm, {}, {}), SrtpError);
  CHECK_NOTHROW(SrtpSession(SrtpProfile::AeadAes128Gcm, gcm, gcm));
}

TEST_CASE("SrtpSession: RTP protect -> unprotect round trip", "[srtp]") {
  const SrtpProfile profile = GENERATE(SrtpProfile::AeadAes128Gcm, SrtpProfile::AesCm128HmacSha1_80);
  CAPTURE(huijian::media::to_string(profile));
  Pair pair(profile);
  Packet packet = rtp(1);
  const auto plain = packet.contents();

  const auto protected_length = pair.alice.protect_rtp(packet.buffer(), packet.length);
  REQUIRE(protected_length);
  CHECK(*protected_length == plain.size() + rtp_overhead(profile));
  // Header in the clear, payload encrypted.
  CHECK(std::equal(plain.begin(), plain.begin() + 12, packet.bytes.begin()));
  CHECK(!std::equal(plain.begin() + 12, plain.end(), packet.bytes.begin() + 12));

  const auto length = pair.bob.unprotect_rtp(packet.buffer(), *protected_length);
  REQUIRE(length);
  packet.length = *length;
  CHECK(packet.contents() == plain);
  CHECK(total_failures(pair.bob) == 0);
}

TEST_CASE("SrtpSession: RTCP protect -> unprotect round trip", "[srtp]") {
  const SrtpProfile profile = GENERATE(SrtpProfile::AeadAes128Gcm, SrtpProfile::AesCm128HmacSha1_80);
  CAPTURE(huijian::media::to_string(profile));
  Pair pair(profile);
  Packet packet = rtcp_receiver_report();
  const auto plain = packet.contents();

  const auto protected_length = pair.bob.protect_rtcp(packet.buffer(), packet.length);
  REQUIRE(protected_length);
  CHECK(*protected_length == plain.size() + rtcp_overhead(profile));
  CHECK(std::equal(plain.begin(), plain.begin() + 8, packet.bytes.begin()));  // RTCP header + sender SSRC clear
  CHECK(!std::equal(plain.begin() + 8, plain.end(), packet.bytes.begin() + 8));

  const auto length = pair.alice.unprotect_rtcp(packet.buffer(), *protected_length);
  REQUIRE(length);
  packet.length = *length;
  CHECK(packet.contents() == plain);
}

TEST_CASE("SrtpSession: both directions work at once, several SSRCs each", "[srtp]") {
  Pair pair(SrtpProfile::AeadAes128Gcm);
  for (std::uint16_t seq = 100; seq < 110; ++seq) {
    for (std::uint32_t ssrc : {0x1111u, 0x2222u}) {
      Packet a = rtp(seq, ssrc);
      Packet b = rtp(seq, ssrc);
      const auto pa = pair.alice.protect_rtp(a.buffer(), a.length);
      const auto pb = pair.bob.protect_rtp(b.buffer(), b.length);
      REQUIRE(pa);
      REQUIRE(pb);
      CHECK(pair.bob.unprotect_rtp(a.buffer(), *pa));
      CHECK(pair.alice.unprotect_rtp(b.buffer(), *pb));
    }
  }
  CHECK(total_failures(pair.alice) == 0);
  CHECK(total_failures(pair.bob) == 0);
}

TEST_CASE("SrtpSession: a packet protected with our own send key does not unprotect with our receive key", "[srtp]") {
  Pair pair(SrtpProfile::AeadAes128Gcm);
  Packet packet = rtp(5);
  const auto protected_length = pair.alice.protect_rtp(packet.buffer(), packet.length);
  REQUIRE(protected_length);
  CHECK_FALSE(pair.alice.unprotect_rtp(packet.buffer(), *protected_length));
  CHECK(pair.alice.counters().auth_failures == 1);
}

TEST_CASE("SrtpSession: rejects a tampered tag", "[srtp]") {
  const SrtpProfile profile = GENERATE(SrtpProfile::AeadAes128Gcm, SrtpProfile::AesCm128HmacSha1_80);
  CAPTURE(huijian::media::to_string(profile));
  Pair pair(profile);
  Packet packet = rtp(7);
  const auto protected_length = pair.alice.protect_rtp(packet.buffer(), packet.length);
  REQUIRE(protected_length);
  Packet original = packet;

  packet.bytes[*protected_length - 1] ^= 0x01;  // last byte of the authentication tag
  CHECK_FALSE(pair.bob.unprotect_rtp(packet.buffer(), *protected_length));
  CHECK(pair.bob.counters().auth_failures == 1);

  // The forgery did not advance the replay window: the genuine packet still passes.
  CHECK(pair.bob.unprotect_rtp(original.buffer(), *protected_length));
  CHECK(pair.bob.counters().replays == 0);
}

TEST_CASE("SrtpSession: rejects a tampered payload, header and RTCP", "[srtp]") {
  const SrtpProfile profile = GENERATE(SrtpProfile::AeadAes128Gcm, SrtpProfile::AesCm128HmacSha1_80);
  CAPTURE(huijian::media::to_string(profile));
  Pair pair(profile);

  Packet payload = rtp(8);
  const auto n1 = pair.alice.protect_rtp(payload.buffer(), payload.length);
  REQUIRE(n1);
  payload.bytes[12] ^= 0x80;  // first encrypted payload byte
  CHECK_FALSE(pair.bob.unprotect_rtp(payload.buffer(), *n1));

  Packet header = rtp(9);
  const auto n2 = pair.alice.protect_rtp(header.buffer(), header.length);
  REQUIRE(n2);
  header.bytes[1] ^= 0x01;  // payload type 111 -> 110: the header is authenticated too
  CHECK_FALSE(pair.bob.unprotect_rtp(header.buffer(), *n2));

  Packet report = rtcp_receiver_report();
  const auto n3 = pair.alice.protect_rtcp(report.buffer(), report.length);
  REQUIRE(n3);
  report.bytes[10] ^= 0xff;  // inside the encrypted report block
  CHECK_FALSE(pair.bob.unprotect_rtcp(report.buffer(), *n3));

  CHECK(pair.bob.counters().auth_failures == 3);
  CHECK(pair.bob.counters().replays == 0);
  CHECK(pair.bob.counters().other_failures == 0);
}

TEST_CASE("SrtpSession: rejects a replayed packet", "[srtp]") {
  const SrtpProfile profile = GENERATE(SrtpProfile::AeadAes128Gcm, SrtpProfile::AesCm128HmacSha1_80);
  CAPTURE(huijian::media::to_string(profile));
  Pair pair(profile);
  Packet packet = rtp(20);
  const auto protected_length = pair.alice.protect_rtp(packet.buffer(), packet.length);
  REQUIRE(protected_length);
  Packet copy = packet;

  CHECK(pair.bob.unprotect_rtp(packet.buffer(), *protected_length));
  CHECK_FALSE(pair.bob.unprotect_rtp(copy.buffer(), *protected_length));
  CHECK(pair.bob.counters().replays == 1);
  CHECK(pair.bob.counters().auth_failures == 0);
}

TEST_CASE("SrtpSession: rejects a replayed RTCP packet", "[srtp]") {
  Pair pair(SrtpProfile::AeadAes128Gcm);
  Packet packet = rtcp_receiver_report();
  const auto protected_length = pair.alice.protect_rtcp(packet.buffer(), packet.length);
  REQUIRE(protected_length);
  Packet copy = packet;
  CHECK(pair.bob.unprotect_rtcp(packet.buffer(), *protected_length));
  CHECK_FALSE(pair.bob.unprotect_rtcp(copy.buffer(), *protected_length));
  CHECK(pair.bob.counters().replays == 1);
}

TEST_CASE("SrtpSession: rejects a packet older than the 1024-packet replay window", "[srtp]") {
  Pair pair(SrtpProfile::AeadAes128Gcm);
  Packet old_packet = rtp(1000);
  const auto old_length = pair.alice.protect_rtp(old_packet.buffer(), old_packet.length);
  REQUIRE(old_length);
  Packet newer = rtp(1000 + 1100);
  const auto new_length = pair.alice.protect_rtp(newer.buffer(), newer.length);
  REQUIRE(new_length);

  REQUIRE(pair.bob.unprotect_rtp(newer.buffer(), *new_length));
  CHECK_FALSE(pair.bob.unprotect_rtp(old_packet.buffer(), *old_length));
  CHECK(pair.bob.counters().replays == 1);

  // Within the window, late packets are still accepted.
  Packet late = rtp(1000 + 1100 - 1000);
  const auto late_length = pair.alice.protect_rtp(late.buffer(), late.length);
  REQUIRE(late_length);
  CHECK(pair.bob.unprotect_rtp(late.buffer(), *late_length));
}

TEST_CASE("SrtpSession: protecting the same sequence number again is allowed (NACK retransmission)", "[srtp]") {
  Pair pair(SrtpProfile::AesCm128HmacSha1_80);
  Packet first = rtp(30);
  Packet again = rtp(30);
  const auto n1 = pair.alice.protect_rtp(first.buffer(), first.length);
  const auto n2 = pair.alice.protect_rtp(again.buffer(), again.length);
  REQUIRE(n1);
  REQUIRE(n2);
  CHECK(first.contents() == again.contents());
  CHECK(pair.alice.counters().replays == 0);
}

TEST_CASE("SrtpSession: a truncated packet fails cleanly and is counted", "[srtp]") {
  const SrtpProfile profile = GENERATE(SrtpProfile::AeadAes128Gcm, SrtpProfile::AesCm128HmacSha1_80);
  CAPTURE(huijian::media::to_string(profile));
  Pair pair(profile);
  Packet packet = rtp(40);
  const auto protected_length = pair.alice.protect_rtp(packet.buffer(), packet.length);
  REQUIRE(protected_length);

  std::uint64_t expected_failures = 0;
  for (std::size_t length = 0; length < *protected_length; ++length) {
    CAPTURE(length);
    Packet copy = packet;
    CHECK_FALSE(pair.bob.unprotect_rtp(copy.buffer(), length));
    ++expected_failures;
    CHECK(total_failures(pair.bob) == expected_failures);
  }
  // Too short for a header: counted as malformed, not as an attack on the tag.
  const auto malformed_before = pair.bob.counters().other_failures;
  Packet copy = packet;
  CHECK_FALSE(pair.bob.unprotect_rtp(copy.buffer(), 11));
  CHECK(pair.bob.counters().other_failures == malformed_before + 1);
  // The intact packet still unprotects afterwards.
  CHECK(pair.bob.unprotect_rtp(packet.buffer(), *protected_length));

  Packet report = rtcp_receiver_report();
  const auto rtcp_length = pair.alice.protect_rtcp(report.buffer(), report.length);
  REQUIRE(rtcp_length);
  for (std::size_t length = 0; length < *rtcp_length; ++length) {
    Packet c = report;
    CHECK_FALSE(pair.bob.unprotect_rtcp(c.buffer(), length));
  }
}

TEST_CASE("SrtpSession: rejects headers whose CSRC list or extension runs past the packet", "[srtp]") {
  Pair pair(SrtpProfile::AeadAes128Gcm);
  Packet csrc = rtp(50);
  csrc.bytes[0] = 0x8f;  // CC=15: 60 bytes of CSRCs, the packet holds fewer
  csrc.length = 40;
  CHECK_FALSE(pair.alice.protect_rtp(csrc.buffer(), csrc.length));
  CHECK_FALSE(pair.bob.unprotect_rtp(csrc.buffer(), csrc.length));

  Packet extension = rtp(51);
  extension.bytes[0] = 0x90;   // X=1
  extension.bytes[12] = 0xbe;  // profile 0xBEDE
  extension.bytes[13] = 0xde;
  extension.bytes[14] = 0xff;  // length 0xffff words
  extension.bytes[15] = 0xff;
  CHECK_FALSE(pair.alice.protect_rtp(extension.buffer(), extension.length));
  CHECK_FALSE(pair.bob.unprotect_rtp(extension.buffer(), extension.length));

  Packet version = rtp(52);
  version.bytes[0] = 0x40;  // version 1
  CHECK_FALSE(pair.alice.protect_rtp(version.buffer(), version.length));

  CHECK(pair.alice.counters().other_failures == 3);
  CHECK(pair.bob.counters().other_failures == 2);
}

TEST_CASE("SrtpSession: protect refuses a buffer without room for the trailer", "[srtp]") {
  Pair pair(SrtpProfile::AeadAes128Gcm);
  Packet packet = rtp(60);
  CHECK_FALSE(pair.alice.protect_rtp(std::span<std::uint8_t>(packet.bytes.data(), packet.length), packet.length));
  CHECK_FALSE(pair.alice.protect_rtp(
      std::span<std::uint8_t>(packet.bytes.data(), packet.length + kSrtpMaxTrailer - 1), packet.length));
  CHECK_FALSE(pair.alice.protect_rtp(packet.buffer(), packet.bytes.size() + 1));  // length beyond the buffer
  CHECK(pair.alice.counters().other_failures == 3);
  CHECK(pair.alice.protect_rtp(std::span<std::uint8_t>(packet.bytes.data(), packet.length + kSrtpMaxTrailer),
                               packet.length));
}

TEST_CASE("SrtpSession: a moved session keeps working", "[srtp]") {
  Pair pair(SrtpProfile::AeadAes128Gcm);
  SrtpSession moved = std::move(pair.bob);
  Packet packet = rtp(70);
  const auto n = pair.alice.protect_rtp(packet.buffer(), packet.length);
  REQUIRE(n);
  CHECK(moved.unprotect_rtp(packet.buffer(), *n));
}

TEST_CASE("SrtpSession: libsrtp took the OpenSSL AES-GCM, which passed libsrtp's own test vectors", "[srtp]") {
  // Making a session initialises libsrtp, which installs the replacement;
  // srtp_replace_cipher_type refuses an implementation that fails libsrtp's
  // vectors for AES-128-GCM or its own.
  const std::vector<std::uint8_t> gcm(huijian::media::srtp_master_key_length(SrtpProfile::AeadAes128Gcm), 7);
  SrtpSession session(SrtpProfile::AeadAes128Gcm, gcm, gcm);
  CHECK(huijian::media::openssl_gcm_installed());
}
