#pragma once
// A meeting archive folder built the way the recorder leaves one: H.264
// Matroska segments per party, manifest.json written with manifest_text and
// manifest.json.sig signed with a ManifestSigner.

#include "gst_test_media.hpp"
#include "recorder/archive_manifest.hpp"
#include "recorder/file_digest.hpp"
#include "recorder/manifest_signer.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace huijian::recorder::testing {

struct SyntheticSegment {
  Party party = Party::Lawyer;
  int frames = 60;           // at 30 fps
  std::int64_t start_ms = 0;
  int width = 320;
  int height = 240;
};

inline void write_text(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
  REQUIRE(out.good());
}

// Writes manifest.json from the manifest (with the signer's key id) and its signature.
inline void write_signed_manifest(const std::filesystem::path& folder, Manifest manifest,
                                  const ManifestSigner& signer) {
  manifest.signing_key_id = signer.key_id();
  const std::string text = manifest_text(manifest);
  write_text(folder / std::string(kManifestFile), text);
  write_text(folder / std::string(kSignatureFile), signer.sign_base64(text) + "\n");
}

// A finished archive of meeting `meeting_id` under archive_dir with these segments.
inline Manifest make_synthetic_archive(const std::filesystem::path& archive_dir, const std::string& meeting_id,
                                       const std::vector<SyntheticSegment>& segments, const ManifestSigner& signer) {
  const auto folder = archive_dir / meeting_id;
  std::filesystem::create_directories(folder);
  Manifest m;
  m.meeting_id = meeting_id;
  m.case_id = "(2026)京0105刑初123号";
  m.parties = {{Party::Lawyer, "lawyer-1", "会见室 1"}, {Party::Detainee, "detainee-1", "看守所终端 1"}};
  m.connected_at = "2026-11-23T02:00:00.000Z";
  m.recording_started_at = "2026-11-23T02:00:00.020Z";
  m.recording_ended_at = "2026-11-23T02:00:03.020Z";
  m.ended_at = "2026-11-23T02:00:03.000Z";
  m.ended_normally = true;
  m.end_reason = "time_over";
  m.ended_by = "server";
  m.events.push_back({"2026-11-23T02:00:00.000Z", "state:connected", "lawyer-1", ""});
  std::map<Party, int> counters;
  for (const auto& s : segments) {
    char name[64];
    std::snprintf(name, sizeof(name), "%s-%05d.mkv", to_string(s.party), counters[s.party]++);
    // Distinct pictures per party so the composite shows which is which.
    make_h264_segment(folder / name, s.frames, s.start_ms, s.width, s.height,
                      s.party == Party::Lawyer ? "smpte" : "pinwheel");
    SegmentEntry e;
    e.party = s.party;
    e.file = name;
    e.bytes = std::filesystem::file_size(folder / name);
    e.sha256 = sha256_file_hex(folder / name);
    e.start_ms = s.start_ms;
    e.duration_ms = static_cast<std::int64_t>(s.frames) * 1000 / 30;
    m.segments.push_back(e);
  }
  write_signed_manifest(folder, m, signer);
  m.signing_key_id = signer.key_id();
  return m;
}

}  // namespace huijian::recorder::testing
