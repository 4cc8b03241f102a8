#include "recorder/media_probe.hpp"

#include "gst_test_media.hpp"
#include "scratch_dir.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using huijian::recorder::probe_media;
using huijian::recorder::ProbeError;
using huijian::recorder::testing::make_h264_segment;
using huijian::recorder::testing::make_segment_with_audio;
using huijian::recorder::testing::ScratchDir;

TEST_CASE("probe_media: reads an H.264 Matroska segment's codec, size and duration", "[media_probe]") {
  ScratchDir dir("probe");
  const auto file = dir.path() / "lawyer-00000.mkv";
  make_h264_segment(file, 60, 0, 320, 240);
  const auto info = probe_media(file);
  CHECK(info.video_streams == 1);
  CHECK(info.audio_streams == 0);
  CHECK(info.other_streams == 0);
  CHECK(info.video_codec == "video/x-h264");
  CHECK(info.width == 320);
  CHECK(info.height == 240);
  CHECK(info.duration_ms >= 1900);  // 60 frames at 30 fps
  CHECK(info.duration_ms <= 2100);
}

TEST_CASE("probe_media: counts an audio stream beside the picture", "[media_probe]") {
  ScratchDir dir("probe");
  const auto file = dir.path() / "with-audio.mkv";
  make_segment_with_audio(file, 30);
  const auto info = probe_media(file);
  CHECK(info.video_streams == 1);
  CHECK(info.audio_streams == 1);
}

TEST_CASE("probe_media: names a file that is not media or does not exist", "[media_probe]") {
  ScratchDir dir("probe");
  const auto junk = dir.path() / "junk.mkv";
  {
    std::ofstream out(junk, std::ios::binary);
    for (int i = 0; i < 4096; ++i) out.put(static_cast<char>(i * 7));
  }
  CHECK_THROWS_AS(probe_media(junk), ProbeError);
  CHECK_THROWS_WITH(probe_media(junk), Catch::Contains("junk.mkv"));
  CHECK_THROWS_WITH(probe_media(dir.path() / "absent.mkv"), Catch::Contains("absent.mkv"));
}
