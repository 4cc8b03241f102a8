#include "media/rtcp_packet.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <set>
#include <vector>

namespace rtcp = huijian::media::rtcp;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& part : parts) {
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

std::uint32_t load32(const Bytes& b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) | (std::uint32_t{b[at + 2]} << 8) | b[at + 3];
}

const Bytes kSenderReport = {
    0x81, 0xC8, 0x00, 0x0C,  // V=2 RC=1, PT=200 (SR), length 12 words -> 52 bytes
    0x11, 0x11, 0x11, 0x11,  // sender SSRC
    0xE8, 0x00, 0x00, 0x00,  // NTP timestamp, most significant word
    0x00, 0x00, 0x00, 0x00,  // NTP timestamp, least significant word
    0x00, 0x01, 0x5F, 0x90,  // RTP timestamp
    0x00, 0x00, 0x00, 0x64,  // sender's packet count
    0x00, 0x00, 0x27, 0x10,  // sender's octet count
    0x22, 0x22, 0x22, 0x22,  // report block 1: SSRC of source
    0x00, 0x00, 0x00, 0x00,  //   fraction lost, cumulative lost
    0x00, 0x00, 0x01, 0x00,  //   extended highest sequence number
    0x00, 0x00, 0x00, 0x05,  //   interarrival jitter
    0x00, 0x00, 0x00, 0x00,  //   last SR
    0x00, 0x00, 0x00, 0x00,  //   delay since last SR
};

const Bytes kSdes = {
    0x81, 0xCA, 0x00, 0x03,    // V=2 SC=1, PT=202 (SDES), length 3 -> 16 bytes
    0x11, 0x11, 0x11, 0x11,    // chunk 1 SSRC
    0x01, 0x04, 'a', 'b', 'c', 'd',  // CNAME, 4 characters
    0x00, 0x00,                // end of items, null to the 32-bit boundary
};

const Bytes kReceiverReport = {
    0x81, 0xC9, 0x00, 0x07,  // V=2 RC=1, PT=201 (RR), length 7 -> 32 bytes
    0x33, 0x33, 0x33, 0x33,  // sender SSRC
    0x44, 0x44, 0x44, 0x44,  // report block: SSRC of source
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00,  // rest of the report block
};

const Bytes kPli = {
    0x81, 0xCE, 0x00, 0x02,  // V=2 FMT=1 (PLI), PT=206 (PSFB), length 2 -> 12 bytes
    0x55, 0x55, 0x55, 0x55,  // sender SSRC
    0x66, 0x66, 0x66, 0x66,  // media SSRC
};

const Bytes kFir = {
    0x84, 0xCE, 0x00, 0x04,  // V=2 FMT=4 (FIR), PT=206, length 4 -> 20 bytes
    0x55, 0x55, 0x55, 0x55,  // sender SSRC
    0x00, 0x00, 0x00, 0x00,  // media SSRC: unused in FIR
    0x77, 0x77, 0x77, 0x77,  // FCI: SSRC
    0x09, 0x00, 0x00, 0x00,  //   sequence number 9, reserved
};

const Bytes kNack = {
    0x81, 0xCD, 0x00, 0x04,  // V=2 FMT=1 (generic NACK), PT=205 (RTPFB), length 4 -> 20 bytes
    0x55, 0x55, 0x55, 0x55,  // sender SSRC
    0x66, 0x66, 0x66, 0x66,  // media SSRC
    0x00, 0x64, 0x80, 0x02,  // PID 100, BLP bits 1 and 15: 102 and 116
    0xFF, 0xFF, 0x00, 0x01,  // PID 65535, BLP bit 0: 0 (wraps)
};

const Bytes kRemb = {
    0x8F, 0xCE, 0x00, 0x05,  // V=2 FMT=15 (AFB), PT=206, length 5 -> 24 bytes
    0x55, 0x55, 0x55, 0x55,  // sender SSRC
    0x00, 0x00, 0x00, 0x00,  // media SSRC: unused
    'R', 'E', 'M', 'B',      // identifier
    0x01,                    // one SSRC
    0x0B, 0xD0, 0x90,        // exponent 2, mantissa 0x3D090 = 250000 -> 1 000 000 bit/s
    0x66, 0x66, 0x66, 0x66,  // SSRC list
};

const Bytes kBye = {
    0x81, 0xCB, 0x00, 0x01,  // V=2 SC=1, PT=203 (BYE), length 1 -> 8 bytes
    0x11, 0x11, 0x11, 0x11,  // SSRC
};

