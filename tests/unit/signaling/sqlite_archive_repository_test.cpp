// SqliteArchiveRepository on a real database file: case records, the archive
// index, its search, and the migration that brings them (and the archivist role).
#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>
#include <stdlib.h>

#include <filesystem>

#include "signaling/errors.hpp"
#include "signaling/sqlite_archive_repository.hpp"
#include "signaling/sqlite_supervision_repository.hpp"

using namespace huijian::signaling;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hj-archive-store-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

ArchiveRecord archive(const std::string& meeting, const std::string& started_at, const std::string& lawyer,
                      const std::string& detainee, const std::string& case_id) {
  ArchiveRecord a;
  a.meeting_id = meeting;
  a.case_id = case_id;
  a.lawyer_device = lawyer;
  a.detainee_device = detainee;
  a.started_at = started_at;
  a.ended_at = started_at;  // not used by the search
  a.duration_ms = 1800000;
  a.bytes = 5'000'000'000ULL;  // more than 32 bits
  a.manifest_sha256 = std::string(64, 'a');
  a.indexed_at = "2026-12-01T00:00:00.000Z";
  return a;
}

std::vector<std::string> ids(const std::vector<ArchiveRecord>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.meeting_id);
  return out;
}

// Four archives over three days; m-2 has a case record naming the lawyer 张三
// and the detainee 李四; m-4's names come only from its manifest.
struct Indexed {
  TempDir dir;
  SqliteMeetingRepository meetings{dir.path / "huijian.sqlite3"};
  SqliteArchiveRepository repo{meetings};
  Indexed() {
    repo.put_archive(archive("m-1", "2026-11-21T09:00:00.000Z", "lawyer-1", "detainee-1", "(2026)京0105刑初1号"));
    repo.put_archive(archive("m-2", "2026-11-22T09:00:00.000Z", "lawyer-2", "detainee-1", "(2026)京0105刑初2号"));
    repo.put_archive(archive("m-3", "2026-11-23T09:00:00.000Z", "lawyer-1", "detainee-2", ""));
    auto m4 = archive("m-4", "2026-11-23T15:00:00.000Z", "lawyer-3", "detainee-3", "");
    m4.lawyer_name = "王五";
    m4.detainee_name = "赵六";
    repo.put_archive(m4);
    CaseRecord c;
    c.meeting_id = "m-2";
    c.case_id = "(2026)京0105刑初2号";
    c.lawyer_name = "张三";
    c.detainee_name = "李四";
    repo.put_case(c);
  }
};

}  // namespace

TEST_CASE("SqliteArchiveRepository: a case record is stored, replaced and read back field by field") {
  TempDir dir;
  SqliteMeetingRepository meetings(dir.path / "huijian.sqlite3");
  SqliteArchiveRepository repo(meetings);
  CHECK_FALSE(repo.find_case("m-1"));
  CaseRecord c{"m-1", "(2026)京0105刑初123号", "张三", "11101201010000001", "北京某律师事务所", "李四",
               "110101199001011234", "commission", std::string(64, 'b') + ".pdf", std::string(64, 'b'),
               "application/pdf", "2026-11-23T08:00:00.000Z"};
  repo.put_case(c);
  auto stored = repo.find_case("m-1");
  REQUIRE(stored);
  CHECK(stored->case_id == c.case_id);
  CHECK(stored->lawyer_name == "张三");
  CHECK(stored->lawyer_license == c.lawyer_license);
  CHECK(stored->lawyer_firm == c.lawyer_firm);
  CHECK(stored->detainee_name == "李四");
  CHECK(stored->detainee_id_number == c.detainee_id_number);
  CHECK(stored->letter_kind == "commission");
  CHECK(stored->letter_file == c.letter_file);
  CHECK(stored->letter_sha256 == c.letter_sha256);
  CHECK(stored->letter_content_type == "application/pdf");
  CHECK(stored->updated_at == c.updated_at);
  c.lawyer_name = "张三丰";
  c.letter_kind = "legal_aid";
  repo.put_case(c);
  CHECK(repo.find_case("m-1")->lawyer_name == "张三丰");
  CHECK(repo.find_case("m-1")->letter_kind == "legal_aid");
  CHECK_FALSE(repo.find_case("m-2"));
}

