#pragma once
// The side-by-side export of one meeting's archive (docs/archive.md,
// "Checking and exporting an archive"): both parties' pictures next to each
// other on a 1920x1080 frame, lined up on the recording's origin, each under
// its device name, the meeting's wall-clock time in Beijing time burnt in, a
// "无画面 / no picture" slate where a party has no footage; H.264 in MP4.
// Picture only: the exporter links nothing but H.264 video streams.

#include <cstdint>
#include <filesystem>
#include <stdexcept>

namespace huijian::recorder {

// The manifest is missing or bad, a segment is missing, a GStreamer element
// is not installed, or the pipeline failed; what() names the file or element.
class ExportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ExportResult {
  std::filesystem::path file;  // the finished MP4 (out_mp4)
  double seconds = 0;          // wall time the export took
  std::int64_t media_ms = 0;   // length of the output video
};

// The output's frame: two 960x540 slots side by side in a 1920x1080 picture.
inline constexpr int kCompositeWidth = 1920;
inline constexpr int kCompositeHeight = 1080;
inline constexpr int kCompositeFps = 30;

// Reads <folder>/manifest.json (checking the archive is verify_archive's job,
// the caller's business) and writes the composite to out_mp4 + ".part", then
// renames it to out_mp4. Decodes and re-encodes (x264 superfast), faster than
// real time for two 1080p30 parties on two cores. Throws ExportError; leaves
// no .part behind.
ExportResult export_composite(const std::filesystem::path& folder, const std::filesystem::path& out_mp4);

}  // namespace huijian::recorder