const Bytes kExtendedReport = {
    0x80, 0xCF, 0x00, 0x05,  // V=2, PT=207 (XR), length 5 -> 24 bytes
    0x33, 0x33, 0x33, 0x33,  // sender SSRC
    0x05, 0x00, 0x00, 0x03,  // block type 5 (DLRR), length 3 words
    0x44, 0x44, 0x44, 0x44,  //   sub-block: SSRC of receiver
    0x00, 0x00, 0x00, 0x01,  //   last RR
    0x00, 0x00, 0x00, 0x02,  //   delay since last RR
};

}  // namespace

TEST_CASE("rtcp::validate_compound: accepts SR + SDES and reduced-size feedback", "[rtcp]") {
  const Bytes compound = concat({kSenderReport, kSdes});
  CHECK(rtcp::validate_compound(compound));
  CHECK(rtcp::validate_compound(kPli));
  CHECK(rtcp::validate_compound(kNack));
}

TEST_CASE("rtcp::validate_compound: rejects truncation, overrun, bad version and stray bytes", "[rtcp]") {
  const Bytes compound = concat({kSenderReport, kSdes});
  CHECK_FALSE(rtcp::validate_compound({}));
  CHECK_FALSE(rtcp::validate_compound(Bytes(compound.begin(), compound.end() - 1)));  // last packet cut
  Bytes overrun = compound;
  overrun[3] = 0x0D;  // SR length 13 words: runs into the SDES, which then overruns the buffer
  CHECK_FALSE(rtcp::validate_compound(overrun));
  Bytes huge = kPli;
  huge[2] = 0xFF;  // length 65280+ words
  CHECK_FALSE(rtcp::validate_compound(huge));
  Bytes bad_version = compound;
  bad_version[kSenderReport.size()] = 0x41;  // SDES with V=1
  CHECK_FALSE(rtcp::validate_compound(bad_version));
  Bytes stray = compound;
  stray.push_back(0x80);
  stray.push_back(0xC9);  // half a header at the end
  CHECK_FALSE(rtcp::validate_compound(stray));
}

TEST_CASE("rtcp::validate_compound: checks the padding count", "[rtcp]") {
  Bytes padded = {
      0xA0, 0xC9, 0x00, 0x02,  // V=2 P=1 RC=0, PT=201, length 2 -> 12 bytes
      0x33, 0x33, 0x33, 0x33,  // sender SSRC
      0x00, 0x00, 0x00, 0x04,  // 4 padding bytes, the last counts them
  };
  CHECK(rtcp::validate_compound(padded));
  padded[11] = 9;  // more than the 8 bytes after the header
  CHECK_FALSE(rtcp::validate_compound(padded));
  padded[11] = 0;
  CHECK_FALSE(rtcp::validate_compound(padded));
}

TEST_CASE("rtcp::for_each_block: visits each packet with its type, count and bytes", "[rtcp]") {
  Bytes compound = concat({kReceiverReport, kSdes, kPli, kNack});
  std::vector<std::pair<int, int>> seen;
  std::vector<std::size_t> sizes;
  CHECK(rtcp::for_each_block(compound, [&](const rtcp::Block& block) {
    seen.emplace_back(block.type, block.count_or_format);
    sizes.push_back(block.bytes.size());
  }));
  CHECK(seen == std::vector<std::pair<int, int>>{{201, 1}, {202, 1}, {206, 1}, {205, 1}});
  CHECK(sizes == std::vector<std::size_t>{32, 16, 12, 20});
}

TEST_CASE("rtcp::for_each_block: a false from the visitor stops the walk", "[rtcp]") {
  Bytes compound = concat({kReceiverReport, kSdes, kPli});
  int visits = 0;
  CHECK(rtcp::for_each_block(compound, [&](rtcp::Block&) {
    ++visits;
    return false;
  }));
  CHECK(visits == 1);
}

TEST_CASE("rtcp::for_each_block: visits nothing in a malformed compound", "[rtcp]") {
  Bytes compound = concat({kReceiverReport, kSdes, kPli});
  compound.pop_back();
  int visits = 0;
  CHECK_FALSE(rtcp::for_each_block(compound, [&](const rtcp::Block&) { ++visits; }));
  CHECK(visits == 0);
}

