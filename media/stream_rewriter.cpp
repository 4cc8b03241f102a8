#include "media/stream_rewriter.hpp"

namespace huijian::media {

namespace {
// RFC 1982 serial-number comparison for 16-bit sequence numbers.
bool newer(std::uint16_t a, std::uint16_t b) noexcept {
  return a != b && static_cast<std::uint16_t>(a - b) < 0x8000;
}
}  // namespace

StreamRewriter::Mapped StreamRewriter::map(std::uint32_t source_ssrc, std::uint16_t sequence,
                                           std::uint32_t timestamp) noexcept {
  if (!started_) {
    started_ = true;
    source_ssrc_ = source_ssrc;
    last_sequence_ = sequence;
    last_timestamp_ = timestamp;
  } else if (source_ssrc != source_ssrc_) {
    source_ssrc_ = source_ssrc;
    sequence_offset_ = static_cast<std::uint16_t>(last_sequence_ + 1 - sequence);
    timestamp_offset_ = last_timestamp_ + timestamp_step_ - timestamp;
  }
  Mapped out{static_cast<std::uint16_t>(sequence + sequence_offset_), timestamp + timestamp_offset_};
  if (newer(out.sequence, last_sequence_)) {
    last_sequence_ = out.sequence;
    last_timestamp_ = out.timestamp;
  }
  return out;
}

}  // namespace huijian::media
