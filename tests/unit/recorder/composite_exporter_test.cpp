#include "recorder/composite_exporter.hpp"

#include "recorder/media_probe.hpp"
#include "scratch_dir.hpp"
#include "synthetic_archive.hpp"

#include <catch2/catch.hpp>

using namespace huijian::recorder;
using huijian::recorder::testing::make_synthetic_archive;
using huijian::recorder::testing::mean_luma_per_frame;
using huijian::recorder::testing::ScratchDir;

TEST_CASE("CompositeExporter: a 3 s two-party archive becomes a 1920-wide MP4 of 3 s", "[composite_exporter]") {
  ScratchDir dir("export");
  const ManifestSigner signer = ManifestSigner::load_or_create(dir.path() / "keys");
  // The lawyer in two segments, the detainee in one that starts late: the export spans them all.
  make_synthetic_archive(dir.path() / "archive", "m-1",
                         {{Party::Lawyer, 45, 0, 640, 360},
                          {Party::Lawyer, 45, 1500, 640, 360},
                          {Party::Detainee, 75, 500, 320, 240}},
                         signer);
  const auto out = dir.path() / "m-1.mp4";
  const ExportResult result = export_composite(dir.path() / "archive" / "m-1", out);
  CHECK(result.file == out);
  CHECK(std::filesystem::exists(out));
  CHECK_FALSE(std::filesystem::exists(dir.path() / "m-1.mp4.part"));
  CHECK(result.seconds > 0);
  CHECK(result.media_ms == Approx(3000).margin(500));

  const MediaInfo info = probe_media(out);
  CHECK(info.video_streams == 1);
  CHECK(info.audio_streams == 0);
  CHECK(info.video_codec == "video/x-h264");
  CHECK(info.width >= 1920);
  CHECK(info.duration_ms == Approx(3000).margin(500));
}

TEST_CASE("CompositeExporter: names a listed segment that is missing and leaves no file", "[composite_exporter]") {
  ScratchDir dir("export");
  const ManifestSigner signer = ManifestSigner::load_or_create(dir.path() / "keys");
  make_synthetic_archive(dir.path() / "archive", "m-1", {{Party::Lawyer, 15, 0}, {Party::Detainee, 15, 0}}, signer);
  std::filesystem::remove(dir.path() / "archive" / "m-1" / "detainee-00000.mkv");
  const auto out = dir.path() / "m-1.mp4";
  CHECK_THROWS_WITH(export_composite(dir.path() / "archive" / "m-1", out), Catch::Contains("detainee-00000.mkv"));
  CHECK_FALSE(std::filesystem::exists(out));
  CHECK_FALSE(std::filesystem::exists(dir.path() / "m-1.mp4.part"));
}

TEST_CASE("CompositeExporter: names a folder without a manifest", "[composite_exporter]") {
  ScratchDir dir("export");
  std::filesystem::create_directories(dir.path() / "m-9");
  CHECK_THROWS_AS(export_composite(dir.path() / "m-9", dir.path() / "out.mp4"), ExportError);
  CHECK_THROWS_WITH(export_composite(dir.path() / "m-9", dir.path() / "out.mp4"), Catch::Contains("manifest.json"));
}

TEST_CASE("CompositeExporter: lines the parties up on the recording's origin and shows a slate where one has no picture",
          "[composite_exporter]") {
  ScratchDir dir("export");
  const ManifestSigner signer = ManifestSigner::load_or_create(dir.path() / "keys");
  // Lawyer (bright colour bars): 0–1 s, nothing, then 3–4 s. Detainee (pinwheel): 1–3 s only.
  make_synthetic_archive(dir.path() / "archive", "m-1",
                         {{Party::Lawyer, 30, 0}, {Party::Lawyer, 30, 3000}, {Party::Detainee, 60, 1000}}, signer);
  const auto out = dir.path() / "m-1.mp4";
  const ExportResult result = export_composite(dir.path() / "archive" / "m-1", out);
  CHECK(result.media_ms == Approx(4000).margin(100));

  // The middle of each 960x540 slot (which starts at y=270), clear of the slate's centred text.
  const auto lawyer = mean_luma_per_frame(out, 100, 300, 760, 100);
  const auto detainee = mean_luma_per_frame(out, 960 + 100, 300, 760, 100);
  // 4 s at 30 fps; Matroska keeps whole milliseconds, so the last frame may reach just past 4 s.
  REQUIRE(lawyer.size() >= 120);
  REQUIRE(lawyer.size() <= 121);
  REQUIRE(detainee.size() == lawyer.size());
  auto picture = [](double luma) { return luma > 50; };  // the slate is black (luma ~16)
  // A last picture stays up for 0.5 s at most, then the slate shows.
  for (int frame : {5, 20, 95, 110}) {
    INFO("frame " << frame);
    CHECK(picture(lawyer[frame]));
    CHECK_FALSE(picture(detainee[frame]));
  }
  for (int frame : {35, 52, 65, 80}) {
    INFO("frame " << frame);
    CHECK(picture(detainee[frame]));
    if (frame > 45) CHECK_FALSE(picture(lawyer[frame]));
  }
}

TEST_CASE("CompositeExporter: names a segment without an H.264 track instead of waiting for it",
          "[composite_exporter]") {
  ScratchDir dir("export");
  const ManifestSigner signer = ManifestSigner::load_or_create(dir.path() / "keys");
  make_synthetic_archive(dir.path() / "archive", "m-1", {{Party::Lawyer, 15, 0}, {Party::Detainee, 15, 0}}, signer);
  // Sound where the detainee's picture should be: never linked, so the export fails and says where.
  huijian::recorder::testing::run_pipeline("audiotestsrc num-buffers=20 ! opusenc ! matroskamux ! filesink location=\"" +
                                           (dir.path() / "archive" / "m-1" / "detainee-00000.mkv").string() + "\"");
  const auto out = dir.path() / "m-1.mp4";
  CHECK_THROWS_WITH(export_composite(dir.path() / "archive" / "m-1", out),
                    Catch::Contains("detainee-00000.mkv") && Catch::Contains("no H.264 video track"));
  CHECK_FALSE(std::filesystem::exists(out));
  CHECK_FALSE(std::filesystem::exists(dir.path() / "m-1.mp4.part"));
}