TEST_CASE("rtcp::rewrite_ssrcs: maps every SSRC field of every packet type", "[rtcp]") {
  Bytes compound = concat({kSenderReport, kSdes, kPli, kFir, kNack, kRemb, kBye, kExtendedReport});
  const Bytes original = compound;
  std::vector<std::uint32_t> mapped;
  auto map = [&](std::uint32_t ssrc) {
    mapped.push_back(ssrc);
    return ssrc ^ 0xF0000000U;
  };
  REQUIRE(rtcp::rewrite_ssrcs(compound, map));

  // Offsets of SSRC fields in the compound, packet by packet.
  std::vector<std::size_t> fields;
  std::size_t base = 0;
  fields.insert(fields.end(), {base + 4, base + 28});  // SR sender, report block source
  base += kSenderReport.size();
  fields.push_back(base + 4);  // SDES chunk
  base += kSdes.size();
  fields.insert(fields.end(), {base + 4, base + 8});  // PLI sender, media
  base += kPli.size();
  fields.insert(fields.end(), {base + 4, base + 8, base + 12});  // FIR sender, media (0), FCI
  base += kFir.size();
  fields.insert(fields.end(), {base + 4, base + 8});  // NACK sender, media
  base += kNack.size();
  fields.insert(fields.end(), {base + 4, base + 8, base + 20});  // REMB sender, media (0), list
  base += kRemb.size();
  fields.push_back(base + 4);  // BYE
  base += kBye.size();
  fields.insert(fields.end(), {base + 4, base + 12});  // XR sender, DLRR sub-block
  base += kExtendedReport.size();
  REQUIRE(base == compound.size());

  CHECK(mapped.size() == fields.size());
  for (std::size_t i = 0; i < compound.size(); ++i) {
    const bool in_field = std::any_of(fields.begin(), fields.end(), [&](std::size_t f) { return i >= f && i < f + 4; });
    const std::uint8_t expected = in_field && (i % 4 == 0) ? static_cast<std::uint8_t>(original[i] ^ 0xF0) : original[i];
    INFO("byte " << i);
    CHECK(compound[i] == expected);
  }
  CHECK(load32(compound, kSenderReport.size() + kSdes.size() + 8) == 0x96666666U);  // PLI media SSRC
}

TEST_CASE("rtcp::rewrite_ssrcs: leaves a malformed compound untouched", "[rtcp]") {
  Bytes bad_sdes = kSdes;
  bad_sdes[9] = 0x20;  // CNAME length 32: past the end of the SDES packet
  Bytes compound = concat({kReceiverReport, bad_sdes});
  const Bytes original = compound;
  CHECK_FALSE(rtcp::rewrite_ssrcs(compound, [](std::uint32_t) { return 0xABCDEF01U; }));
  CHECK(compound == original);

  Bytes short_rr = kReceiverReport;
  short_rr[0] = 0x82;  // RC=2 but room for one report block
  CHECK_FALSE(rtcp::rewrite_ssrcs(short_rr, [](std::uint32_t) { return 0U; }));
  CHECK(short_rr[4] == 0x33);

  Bytes remb = kRemb;
  remb[16] = 3;  // three SSRCs listed, one present
  CHECK_FALSE(rtcp::rewrite_ssrcs(remb, [](std::uint32_t) { return 0U; }));

  Bytes fir = kFir;
  fir[3] = 0x03;  // length 3 -> FCI of 4 bytes, not a multiple of 8
  fir.resize(16);
  CHECK_FALSE(rtcp::rewrite_ssrcs(fir, [](std::uint32_t) { return 0U; }));
}

TEST_CASE("rtcp: PLI and FIR are keyframe requests, NACK is not", "[rtcp]") {
  Bytes compound = concat({kPli, kFir, kNack, kRemb});
  std::vector<bool> keyframe, nack;
  std::vector<std::uint32_t> media;
  REQUIRE(rtcp::for_each_block(compound, [&](const rtcp::Block& block) {
    keyframe.push_back(rtcp::is_keyframe_request(block));
    nack.push_back(rtcp::is_nack(block));
    media.push_back(rtcp::feedback_media_ssrc(block));
  }));
  CHECK(keyframe == std::vector<bool>{true, true, false, false});
  CHECK(nack == std::vector<bool>{false, false, true, false});
  // FIR: the media source field is 0, the target is the FCI SSRC.
  CHECK(media == std::vector<std::uint32_t>{0x66666666U, 0x77777777U, 0x66666666U, 0});
}

