#include "recorder/archive_verifier.hpp"

#include "scratch_dir.hpp"
#include "synthetic_archive.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

using namespace huijian::recorder;
using huijian::recorder::testing::make_segment_with_audio;
using huijian::recorder::testing::make_synthetic_archive;
using huijian::recorder::testing::ScratchDir;
using huijian::recorder::testing::write_signed_manifest;
using huijian::recorder::testing::write_text;

namespace {

// Two parties, two segments each, as the recorder leaves them after a normal end.
struct ArchiveFixture {
  ScratchDir dir{"verify"};
  ManifestSigner signer = ManifestSigner::load_or_create(dir.path() / "keys");
  std::filesystem::path public_key = dir.path() / "keys" / "archive-ed25519.pub.pem";
  std::filesystem::path folder = dir.path() / "archive" / "m-1";
  Manifest manifest = make_synthetic_archive(dir.path() / "archive", "m-1",
                                             {{Party::Lawyer, 30, 0},
                                              {Party::Detainee, 30, 0},
                                              {Party::Lawyer, 30, 1000},
                                              {Party::Detainee, 30, 1000}},
                                             signer);

  VerifyReport verify() const { return verify_archive(folder, public_key); }
};

std::string joined(const std::vector<std::string>& lines) {
  std::ostringstream out;
  for (const auto& line : lines) out << line << "\n";
  return out.str();
}

bool has_line(const std::vector<std::string>& lines, const std::string& text) {
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

std::string read_all(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("ArchiveVerifier: passes an intact archive", "[archive_verifier]") {
  ArchiveFixture f;
  const VerifyReport report = f.verify();
  INFO(joined(report.problems));
  CHECK(report.ok());
  CHECK(report.problems.empty());
  CHECK(report.notes.empty());
}

TEST_CASE("ArchiveVerifier: names a segment whose bytes changed", "[archive_verifier]") {
  ArchiveFixture f;
  const auto file = f.folder / "lawyer-00001.mkv";
  std::string bytes = read_all(file);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x01);  // one bit, same size
  write_text(file, bytes);
  const VerifyReport report = f.verify();
  INFO(joined(report.problems));
  CHECK_FALSE(report.ok());
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems[0].rfind("lawyer-00001.mkv: SHA-256 differs from the manifest (manifest " +
                                     f.manifest.segments[2].sha256 + ", file ",
                                 0) == 0);
}

TEST_CASE("ArchiveVerifier: names a listed segment that is missing", "[archive_verifier]") {
  ArchiveFixture f;
  std::filesystem::remove(f.folder / "detainee-00000.mkv");
  const VerifyReport report = f.verify();
  INFO(joined(report.problems));
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems[0] == "detainee-00000.mkv: listed in the manifest but missing");
}

TEST_CASE("ArchiveVerifier: a manifest edited after signing fails its signature", "[archive_verifier]") {
  ArchiveFixture f;
  const auto manifest_file = f.folder / "manifest.json";
  std::string text = read_all(manifest_file);
  const auto at = text.find("\"time_over\"");
  REQUIRE(at != std::string::npos);
  text.replace(at, 11, "\"terminated\"");
  write_text(manifest_file, text);
  const VerifyReport report = f.verify();
  INFO(joined(report.problems));
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems[0] == "manifest.json: signature does not match (edited after signing?)");
}

TEST_CASE("ArchiveVerifier: a manifest signed with another key fails and says so", "[archive_verifier]") {
  ArchiveFixture f;
  const ManifestSigner other = ManifestSigner::load_or_create(f.dir.path() / "other-keys");
  write_signed_manifest(f.folder, f.manifest, other);
  const VerifyReport report = f.verify();
  INFO(joined(report.problems));
  CHECK(has_line(report.problems, "manifest.json: signing_key_id " + other.key_id()));
  CHECK(has_line(report.problems, "manifest.json: signature does not match"));
}

TEST_CASE("ArchiveVerifier: names a missing signature file", "[archive_verifier]") {
  ArchiveFixture f;
  std::filesystem::remove(f.folder / "manifest.json.sig");
  const VerifyReport report = f.verify();
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems[0] == "manifest.json.sig: missing (the manifest is not signed)");
}

TEST_CASE("ArchiveVerifier: names a file that is not listed in the manifest", "[archive_verifier]") {
  ArchiveFixture f;
  write_text(f.folder / "notes.txt", "hello");
  const VerifyReport report = f.verify();
  INFO(joined(report.problems));
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems[0].rfind("notes.txt: not listed in the manifest", 0) == 0);
}

TEST_CASE("ArchiveVerifier: a segment with an audio stream is a problem named with the file", "[archive_verifier]") {
  ArchiveFixture f;
  // A correctly listed and signed segment that nonetheless carries sound.
  const auto file = f.folder / "detainee-00002.mkv";
  make_segment_with_audio(file, 30);
  Manifest m = f.manifest;
  SegmentEntry e;
  e.party = Party::Detainee;
  e.file = "detainee-00002.mkv";
  e.bytes = std::filesystem::file_size(file);
  e.sha256 = sha256_file_hex(file);
  e.start_ms = 2000;
  e.duration_ms = 1000;
  m.segments.push_back(e);
  write_signed_manifest(f.folder, m, f.signer);
  const VerifyReport report = f.verify();
  INFO(joined(report.problems));
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems[0] == "detainee-00002.mkv: holds 1 audio stream; an archive must hold picture only");
}

