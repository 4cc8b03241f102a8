#pragma once
// What a media file holds, read with GStreamer's discoverer: how many video,
// audio and other streams, the video codec and size, the duration. The
// archive check uses it to prove a segment is H.264 picture and no sound.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace huijian::recorder {

// The file is missing, unreadable, not a media file the installed plugins
// parse, or took longer than the timeout; what() names the file and carries
// the discoverer's message.
class ProbeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MediaInfo {
  int video_streams = 0;
  int audio_streams = 0;
  int other_streams = 0;       // subtitles, data, anything neither video nor audio (containers not counted)
  std::string video_codec;     // caps name of the first video stream, e.g. "video/x-h264"
  int width = 0;               // of the first video stream
  int height = 0;
  std::int64_t duration_ms = -1;  // -1 when the file does not say
};

// Probes the whole file (initialises GStreamer when nobody has yet).
// Throws ProbeError.
MediaInfo probe_media(const std::filesystem::path& file, std::chrono::seconds timeout = std::chrono::seconds(30));

}  // namespace huijian::recorder