TEST_CASE("rtcp::feedback_media_ssrc: 0 for a non-feedback packet", "[rtcp]") {
  Bytes rr = kReceiverReport;
  REQUIRE(rtcp::for_each_block(rr, [](const rtcp::Block& block) { CHECK(rtcp::feedback_media_ssrc(block) == 0); }));
}

TEST_CASE("rtcp::for_each_nacked_sequence: expands PID and BLP", "[rtcp]") {
  Bytes nack = kNack;
  std::vector<std::uint16_t> sequences;
  REQUIRE(rtcp::for_each_block(nack, [&](const rtcp::Block& block) {
    rtcp::for_each_nacked_sequence(block, [&](std::uint16_t s) { sequences.push_back(s); });
  }));
  CHECK(sequences == std::vector<std::uint16_t>{100, 102, 116, 65535, 0});
}

TEST_CASE("rtcp::write_nack: packs into PID/BLP pairs", "[rtcp]") {
  Bytes out(64, 0xEE);
  const std::vector<std::uint16_t> lost = {100, 102, 116};
  const std::size_t size = rtcp::write_nack(out, 0x55555555, 0x66666666, lost);
  const Bytes expected = {
      0x81, 0xCD, 0x00, 0x03,  // V=2 FMT=1, PT=205, length 3 -> 16 bytes
      0x55, 0x55, 0x55, 0x55,  // sender SSRC
      0x66, 0x66, 0x66, 0x66,  // media SSRC
      0x00, 0x64, 0x80, 0x02,  // PID 100; BLP: 102 is bit 1, 116 is bit 15
  };
  REQUIRE(size == expected.size());
  CHECK(Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(size)) == expected);
  CHECK(out[size] == 0xEE);  // nothing written past the packet
}

TEST_CASE("rtcp::write_nack: round trips through for_each_nacked_sequence", "[rtcp]") {
  const std::vector<std::uint16_t> lost = {65530, 65535, 0, 3, 100, 101, 117, 116, 500, 100, 9000, 9016, 9017};
  Bytes out(256);
  const std::size_t size = rtcp::write_nack(out, 1, 2, lost);
  REQUIRE(size > 0);
  out.resize(size);
  REQUIRE(rtcp::validate_compound(out));
  std::set<std::uint16_t> seen;
  REQUIRE(rtcp::for_each_block(out, [&](const rtcp::Block& block) {
    REQUIRE(rtcp::is_nack(block));
    CHECK(rtcp::feedback_media_ssrc(block) == 2);
    rtcp::for_each_nacked_sequence(block, [&](std::uint16_t s) { CHECK(seen.insert(s).second); });
  }));
  CHECK(seen == std::set<std::uint16_t>(lost.begin(), lost.end()));
  // 65530..3 fit one pair (wrap), 100..117 one pair (117 is 17 past 100: second pair), 500, 9000..9016, 9017.
  CHECK(size == 12 + 4 * 6);
}

TEST_CASE("rtcp::write_nack: 0 when empty or the buffer is too small", "[rtcp]") {
  Bytes out(64);
  CHECK(rtcp::write_nack(out, 1, 2, {}) == 0);
  const std::vector<std::uint16_t> lost = {1, 100, 200};  // three pairs: 24 bytes
  Bytes small(23);
  CHECK(rtcp::write_nack(small, 1, 2, lost) == 0);
  Bytes exact(24);
  CHECK(rtcp::write_nack(exact, 1, 2, lost) == 24);
}

TEST_CASE("rtcp::write_pli and write_fir: exact bytes", "[rtcp]") {
  Bytes out(32, 0xEE);
  REQUIRE(rtcp::write_pli(out, 0x55555555, 0x66666666) == 12);
  CHECK(Bytes(out.begin(), out.begin() + 12) == kPli);
  REQUIRE(rtcp::write_fir(out, 0x55555555, 0x77777777, 9) == 20);
  CHECK(Bytes(out.begin(), out.begin() + 20) == kFir);
  Bytes small(11);
  CHECK(rtcp::write_pli(small, 1, 2) == 0);
  Bytes small_fir(19);
  CHECK(rtcp::write_fir(small_fir, 1, 2, 0) == 0);
}

