#pragma once
// The mark a synthetic sender writes into the last 16 bytes of an RTP payload
// so that the receiving synthetic terminal can tell when and by whom it was
// sent: send time (ns on the load generator's steady clock), the sender's id,
// and a check word. Both ends are in one process, so one clock serves both;
// neither server looks into payloads, so the mark passes either unchanged.
//   bytes 0..7   send time, ns, big-endian
//   bytes 8..11  sender id, big-endian
//   bytes 12..15 check = low 32 bits of the time ^ (high 32 bits * 0x9E3779B1)
//                ^ sender id ^ 0x484A4C47 ("HJLG"): a change to any one field changes it
// Only payloads of at least kMinStampedPayload bytes carry it (the small
// SPS/PPS aggregates keep their bytes); for H.264 the last bytes of a large
// payload are slice data, so parsers still see well-formed NAL headers.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace huijian::terminals::loadgen {

inline constexpr std::size_t kStampSize = 16;
inline constexpr std::size_t kMinStampedPayload = 48;

struct PacketStamp {
  std::uint64_t sent_ns = 0;
  std::uint32_t sender = 0;
};

inline std::uint32_t stamp_check(std::uint64_t sent_ns, std::uint32_t sender) noexcept {
  return static_cast<std::uint32_t>(sent_ns) ^ (static_cast<std::uint32_t>(sent_ns >> 32) * 0x9E3779B1u) ^ sender ^
         0x484A4C47u;
}

inline bool write_stamp(std::span<std::uint8_t> payload, PacketStamp stamp) noexcept {
  if (payload.size() < kMinStampedPayload) return false;
  std::uint8_t* p = payload.data() + payload.size() - kStampSize;
  const std::uint32_t check = stamp_check(stamp.sent_ns, stamp.sender);
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(stamp.sent_ns >> (56 - 8 * i));
  for (int i = 0; i < 4; ++i) p[8 + i] = static_cast<std::uint8_t>(stamp.sender >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) p[12 + i] = static_cast<std::uint8_t>(check >> (24 - 8 * i));
  return true;
}

inline std::optional<PacketStamp> read_stamp(std::span<const std::uint8_t> payload) noexcept {
  if (payload.size() < kMinStampedPayload) return std::nullopt;
  const std::uint8_t* p = payload.data() + payload.size() - kStampSize;
  PacketStamp stamp;
  std::uint32_t check = 0;
  for (int i = 0; i < 8; ++i) stamp.sent_ns = (stamp.sent_ns << 8) | p[i];
  for (int i = 0; i < 4; ++i) stamp.sender = (stamp.sender << 8) | p[8 + i];
  for (int i = 0; i < 4; ++i) check = (check << 8) | p[12 + i];
  if (check != stamp_check(stamp.sent_ns, stamp.sender)) return std::nullopt;
  return stamp;
}

}  // namespace huijian::terminals::loadgen
