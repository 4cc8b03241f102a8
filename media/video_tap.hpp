#pragma once
// What the relay hands a recorder: the video RTP of one party, decrypted, as
// the terminal sent it (its own SSRC, payload type and sequence numbers).
//
// Picture only, by construction: a VideoRtpPacket can be made only by
// MediaLeg, and only from a packet that arrived on the terminal's video
// section. There is no audio counterpart of this type and no other way into a
// VideoTap, so code that tried to feed a recorder audio would not compile.

#include <chrono>
#include <cstdint>
#include <span>

namespace huijian::media {

class MediaLeg;

class VideoRtpPacket {
 public:
  // The whole RTP packet (header and payload), valid only during the call.
  std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }
  // When the relay received it.
  std::chrono::steady_clock::time_point arrival() const noexcept { return arrival_; }

 private:
  friend class MediaLeg;
  VideoRtpPacket(std::span<const std::uint8_t> bytes, std::chrono::steady_clock::time_point arrival) noexcept
      : bytes_(bytes), arrival_(arrival) {}
  std::span<const std::uint8_t> bytes_;
  std::chrono::steady_clock::time_point arrival_;
};

// Called on the media worker thread, in the per-packet path: must not block,
// allocate or throw. A recorder copies the packet into a queue of its own.
class VideoTap {
 public:
  virtual ~VideoTap() = default;
  virtual void on_video_rtp(const VideoRtpPacket& packet) noexcept = 0;
};

}  // namespace huijian::media