TEST_CASE("ArchiveVerifier: a leftover recording.json means the recording was never finalised", "[archive_verifier]") {
  ArchiveFixture f;
  write_text(f.folder / "recording.json", "{}\n");
  const VerifyReport report = f.verify();
  INFO(joined(report.problems));
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems[0].rfind("recording.json: the recording was never finalised", 0) == 0);
}

TEST_CASE("ArchiveVerifier: an unfinalised folder with no manifest reports both", "[archive_verifier]") {
  ArchiveFixture f;
  std::filesystem::remove(f.folder / "manifest.json");
  std::filesystem::remove(f.folder / "manifest.json.sig");
  write_text(f.folder / "recording.json", "{}\n");
  const VerifyReport report = f.verify();
  INFO(joined(report.problems));
  CHECK(has_line(report.problems, "recording.json: the recording was never finalised"));
  CHECK(has_line(report.problems, "manifest.json: missing"));
  CHECK(has_line(report.problems, "lawyer-00000.mkv: cannot be checked without a valid manifest"));
}

TEST_CASE("ArchiveVerifier: a meeting id that is not the folder's name is a problem", "[archive_verifier]") {
  ArchiveFixture f;
  Manifest m = f.manifest;
  m.meeting_id = "m-2";
  write_signed_manifest(f.folder, m, f.signer);
  const VerifyReport report = f.verify();
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems[0] == "manifest.json: meeting_id \"m-2\" does not match the folder name \"m-1\"");
}

TEST_CASE("ArchiveVerifier: names a manifest field that is missing", "[archive_verifier]") {
  ArchiveFixture f;
  auto j = to_json(f.manifest);
  j.erase("segments");
  const std::string text = j.dump(2) + "\n";
  write_text(f.folder / "manifest.json", text);
  write_text(f.folder / "manifest.json.sig", f.signer.sign_base64(text));
  const VerifyReport report = f.verify();
  INFO(joined(report.problems));
  CHECK(has_line(report.problems, "manifest.json: manifest: field \"segments\" is missing"));
}

TEST_CASE("ArchiveVerifier: notes gaps and an abnormal end; a gap explains a party without footage",
          "[archive_verifier]") {
  ArchiveFixture f;
  Manifest m = f.manifest;
  // The detainee's picture never arrived: drop its segments and record the gap.
  m.segments.erase(std::remove_if(m.segments.begin(), m.segments.end(),
                                  [](const SegmentEntry& s) { return s.party == Party::Detainee; }),
                   m.segments.end());
  std::filesystem::remove(f.folder / "detainee-00000.mkv");
  std::filesystem::remove(f.folder / "detainee-00001.mkv");
  m.gaps.push_back({Party::Detainee, 0, 2000, "", "", "no_video", ""});
  m.gaps.push_back({Party::Lawyer, 61000, 64500, "", "", "packet_loss", "42 frames"});
  m.ended_normally = false;
  m.end_reason = "server_stopped";
  write_signed_manifest(f.folder, m, f.signer);
  const VerifyReport report = f.verify();
  INFO(joined(report.problems) + joined(report.notes));
  CHECK(report.ok());
  CHECK(has_line(report.notes, "gap: detainee 0.0 s – 2.0 s (no_video)"));
  CHECK(has_line(report.notes, "gap: lawyer 61.0 s – 64.5 s (packet_loss): 42 frames"));
  CHECK(has_line(report.notes, "the recording ended abnormally (server_stopped)"));
  CHECK(has_line(report.notes, "detainee: no footage at all"));
}

TEST_CASE("ArchiveVerifier: a party with no footage and no explanation is a problem", "[archive_verifier]") {
  ArchiveFixture f;
  Manifest m = f.manifest;
  m.segments.erase(std::remove_if(m.segments.begin(), m.segments.end(),
                                  [](const SegmentEntry& s) { return s.party == Party::Lawyer; }),
                   m.segments.end());
  std::filesystem::remove(f.folder / "lawyer-00000.mkv");
  std::filesystem::remove(f.folder / "lawyer-00001.mkv");
  write_signed_manifest(f.folder, m, f.signer);
  const VerifyReport report = f.verify();
  INFO(joined(report.problems));
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems[0] ==
        "manifest.json: no segment of the lawyer and no gap or recorder fault that explains it");
}

TEST_CASE("ArchiveVerifier: refuses a segment path that leaves the folder", "[archive_verifier]") {
  ArchiveFixture f;
  Manifest m = f.manifest;
  m.segments[0].file = "../m-1/lawyer-00000.mkv";
  write_signed_manifest(f.folder, m, f.signer);
  const VerifyReport report = f.verify();
  INFO(joined(report.problems));
  CHECK(has_line(report.problems, "segments[0].file \"../m-1/lawyer-00000.mkv\" is not a file name"));
}

TEST_CASE("ArchiveVerifier: throws for a missing folder or an unreadable key", "[archive_verifier]") {
  ArchiveFixture f;
  CHECK_THROWS_AS(verify_archive(f.dir.path() / "archive" / "m-404", f.public_key), ArchiveAccessError);
  CHECK_THROWS_WITH(verify_archive(f.dir.path() / "archive" / "m-404", f.public_key), Catch::Contains("m-404"));
  CHECK_THROWS_AS(verify_archive(f.folder, f.dir.path() / "nope.pem"), SigningError);
}
