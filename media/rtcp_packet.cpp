#include "media/rtcp_packet.hpp"

#include <algorithm>
#include <limits>

namespace huijian::media::rtcp {

namespace {

constexpr std::uint8_t kVersionBits = 0x80;  // V=2, P=0
constexpr std::size_t kPliSize = kFeedbackHeaderSize;
constexpr std::size_t kFirSize = kFeedbackHeaderSize + 8;
constexpr std::size_t kEmptyReceiverReportSize = 8;
constexpr std::size_t kRembFixedSize = kFeedbackHeaderSize + 8;  // + "REMB", count, exp/mantissa

// Writes the common header and the sender SSRC; `size` is a multiple of 4.
void write_header(std::uint8_t* p, std::uint8_t count_or_format, std::uint8_t type, std::size_t size,
                  std::uint32_t sender_ssrc) noexcept {
  p[0] = static_cast<std::uint8_t>(kVersionBits | (count_or_format & 0x1F));
  p[1] = type;
  wire::store_u16(p + 2, static_cast<std::uint16_t>(size / 4 - 1));
  wire::store_u32(p + 4, sender_ssrc);
}

bool is_feedback(const Block& block) noexcept {
  return (block.type == kRtpFeedback || block.type == kPayloadFeedback) &&
         block.bytes.size() >= kFeedbackHeaderSize;
}

}  // namespace

bool validate_compound(std::span<const std::uint8_t> compound) noexcept {
  if (compound.empty()) {
    return false;
  }
  std::size_t offset = 0;
  while (offset < compound.size()) {
    const std::size_t rest = compound.size() - offset;
    if (rest < kHeaderSize) {
      return false;
    }
    const std::uint8_t* p = compound.data() + offset;
    if ((p[0] >> 6) != 2) {
      return false;
    }
    const std::size_t size = detail::declared_size(p);
    if (size > rest) {
      return false;
    }
    if ((p[0] & 0x20) != 0) {  // P: the last byte counts the padding, itself included
      const std::size_t padding = p[size - 1];
      if (padding == 0 || padding > size - kHeaderSize) {
        return false;
      }
    }
    offset += size;
  }
  return true;
}

bool is_keyframe_request(const Block& block) noexcept {
  return block.type == kPayloadFeedback && (block.count_or_format == kFmtPli || block.count_or_format == kFmtFir);
}

bool is_nack(const Block& block) noexcept {
  return block.type == kRtpFeedback && block.count_or_format == kFmtNack;
}

std::uint32_t feedback_media_ssrc(const Block& block) noexcept {
  if (!is_feedback(block)) {
    return 0;
  }
  const std::uint32_t media = wire::load_u32(block.bytes.data() + 8);
  if (media == 0 && block.type == kPayloadFeedback && block.count_or_format == kFmtFir &&
      detail::content_size(block.bytes) >= kFirSize) {
    return wire::load_u32(block.bytes.data() + kFeedbackHeaderSize);
  }
  return media;
}

std::optional<std::uint64_t> remb_bitrate(const Block& block) noexcept {
  if (block.type != kPayloadFeedback || block.count_or_format != kFmtApplication ||
      block.bytes.size() < kRembFixedSize || detail::content_size(block.bytes) < kRembFixedSize) {
    return std::nullopt;
  }
  const std::uint8_t* p = block.bytes.data();
  if (std::memcmp(p + 12, "REMB", 4) != 0) {
    return std::nullopt;
  }
  const unsigned exponent = p[17] >> 2;
  const std::uint64_t mantissa =
      (std::uint64_t{p[17] & 0x03U} << 16) | (std::uint64_t{p[18]} << 8) | std::uint64_t{p[19]};
  if (mantissa != 0 && exponent > 46) {  // 18-bit mantissa shifted past 64 bits
    return std::numeric_limits<std::uint64_t>::max();
  }
  return mantissa << exponent;
}

std::size_t write_pli(std::span<std::uint8_t> out, std::uint32_t sender_ssrc, std::uint32_t media_ssrc) noexcept {
  if (out.size() < kPliSize) {
    return 0;
  }
  write_header(out.data(), kFmtPli, kPayloadFeedback, kPliSize, sender_ssrc);
  wire::store_u32(out.data() + 8, media_ssrc);
  return kPliSize;
}

std::size_t write_fir(std::span<std::uint8_t> out, std::uint32_t sender_ssrc, std::uint32_t media_ssrc,
                      std::uint8_t seq_nr) noexcept {
  if (out.size() < kFirSize) {
    return 0;
  }
  std::uint8_t* p = out.data();
  write_header(p, kFmtFir, kPayloadFeedback, kFirSize, sender_ssrc);
  wire::store_u32(p + 8, 0);  // media source: unused in FIR (RFC 5104 4.3.1.2)
  wire::store_u32(p + 12, media_ssrc);
  p[16] = seq_nr;
  p[17] = p[18] = p[19] = 0;
  return kFirSize;
}

std::size_t write_nack(std::span<std::uint8_t> out, std::uint32_t sender_ssrc, std::uint32_t media_ssrc,
                       std::span<const std::uint16_t> lost) noexcept {
  if (lost.empty() || out.size() < kFeedbackHeaderSize + 4) {
    return 0;
  }
  std::uint8_t* p = out.data();
  // The length field counts 32-bit words minus one in 16 bits.
  const std::size_t max_size = std::min<std::size_t>(out.size(), 65536 * 4);
  std::size_t size = kFeedbackHeaderSize;
  for (const std::uint16_t sequence : lost) {
    bool placed = false;
    for (std::size_t pos = kFeedbackHeaderSize; pos < size && !placed; pos += 4) {
      const std::uint16_t pid = wire::load_u16(p + pos);
      const auto distance = static_cast<std::uint16_t>(sequence - pid);
      if (distance == 0) {
        placed = true;
      } else if (distance <= 16) {
        wire::store_u16(p + pos + 2, static_cast<std::uint16_t>(wire::load_u16(p + pos + 2) | (1U << (distance - 1))));
        placed = true;
      }
    }
    if (!placed) {
      if (max_size - size < 4) {
        return 0;
      }
      wire::store_u16(p + size, sequence);
      wire::store_u16(p + size + 2, 0);
      size += 4;
    }
  }
  write_header(p, kFmtNack, kRtpFeedback, size, sender_ssrc);
  wire::store_u32(p + 8, media_ssrc);
  return size;
}

std::size_t write_receiver_report_empty(std::span<std::uint8_t> out, std::uint32_t sender_ssrc) noexcept {
  if (out.size() < kEmptyReceiverReportSize) {
    return 0;
  }
  write_header(out.data(), 0, kReceiverReport, kEmptyReceiverReportSize, sender_ssrc);
  return kEmptyReceiverReportSize;
}

std::size_t write_remb(std::span<std::uint8_t> out, std::uint32_t sender_ssrc, std::uint64_t bitrate,
                       std::span<const std::uint32_t> ssrcs) noexcept {
  if (ssrcs.size() > 255) {
    return 0;
  }
  const std::size_t size = kRembFixedSize + 4 * ssrcs.size();
  if (out.size() < size) {
    return 0;
  }
  unsigned exponent = 0;
  while ((bitrate >> exponent) >= (1U << 18)) {
    ++exponent;
  }
  const auto mantissa = static_cast<std::uint32_t>(bitrate >> exponent);
  std::uint8_t* p = out.data();
  write_header(p, kFmtApplication, kPayloadFeedback, size, sender_ssrc);
  wire::store_u32(p + 8, 0);  // media source: unused, the SSRC list says what it applies to
  std::memcpy(p + 12, "REMB", 4);
  p[16] = static_cast<std::uint8_t>(ssrcs.size());
  p[17] = static_cast<std::uint8_t>((exponent << 2) | (mantissa >> 16));
  p[18] = static_cast<std::uint8_t>(mantissa >> 8);
  p[19] = static_cast<std::uint8_t>(mantissa);
  for (std::size_t i = 0; i < ssrcs.size(); ++i) {
    wire::store_u32(p + 20 + 4 * i, ssrcs[i]);
  }
  return size;
}

}  // namespace huijian::media::rtcp
