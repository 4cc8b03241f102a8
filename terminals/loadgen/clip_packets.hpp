#pragma once
// The media a synthetic terminal sends: a pre-encoded H.264 clip cut into RTP
// payloads by GStreamer's own payloader (MTU 1200, SPS/PPS before every IDR),
// and Opus made from a test tone in 20 ms packets. Loaded once into memory at
// start, so sending costs no decoding, encoding or file reading.

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace huijian::terminals::loadgen {

class ClipError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ClipPacket {
  std::vector<std::uint8_t> payload;  // RTP payload only (no RTP header)
  bool marker = false;
};

// One video frame or one audio packet: the packets that share an RTP timestamp.
struct ClipFrame {
  std::size_t first = 0;  // index into ClipTrack::packets
  std::size_t count = 0;
  bool keyframe = false;  // carries an IDR slice or SPS (video only)
};

struct ClipTrack {
  std::vector<ClipPacket> packets;
  std::vector<ClipFrame> frames;
  std::chrono::microseconds frame_interval{0};  // time between frames when sent in real time
  std::uint32_t clock_rate = 0;
  std::uint64_t payload_bytes = 0;

  double seconds() const noexcept;
  double bitrate_kbps() const noexcept;  // payload bytes only
  // The index of the last keyframe at or before `frame` (0 if none).
  std::size_t keyframe_at_or_before(std::size_t frame) const noexcept;
};

struct Clip {
  ClipTrack video;  // H.264, 90 kHz
  ClipTrack audio;  // Opus, 48 kHz, 20 ms
};

inline constexpr std::size_t kRtpMtu = 1200;

// Cuts the H.264 track of a Matroska file (huijian's make-test-clip output)
// into RTP payloads and makes as many seconds of Opus as the video lasts.
// Needs gst_init first. Throws ClipError naming what went wrong.
Clip load_clip(const std::string& matroska_h264_file);

}  // namespace huijian::terminals::loadgen
