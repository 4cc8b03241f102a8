#pragma once
// Compound RTCP (RFC 3550 section 6), feedback (RFC 4585, RFC 5104) and REMB
// (draft-alvestrand-rmcat-remb): validation, walking, in-place SSRC rewriting,
// filtering and the few writers the relay needs. Works on caller-owned
// buffers, never allocates; hostile lengths give false / 0, never a read or
// write outside the span.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <type_traits>

#include "media/wire_bytes.hpp"

namespace huijian::media::rtcp {

inline constexpr std::uint8_t kSenderReport = 200, kReceiverReport = 201, kSdes = 202, kBye = 203, kApp = 204,
                              kRtpFeedback = 205, kPayloadFeedback = 206, kExtendedReport = 207;

// Feedback message types (the count field of RTPFB / PSFB).
inline constexpr std::uint8_t kFmtNack = 1, kFmtTmmbr = 3, kFmtTmmbn = 4;         // RTPFB
inline constexpr std::uint8_t kFmtPli = 1, kFmtFir = 4, kFmtApplication = 15;    // PSFB

inline constexpr std::size_t kHeaderSize = 4;
inline constexpr std::size_t kFeedbackHeaderSize = 12;  // header + sender SSRC + media SSRC

// One packet of a compound packet; bytes = its header and body (and padding,
// if the P bit is set), exactly as long as its length field says.
struct Block {
  std::uint8_t type;
  std::uint8_t count_or_format;
  std::span<std::uint8_t> bytes;
};

// Walks every packet of a compound packet: version 2, length field within the
// rest of the buffer, padding count within the packet, lengths adding up to
// exactly the buffer. An empty buffer is invalid. A reduced-size packet (RFC
// 5506: one feedback packet without SR/RR first) is valid.
bool validate_compound(std::span<const std::uint8_t> compound) noexcept;

namespace detail {

// The declared size of the packet at p (header checked by validate_compound).
inline std::size_t declared_size(const std::uint8_t* p) noexcept {
  return (std::size_t{wire::load_u16(p + 2)} + 1) * 4;
}

// The packet without its padding; safe on any span (an impossible padding
// count leaves no content).
inline std::size_t content_size(std::span<const std::uint8_t> packet) noexcept {
  if (packet.empty() || (packet[0] & 0x20) == 0) {
    return packet.size();
  }
  const std::size_t padding = packet.back();
  return padding <= packet.size() ? packet.size() - padding : 0;
}

// Calls field(std::uint8_t*) for each 32-bit SSRC/CSRC field of one packet
// whose outer framing validate_compound accepted. Returns false, possibly after
// some calls, if the body is inconsistent with its type's layout.
template <class Field>
bool visit_ssrc_fields(std::span<std::uint8_t> packet, Field&& field) noexcept {
  std::uint8_t* p = packet.data();
  const std::size_t content = content_size(packet);
  const std::uint8_t type = p[1];
  const std::size_t count = p[0] & 0x1F;
  switch (type) {
    case kSenderReport:
    case kReceiverReport: {
      const std::size_t first_block = type == kSenderReport ? 28 : 8;  // SR: + NTP, RTP ts, counts
      if (content < first_block + 24 * count) {
        return false;
      }
      field(p + 4);
      for (std::size_t i = 0; i < count; ++i) {
        field(p + first_block + 24 * i);  // report block: SSRC of source first
      }
      return true;
    }
    case kSdes: {
      std::size_t pos = 4;
      for (std::size_t chunk = 0; chunk < count; ++chunk) {
        if (content < pos + 4) {
          return false;
        }
        field(p + pos);
        pos += 4;
        for (;;) {  // items: type, length, text; a zero type ends the list
          if (pos >= content) {
            return false;
          }
          if (p[pos] == 0) {
            pos = (pos + 4) & ~std::size_t{3};  // the end byte, then nulls to the next 32-bit boundary
            if (pos > content) {
              return false;
            }
            break;
          }
          if (content < pos + 2) {
            return false;
          }
          pos += 2 + std::size_t{p[pos + 1]};
          if (pos > content) {
            return false;
          }
        }
      }
      return true;
    }
    case kBye: {
      if (content < 4 + 4 * count) {
        return false;
      }
      for (std::size_t i = 0; i < count; ++i) {
        field(p + 4 + 4 * i);
      }
      return true;
    }
    case kApp: {
      if (content < 12) {  // header, SSRC, 4-character name
        return false;
      }
      field(p + 4);
      return true;
    }
    case kRtpFeedback:
    case kPayloadFeedback: {
      if (content < kFeedbackHeaderSize) {
        return false;
      }
      field(p + 4);  // packet sender
      field(p + 8);  // media source
      const std::size_t fci = content - kFeedbackHeaderSize;
      const bool eight_byte_entries_with_ssrc = (type == kPayloadFeedback && count == kFmtFir) ||
                                                (type == kRtpFeedback && (count == kFmtTmmbr || count == kFmtTmmbn));
      if (eight_byte_entries_with_ssrc) {
        if (fci % 8 != 0 || (count == kFmtFir && fci == 0)) {
          return false;
        }
        for (std::size_t pos = kFeedbackHeaderSize; pos < content; pos += 8) {
          field(p + pos);
        }
      } else if (type == kPayloadFeedback && count == kFmtApplication && fci >= 4 &&
                 std::memcmp(p + 12, "REMB", 4) == 0) {
        // "REMB", number of SSRCs, exponent + mantissa, then the SSRC list.
        if (fci < 8) {
          return false;
        }
        const std::size_t ssrcs = p[16];
        if (fci < 8 + 4 * ssrcs) {
          return false;
        }
        for (std::size_t i = 0; i < ssrcs; ++i) {
          field(p + 20 + 4 * i);
        }
      }
      return true;
    }
    case kExtendedReport: {
      if (content < 8) {
        return false;
      }
      field(p + 4);
      std::size_t pos = 8;
      while (pos < content) {  // report blocks: BT, type-specific, length in words, body
        if (content < pos + 4) {
          return false;
        }
        const std::uint8_t block_type = p[pos];
        const std::size_t body = 4 * std::size_t{wire::load_u16(p + pos + 2)};
        if (content < pos + 4 + body) {
          return false;
        }
        switch (block_type) {
          case 1:  // loss RLE
          case 2:  // duplicate RLE
          case 3:  // packet receipt times
          case 6:  // statistics summary
          case 7:  // VoIP metrics
            if (body < 4) {
              return false;
            }
            field(p + pos + 4);  // SSRC of source
            break;
          case 5:  // DLRR: sub-blocks of SSRC, last RR, delay
            if (body % 12 != 0) {
              return false;
            }
            for (std::size_t sub = 0; sub < body; sub += 12) {
              field(p + pos + 4 + sub);
            }
            break;
          default:
            break;
        }
        pos += 4 + body;
      }
      return true;
    }
    default:
      return true;  // unknown type: no SSRC fields we know of
  }
}

template <class F>
bool visit_block(F& visit, Block& block) noexcept {
  if constexpr (std::is_convertible_v<std::invoke_result_t<F&, Block&>, bool>) {
    return static_cast<bool>(visit(block));
  } else {
    visit(block);
    return true;
  }
}

}  // namespace detail

// Validates, then calls visit(Block&) for each packet in order. When visit
// returns bool, false stops the walk early. Returns false (having visited
// nothing) if the compound packet is malformed.
template <class F>
bool for_each_block(std::span<std::uint8_t> compound, F&& visit) noexcept {
  if (!validate_compound(compound)) {
    return false;
  }
  std::size_t offset = 0;
  while (offset < compound.size()) {
    const std::size_t size = detail::declared_size(compound.data() + offset);
    Block block{compound[offset + 1], static_cast<std::uint8_t>(compound[offset] & 0x1F),
                compound.subspan(offset, size)};
    if (!detail::visit_block(visit, block)) {
      break;
    }
    offset += size;
  }
  return true;
}

// Rewrites every SSRC field of every packet in place through
// map(std::uint32_t) -> std::uint32_t: SR/RR sender SSRC and report-block
// source SSRCs, SDES chunk SSRCs, BYE SSRCs, APP SSRC, RTPFB/PSFB sender and
// media SSRC, FIR and TMMBR/TMMBN FCI SSRCs, the REMB SSRC list, XR sender and
// report-block source SSRCs. Returns false, changing nothing, if any packet is
// malformed.
template <class Map>
bool rewrite_ssrcs(std::span<std::uint8_t> compound, Map&& map) noexcept {
  if (!validate_compound(compound)) {
    return false;
  }
  auto each_packet = [&](auto&& field) noexcept {
    std::size_t offset = 0;
    while (offset < compound.size()) {
      const std::size_t size = detail::declared_size(compound.data() + offset);
      if (!detail::visit_ssrc_fields(compound.subspan(offset, size), field)) {
        return false;
      }
      offset += size;
    }
    return true;
  };
  if (!each_packet([](std::uint8_t*) noexcept {})) {
    return false;
  }
  each_packet([&](std::uint8_t* field) noexcept {
    wire::store_u32(field, static_cast<std::uint32_t>(map(wire::load_u32(field))));
  });
  return true;
}

// PSFB PLI (format 1) or FIR (format 4).
bool is_keyframe_request(const Block& block) noexcept;
// RTPFB generic NACK (format 1).
bool is_nack(const Block& block) noexcept;
// The media source SSRC field of an RTPFB/PSFB packet (0 for other types or a
// short packet). For a FIR, whose media source field is 0 by RFC 5104, the
// SSRC of its first FCI entry.
std::uint32_t feedback_media_ssrc(const Block& block) noexcept;
// The bitrate (bits per second) of a REMB packet, nullopt for anything else.
std::optional<std::uint64_t> remb_bitrate(const Block& block) noexcept;

// Calls visit(std::uint16_t) for every sequence number a generic NACK lists
// (each PID, then PID + i + 1 for every set bit i of its BLP), in FCI order.
template <class F>
void for_each_nacked_sequence(const Block& block, F&& visit) noexcept {
  if (!is_nack(block) || block.bytes.size() < kFeedbackHeaderSize) {
    return;
  }
  const std::size_t content = detail::content_size(block.bytes);
  const std::uint8_t* p = block.bytes.data();
  for (std::size_t pos = kFeedbackHeaderSize; pos + 4 <= content; pos += 4) {
    const std::uint16_t pid = wire::load_u16(p + pos);
    const std::uint16_t blp = wire::load_u16(p + pos + 2);
    visit(pid);
    for (unsigned bit = 0; bit < 16; ++bit) {
      if ((blp >> bit) & 1U) {
        visit(static_cast<std::uint16_t>(pid + bit + 1));
      }
    }
  }
}

// Copies the packets of `in` for which keep(const Block&) is true, in order,
// into `out`; returns the bytes written: 0 if none was kept, `in` is malformed
// or `out` is too small. keep must not write through block.bytes (it points
// into the const input).
template <class Keep>
std::size_t copy_blocks_if(std::span<const std::uint8_t> in, std::span<std::uint8_t> out, Keep&& keep) noexcept {
  if (!validate_compound(in)) {
    return 0;
  }
  std::size_t written = 0;
  std::size_t offset = 0;
  while (offset < in.size()) {
    const std::size_t size = detail::declared_size(in.data() + offset);
    // Block carries a mutable span for the read-write users; this one is only read.
    const Block block{in[offset + 1], static_cast<std::uint8_t>(in[offset] & 0x1F),
                      std::span<std::uint8_t>(const_cast<std::uint8_t*>(in.data() + offset), size)};
    if (keep(block)) {
      if (out.size() - written < size) {
        return 0;
      }
      std::memcpy(out.data() + written, in.data() + offset, size);
      written += size;
    }
    offset += size;
  }
  return written;
}

// Writers; each returns the bytes written, 0 if `out` is too small.
// PLI: 12 bytes.
std::size_t write_pli(std::span<std::uint8_t> out, std::uint32_t sender_ssrc, std::uint32_t media_ssrc) noexcept;
// FIR: 20 bytes; media source field 0, one FCI entry (media_ssrc, seq_nr).
std::size_t write_fir(std::span<std::uint8_t> out, std::uint32_t sender_ssrc, std::uint32_t media_ssrc,
                      std::uint8_t seq_nr) noexcept;
// Generic NACK packing `lost` (any order, duplicates allowed) into PID/BLP
// pairs; 0 also when `lost` is empty.
std::size_t write_nack(std::span<std::uint8_t> out, std::uint32_t sender_ssrc, std::uint32_t media_ssrc,
                       std::span<const std::uint16_t> lost) noexcept;
// RR with no report blocks: 8 bytes.
std::size_t write_receiver_report_empty(std::span<std::uint8_t> out, std::uint32_t sender_ssrc) noexcept;
// REMB (PSFB format 15) with the bitrate in bits per second and the SSRCs it
// applies to (at most 255); 0 if out is too small or there are too many SSRCs.
std::size_t write_remb(std::span<std::uint8_t> out, std::uint32_t sender_ssrc, std::uint64_t bitrate,
                       std::span<const std::uint32_t> ssrcs) noexcept;

}  // namespace huijian::media::rtcp