TEST_CASE("SqliteArchiveRepository: an index row survives reopening the file and is replaced by a new one") {
  TempDir dir;
  auto file = dir.path / "huijian.sqlite3";
  {
    SqliteMeetingRepository meetings(file);
    SqliteArchiveRepository repo(meetings);
    auto a = archive("m-1", "2026-11-23T09:00:00.020Z", "lawyer-1", "detainee-1", "case-1");
    a.ended_normally = false;
    a.faults = "disk full at 09:12";
    a.lawyer_name = "张三";
    repo.put_archive(a);
  }
  SqliteMeetingRepository meetings(file);
  SqliteArchiveRepository repo(meetings);
  auto a = repo.find_archive("m-1");
  REQUIRE(a);
  CHECK(a->case_id == "case-1");
  CHECK(a->lawyer_device == "lawyer-1");
  CHECK(a->detainee_device == "detainee-1");
  CHECK(a->lawyer_name == "张三");
  CHECK(a->started_at == "2026-11-23T09:00:00.020Z");
  CHECK_FALSE(a->ended_normally);
  CHECK(a->faults == "disk full at 09:12");
  CHECK(a->duration_ms == 1800000);
  CHECK(a->bytes == 5'000'000'000ULL);
  CHECK(a->manifest_sha256 == std::string(64, 'a'));
  CHECK(a->indexed_at == "2026-12-01T00:00:00.000Z");
  auto again = *a;
  again.ended_normally = true;
  again.faults.clear();
  repo.put_archive(again);
  CHECK(repo.find_archive("m-1")->ended_normally);
  CHECK(repo.search_archives({}).size() == 1);
  CHECK_FALSE(repo.find_archive("m-2"));
}

TEST_CASE("SqliteArchiveRepository: the search is newest first and filters by time, lawyer, detainee and case") {
  Indexed x;
  CHECK(ids(x.repo.search_archives({})) == std::vector<std::string>{"m-4", "m-3", "m-2", "m-1"});

  ArchiveFilter f;
  f.limit = 2;
  CHECK(ids(x.repo.search_archives(f)) == std::vector<std::string>{"m-4", "m-3"});

  f = {};
  f.from = "2026-11-22";
  f.to = "2026-11-23";
  CHECK(ids(x.repo.search_archives(f)) == std::vector<std::string>{"m-2"});
  f.to = "2026-11-23T12:00";
  CHECK(ids(x.repo.search_archives(f)) == std::vector<std::string>{"m-3", "m-2"});

  f = {};
  f.lawyer = "lawyer-1";  // a device id matches exactly
  CHECK(ids(x.repo.search_archives(f)) == std::vector<std::string>{"m-3", "m-1"});
  f.lawyer = "lawyer";  // not a part of a device id
  CHECK(x.repo.search_archives(f).empty());
  f.lawyer = "张";  // part of the name in the case record
  CHECK(ids(x.repo.search_archives(f)) == std::vector<std::string>{"m-2"});
  f.lawyer = "王五";  // the name the manifest carried
  CHECK(ids(x.repo.search_archives(f)) == std::vector<std::string>{"m-4"});

  f = {};
  f.detainee = "detainee-1";
  CHECK(ids(x.repo.search_archives(f)) == std::vector<std::string>{"m-2", "m-1"});
  f.detainee = "李四";
  CHECK(ids(x.repo.search_archives(f)) == std::vector<std::string>{"m-2"});
  f.detainee = "赵六";
  CHECK(ids(x.repo.search_archives(f)) == std::vector<std::string>{"m-4"});

  f = {};
  f.case_id = "刑初1号";
  CHECK(ids(x.repo.search_archives(f)) == std::vector<std::string>{"m-1"});
  f.case_id = "(2026)京0105";
  CHECK(ids(x.repo.search_archives(f)) == std::vector<std::string>{"m-2", "m-1"});

  f = {};
  f.lawyer = "lawyer-1";
  f.detainee = "detainee-2";
  CHECK(ids(x.repo.search_archives(f)) == std::vector<std::string>{"m-3"});
}

TEST_CASE("SqliteArchiveRepository: LIKE wildcards in a search term are taken literally") {
  Indexed x;
  ArchiveFilter f;
  f.lawyer = "%";
  CHECK(x.repo.search_archives(f).empty());
  f.lawyer = "_";
  CHECK(x.repo.search_archives(f).empty());
  f = {};
  f.case_id = "%";
  CHECK(x.repo.search_archives(f).empty());
}

TEST_CASE("SqliteArchiveRepository: a version-2 store gains the archive tables and keeps its accounts") {
  TempDir dir;
  auto file = dir.path / "huijian.sqlite3";
  {
    SqliteMeetingRepository meetings(file);
    SqliteSupervisionRepository supervision(meetings);
    supervision.upsert_account({"wang", "王警官", AccountRole::Officer, "pbkdf2-sha256$1$x$y", "config", "t0", "t0"});
  }
  {
    // Back to what schema version 2 had: no archive tables, no archivist role.
    SQLite::Database db(file.string(), SQLite::OPEN_READWRITE);
    db.exec("DROP TABLE archives; DROP TABLE case_records; DELETE FROM schema_version WHERE version > 2;"
            "CREATE TABLE accounts_v2 (username TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL CHECK "
            "(role IN ('officer', 'admin')), password_hash TEXT NOT NULL, source TEXT NOT NULL, created_at TEXT NOT "
            "NULL, updated_at TEXT NOT NULL);"
            "INSERT INTO accounts_v2 SELECT * FROM accounts; DROP TABLE accounts;"
            "ALTER TABLE accounts_v2 RENAME TO accounts;");
    CHECK_THROWS(db.exec("INSERT INTO accounts VALUES ('a', 'A', 'archivist', 'h', 'config', 't', 't')"));
  }
  SqliteMeetingRepository meetings(file);
  CHECK(meetings.schema_version() == SqliteMeetingRepository::latest_schema_version());
  SqliteSupervisionRepository supervision(meetings);
  SqliteArchiveRepository repo(meetings);
  REQUIRE(supervision.find_account("wang"));
  CHECK(supervision.find_account("wang")->name == "王警官");
  supervision.upsert_account({"dang", "档案员", AccountRole::Archivist, "pbkdf2-sha256$1$x$y", "config", "t0", "t0"});
  CHECK(supervision.find_account("dang")->role == AccountRole::Archivist);
  repo.put_archive(archive("m-1", "2026-11-23T09:00:00.000Z", "lawyer-1", "detainee-1", ""));
  CHECK(repo.find_archive("m-1"));
}
