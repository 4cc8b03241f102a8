#pragma once
// A checked view over one RTP packet (RFC 3550 section 5.1) in a mutable
// buffer: reads the header fields and rewrites payload type, sequence number,
// timestamp and SSRC in place. Never owns or copies the bytes.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace huijian::media {

// Where an RTP packet's payload lies: after the fixed header, the CSRCs and
// the header extension, before the padding. Checks version 2 and every length
// against the buffer; nullopt if any is inconsistent. For readers that only
// look (the recorder); RtpPacket::parse uses it too.
struct RtpLayout {
  std::size_t header_size = 0;
  std::size_t payload_size = 0;
};
std::optional<RtpLayout> rtp_layout(std::span<const std::uint8_t> bytes) noexcept;

class RtpPacket {
 public:
  static constexpr std::size_t kFixedHeaderSize = 12;

  // Validates version 2, the CSRC count, the header extension length and the
  // padding length against the buffer size; nullopt if any is inconsistent.
  static std::optional<RtpPacket> parse(std::span<std::uint8_t> bytes) noexcept;

  std::uint8_t payload_type() const noexcept;
  bool marker() const noexcept;
  std::uint16_t sequence() const noexcept;
  std::uint32_t timestamp() const noexcept;
  std::uint32_t ssrc() const noexcept;
  std::uint8_t csrc_count() const noexcept;
  bool has_extension() const noexcept;
  bool has_padding() const noexcept;

  // payload_type is 7 bits; the top bit of the argument is ignored (the marker stays).
  void set_payload_type(std::uint8_t payload_type) noexcept;
  void set_marker(bool marker) noexcept;
  void set_sequence(std::uint16_t sequence) noexcept;
  void set_timestamp(std::uint32_t timestamp) noexcept;
  void set_ssrc(std::uint32_t ssrc) noexcept;

  // Fixed header + CSRCs + header extension.
  std::size_t header_size() const noexcept { return header_size_; }
  // The payload without the padding.
  std::span<const std::uint8_t> payload() const noexcept { return bytes_.subspan(header_size_, payload_size_); }
  // The whole packet, header to last padding byte.
  std::span<std::uint8_t> bytes() const noexcept { return bytes_; }

 private:
  RtpPacket(std::span<std::uint8_t> bytes, std::size_t header_size, std::size_t payload_size) noexcept
      : bytes_(bytes), header_size_(header_size), payload_size_(payload_size) {}

  std::span<std::uint8_t> bytes_;
  std::size_t header_size_;
  std::size_t payload_size_;
};

// True when an H.264 RTP payload (RFC 6184) starts or carries an IDR slice
// (NAL type 5) or a sequence parameter set (7): a single NAL unit, any unit of a
// STAP-A (24), or the first fragment (start bit) of an FU-A (28).
bool h264_payload_is_keyframe(std::span<const std::uint8_t> payload) noexcept;

}  // namespace huijian::media