TEST_CASE("rtcp::write_receiver_report_empty: an RR with no report blocks", "[rtcp]") {
  Bytes out(8);
  REQUIRE(rtcp::write_receiver_report_empty(out, 0x01020304) == 8);
  const Bytes expected = {
      0x80, 0xC9, 0x00, 0x01,  // V=2 RC=0, PT=201, length 1
      0x01, 0x02, 0x03, 0x04,  // sender SSRC
  };
  CHECK(out == expected);
  Bytes small(7);
  CHECK(rtcp::write_receiver_report_empty(small, 1) == 0);
}

TEST_CASE("rtcp::write_remb and remb_bitrate: exact bytes and round trip", "[rtcp]") {
  Bytes out(64);
  const std::vector<std::uint32_t> ssrcs = {0x66666666};
  const std::size_t size = rtcp::write_remb(out, 0x55555555, 1'000'000, ssrcs);
  REQUIRE(size == kRemb.size());
  out.resize(size);
  CHECK(out == kRemb);
  std::optional<std::uint64_t> bitrate;
  REQUIRE(rtcp::for_each_block(out, [&](const rtcp::Block& block) { bitrate = rtcp::remb_bitrate(block); }));
  REQUIRE(bitrate);
  CHECK(*bitrate == 1'000'000);

  Bytes big(64);
  REQUIRE(rtcp::write_remb(big, 1, 123'456'789'012ULL, {}) == 20);
  big.resize(20);
  REQUIRE(rtcp::for_each_block(big, [&](const rtcp::Block& block) { bitrate = rtcp::remb_bitrate(block); }));
  REQUIRE(bitrate);
  CHECK(*bitrate <= 123'456'789'012ULL);
  CHECK(*bitrate > 123'456'789'012ULL - (123'456'789'012ULL >> 17));  // 18-bit mantissa precision

  Bytes pli = kPli;
  REQUIRE(rtcp::for_each_block(pli, [&](const rtcp::Block& block) { CHECK_FALSE(rtcp::remb_bitrate(block)); }));
}

TEST_CASE("rtcp::copy_blocks_if: copies the kept packets in order", "[rtcp]") {
  const Bytes compound = concat({kReceiverReport, kSdes, kPli, kRemb});
  Bytes out(128, 0);
  const std::size_t size = rtcp::copy_blocks_if(compound, out, [](const rtcp::Block& block) {
    return block.type == rtcp::kPayloadFeedback;
  });
  CHECK(size == kPli.size() + kRemb.size());
  out.resize(size);
  CHECK(out == concat({kPli, kRemb}));
}

TEST_CASE("rtcp::copy_blocks_if: 0 when nothing is kept, input malformed or output too small", "[rtcp]") {
  const Bytes compound = concat({kReceiverReport, kSdes, kPli});
  Bytes out(128);
  CHECK(rtcp::copy_blocks_if(compound, out, [](const rtcp::Block&) { return false; }) == 0);
  const Bytes cut(compound.begin(), compound.end() - 2);
  CHECK(rtcp::copy_blocks_if(cut, out, [](const rtcp::Block&) { return true; }) == 0);
  Bytes small(compound.size() - 1);
  CHECK(rtcp::copy_blocks_if(compound, small, [](const rtcp::Block&) { return true; }) == 0);
}

TEST_CASE("rtcp::for_each_nacked_sequence: a hand-made block with an impossible padding count lists nothing",
          "[rtcp]") {
  Bytes bytes = {
      0xA1, 0xCD, 0x00, 0x03,  // V=2 P=1 FMT=1, PT=205, length 3
      0x00, 0x00, 0x00, 0x01,  // sender SSRC
      0x00, 0x00, 0x00, 0x02,  // media SSRC
      0x00, 0x10, 0x00, 0xFF,  // would be PID 16, but the last byte claims 255 bytes of padding
  };
  const rtcp::Block block{rtcp::kRtpFeedback, 1, bytes};
  int visits = 0;
  rtcp::for_each_nacked_sequence(block, [&](std::uint16_t) { ++visits; });
  CHECK(visits == 0);
  bytes[15] = 0x04;  // 4 bytes of padding: the FCI is gone, still nothing
  rtcp::for_each_nacked_sequence(block, [&](std::uint16_t) { ++visits; });
  CHECK(visits == 0);
  bytes[0] = 0x81;  // no padding: PID 16 and BLP 0x0004 -> 16, 19
  std::vector<std::uint16_t> seen;
  rtcp::for_each_nacked_sequence(block, [&](std::uint16_t s) { seen.push_back(s); });
  CHECK(seen == std::vector<std::uint16_t>{16, 19});
}
