#pragma once
// Sequence number and timestamp mapping of one outgoing RTP stream of the
// relay. While one source feeds it, numbers pass unchanged (offset 0), so the
// receiver's reports stay meaningful to the sender; when the source changes
// (the sender restarted with a new SSRC), the output continues after the last
// number sent, so the receiver sees one unbroken stream.

#include <cstdint>

namespace huijian::media {

class StreamRewriter {
 public:
  struct Mapped {
    std::uint16_t sequence;
    std::uint32_t timestamp;
  };
  // `timestamp_step` is what the timestamp advances across a source change
  // (one frame: 3000 at 90 kHz, one 20 ms packet: 960 at 48 kHz).
  explicit StreamRewriter(std::uint32_t timestamp_step) noexcept : timestamp_step_(timestamp_step) {}

  Mapped map(std::uint32_t source_ssrc, std::uint16_t sequence, std::uint32_t timestamp) noexcept;
  // Inverse of the current mapping, for the sequence numbers a NACK names.
  std::uint16_t source_sequence(std::uint16_t output_sequence) const noexcept {
    return static_cast<std::uint16_t>(output_sequence - sequence_offset_);
  }
  bool started() const noexcept { return started_; }

 private:
  std::uint32_t timestamp_step_;
  bool started_ = false;
  std::uint32_t source_ssrc_ = 0;
  std::uint16_t sequence_offset_ = 0;
  std::uint32_t timestamp_offset_ = 0;
  std::uint16_t last_sequence_ = 0;  // highest output sequence so far
  std::uint32_t last_timestamp_ = 0;
};

}  // namespace huijian::media
