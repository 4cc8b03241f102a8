// reindex_archives and archive_record_of: the archive index from the folders
// on disk, with broken folders named and left out.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "recorder/archive_manifest.hpp"
#include "recorder/file_digest.hpp"
#include "signaling/archive_index.hpp"
#include "signaling/sqlite_archive_repository.hpp"

using namespace huijian::signaling;
using huijian::recorder::Party;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hj-archive-index-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  REQUIRE(out.good());
}

huijian::recorder::Manifest manifest_of(const std::string& meeting) {
  huijian::recorder::Manifest m;
  m.meeting_id = meeting;
  m.case_id = "(2026)京0105刑初123号";
  m.parties = {{Party::Lawyer, "lawyer-1", "律师会见室 1"}, {Party::Detainee, "detainee-1", "会见室 A"}};
  m.connected_at = "2026-11-23T10:00:00.000Z";
  m.recording_started_at = "2026-11-23T10:00:00.020Z";
  m.recording_ended_at = "2026-11-23T10:30:00.100Z";
  m.ended_at = "2026-11-23T10:30:00.050Z";
  m.end_reason = "time_over";
  m.ended_by = "server";
  m.segments = {{Party::Lawyer, "lawyer-00000.mkv", 1000, std::string(64, 'a'), 310, 179690, false},
                {Party::Lawyer, "lawyer-00001.mkv", 2000, std::string(64, 'b'), 180000, 1620000, false},
                {Party::Detainee, "detainee-00000.mkv", 500, std::string(64, 'c'), 290, 1799700, true}};
  return m;
}

}  // namespace

TEST_CASE("archive_record_of: parties, names, times, bytes and faults of a manifest") {
  auto m = manifest_of("m-1");
  huijian::recorder::CaseEntry c;
  c.lawyer_name = "张三";
  c.detainee_name = "李四";
  m.case_info = c;
  m.ended_normally = false;
  m.recorder_faults = "detainee segment 0 repaired";
  auto r = archive_record_of(m, std::string(64, 'f'), "2026-12-01T00:00:00.000Z");
  CHECK(r.meeting_id == "m-1");
  CHECK(r.case_id == "(2026)京0105刑初123号");
  CHECK(r.lawyer_device == "lawyer-1");
  CHECK(r.detainee_device == "detainee-1");
  CHECK(r.lawyer_name == "张三");
  CHECK(r.detainee_name == "李四");
  CHECK(r.started_at == "2026-11-23T10:00:00.020Z");
  CHECK(r.ended_at == "2026-11-23T10:30:00.100Z");
  CHECK(r.duration_ms == 30 * 60 * 1000 + 80);
  CHECK(r.bytes == 3500);
  CHECK_FALSE(r.ended_normally);
  CHECK(r.faults == "detainee segment 0 repaired");
  CHECK(r.manifest_sha256 == std::string(64, 'f'));
  CHECK(r.indexed_at == "2026-12-01T00:00:00.000Z");

  // Without a usable end time (a crash), the duration is the end of the last segment.
  m.recording_ended_at = "";
  CHECK(archive_record_of(m, "", "").duration_ms == 1800000);
}

TEST_CASE("reindex_archives: every folder with a good manifest is indexed, broken ones are named and skipped") {
  TempDir dir;
  SqliteMeetingRepository meetings(dir.path / "huijian.sqlite3");
  SqliteArchiveRepository repo(meetings);
  const auto archive = dir.path / "archive";
  const std::string good = huijian::recorder::manifest_text(manifest_of("m-1"));
  write_file(archive / "m-1" / "manifest.json", good);
  write_file(archive / "m-2" / "manifest.json", huijian::recorder::manifest_text(manifest_of("m-2")));
  write_file(archive / "m-3" / "recording.json", "{}");                 // still recording: left out silently
  write_file(archive / "m-4" / "manifest.json", "{\"format\": 5");      // not JSON
  write_file(archive / "m-5" / "manifest.json", "{\"format\": \"huijian-archive/1\"}");  // fields missing
  write_file(archive / "m-6" / "manifest.json", good);                   // names meeting m-1
  write_file(archive / "bad name" / "manifest.json", good);
  write_file(archive / "stray.txt", "a file, not a folder");

  auto result = reindex_archives(repo, archive);
  CHECK(result.indexed == 2);
  REQUIRE(result.skipped.size() == 4);
  CHECK(result.skipped[0] == "bad name: the folder name is not a meeting id");
  CHECK(result.skipped[1].rfind("m-4: ", 0) == 0);
  CHECK(result.skipped[1].find("is not JSON") != std::string::npos);
  CHECK(result.skipped[2].rfind("m-5: ", 0) == 0);
  CHECK(result.skipped[2].find("meeting_id") != std::string::npos);
  CHECK(result.skipped[3] == "m-6: the manifest is of meeting m-1");

  auto m1 = repo.find_archive("m-1");
  REQUIRE(m1);
  CHECK(m1->manifest_sha256 == huijian::recorder::sha256_hex(good));
  CHECK(m1->bytes == 3500);
  CHECK(repo.find_archive("m-2"));
  for (const char* absent : {"m-3", "m-4", "m-5", "m-6"}) CHECK_FALSE(repo.find_archive(absent));

  // Run again after the manifest changed: the row is replaced, nothing doubles.
  auto changed = manifest_of("m-1");
  changed.recorder_faults = "re-signed";
  write_file(archive / "m-1" / "manifest.json", huijian::recorder::manifest_text(changed));
  CHECK(reindex_archives(repo, archive).indexed == 2);
  CHECK(repo.find_archive("m-1")->faults == "re-signed");
  CHECK(repo.search_archives({}).size() == 2);
}

TEST_CASE("reindex_archives: a missing archive folder indexes nothing") {
  TempDir dir;
  SqliteMeetingRepository meetings(dir.path / "huijian.sqlite3");
  SqliteArchiveRepository repo(meetings);
  auto result = reindex_archives(repo, dir.path / "no-such-folder");
  CHECK(result.indexed == 0);
  CHECK(result.skipped.empty());
}

TEST_CASE("read_stored_manifest: too big a manifest is refused before it is read") {
  TempDir dir;
  {
    std::ofstream out(dir.path / "manifest.json", std::ios::binary);
    out.seekp(static_cast<std::streamoff>(kMaxManifestBytes));
    out.put('\n');
  }
  CHECK_THROWS_WITH(read_stored_manifest(dir.path), Catch::Contains("more than the limit"));
}
