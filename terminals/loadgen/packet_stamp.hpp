#pragma once
// The mark a synthetic sender writes into the last 20 bytes of an RTP payload
// so that the receiving synthetic terminal can tell when and by whom it was
// sent: send time (ns on the load generator's steady clock), the sender's id,
// and a check word. Both ends are in one process, so one clock serves both;
// neither server relays payloads any differently for it.
//   bytes 0..9   send time, ns
//   bytes 10..14 sender id
//   bytes 15..19 check = low 32 bits of the time ^ (high 32 bits * 0x9E3779B1)
//                ^ sender id ^ 0x484A4C47 ("HJLG"): a change to any one field changes it
// Each field is written big-endian 7 bits to a byte with the top bit set, so
// no byte of the mark is zero. An H.264 NAL unit never holds 00 00 00,
// 00 00 01 or 00 00 02; a mark with zero bytes made such runs in slice data,
// which a recorder's parser then took for start codes of made-up NAL units.
// Only payloads of at least kMinStampedPayload bytes carry it (the small
// SPS/PPS aggregates keep their bytes); for H.264 the last bytes of a large
// payload are slice data, so parsers still see well-formed NAL headers.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace huijian::terminals::loadgen {

inline constexpr std::size_t kStampSize = 20;
inline constexpr std::size_t kMinStampedPayload = 48;

struct PacketStamp {
  std::uint64_t sent_ns = 0;
  std::uint32_t sender = 0;
};

inline std::uint32_t stamp_check(std::uint64_t sent_ns, std::uint32_t sender) noexcept {
  return static_cast<std::uint32_t>(sent_ns) ^ (static_cast<std::uint32_t>(sent_ns >> 32) * 0x9E3779B1u) ^ sender ^
         0x484A4C47u;
}

// `count` bytes of 7 bits each, most significant first, each with its top bit set.
inline void put_stamp_field(std::uint8_t* p, std::uint64_t value, int count) noexcept {
  for (int i = count - 1; i >= 0; --i) {
    p[i] = static_cast<std::uint8_t>(0x80 | (value & 0x7F));
    value >>= 7;
  }
}

// The field, or nullopt when a byte lacks its top bit or the value overflows 64 bits.
inline std::optional<std::uint64_t> get_stamp_field(const std::uint8_t* p, int count) noexcept {
  std::uint64_t value = 0;
  for (int i = 0; i < count; ++i) {
    if (!(p[i] & 0x80) || (value >> 57) != 0) return std::nullopt;
    value = (value << 7) | (p[i] & 0x7F);
  }
  return value;
}

inline bool write_stamp(std::span<std::uint8_t> payload, PacketStamp stamp) noexcept {
  if (payload.size() < kMinStampedPayload) return false;
  std::uint8_t* p = payload.data() + payload.size() - kStampSize;
  put_stamp_field(p, stamp.sent_ns, 10);
  put_stamp_field(p + 10, stamp.sender, 5);
  put_stamp_field(p + 15, stamp_check(stamp.sent_ns, stamp.sender), 5);
  return true;
}

inline std::optional<PacketStamp> read_stamp(std::span<const std::uint8_t> payload) noexcept {
  if (payload.size() < kMinStampedPayload) return std::nullopt;
  const std::uint8_t* p = payload.data() + payload.size() - kStampSize;
  const auto sent_ns = get_stamp_field(p, 10);
  const auto sender = get_stamp_field(p + 10, 5);
  const auto check = get_stamp_field(p + 15, 5);
  if (!sent_ns || !sender || !check || *sender > 0xFFFFFFFFu) return std::nullopt;
  const PacketStamp stamp{*sent_ns, static_cast<std::uint32_t>(*sender)};
  if (*check != stamp_check(stamp.sent_ns, stamp.sender)) return std::nullopt;
  return stamp;
}

}  // namespace huijian::terminals::loadgen
