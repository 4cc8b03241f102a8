#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>
#include <stdlib.h>

#include <filesystem>

#include "signaling/errors.hpp"
#include "signaling/sqlite_meeting_repository.hpp"

using namespace huijian::signaling;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hj-store-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

MeetingRecord meeting(const std::string& id, const std::string& lawyer = "lawyer-1",
                      const std::string& detainee = "detainee-1") {
  MeetingRecord m;
  m.id = id;
  m.lawyer_device = lawyer;
  m.detainee_device = detainee;
  m.case_id = "(2026)京0105刑初123号";
  return m;
}

}  // namespace

TEST_CASE("SqliteMeetingRepository: state changes are stored in order with their timestamps") {
  TempDir dir;
  SqliteMeetingRepository store(dir.path / "h.sqlite3");
  REQUIRE(store.insert_if_absent(meeting("m-1"), "2026-11-23T09:00:00.000Z", "config"));
  store.record_state("m-1", MeetingState::DetaineeReady, "2026-11-23T09:00:01.100Z", "detainee-1", "");
  store.record_state("m-1", MeetingState::Connected, "2026-11-23T09:00:02.200Z", "lawyer-1", "");
  store.record_state("m-1", MeetingState::Ended, "2026-11-23T09:30:00.300Z", "lawyer-1", "finished");

  auto events = store.events("m-1");
  REQUIRE(events.size() == 4);
  CHECK(events[0].kind == "created");
  CHECK(events[0].actor == "config");
  CHECK(events[1].kind == "state:detainee_ready");
  CHECK(events[1].at == "2026-11-23T09:00:01.100Z");
  CHECK(events[1].actor == "detainee-1");
  CHECK(events[2].kind == "state:connected");
  CHECK(events[2].at == "2026-11-23T09:00:02.200Z");
  CHECK(events[3].kind == "state:ended");
  CHECK(events[3].detail == "finished");
  CHECK(events[1].id < events[2].id);
  CHECK(events[2].id < events[3].id);

  auto m = store.find("m-1");
  REQUIRE(m);
  CHECK(m->state == MeetingState::Ended);
  CHECK(m->created_at == "2026-11-23T09:00:00.000Z");
  CHECK(m->ended_at == "2026-11-23T09:30:00.300Z");
  CHECK(m->end_reason == "finished");
  CHECK(m->ended_by == "lawyer-1");
  CHECK(m->case_id == "(2026)京0105刑初123号");
}

TEST_CASE("SqliteMeetingRepository: migrations are idempotent on an existing file and data survive") {
  TempDir dir;
  auto file = dir.path / "h.sqlite3";
  {
    SqliteMeetingRepository store(file);
    CHECK(store.schema_version() == SqliteMeetingRepository::latest_schema_version());
    store.insert_if_absent(meeting("m-1"), "2026-11-23T09:00:00.000Z", "config");
  }
  {
    SqliteMeetingRepository store(file);
    CHECK(store.schema_version() == SqliteMeetingRepository::latest_schema_version());
    REQUIRE(store.find("m-1"));
    CHECK(store.events("m-1").size() == 1);
  }
  SQLite::Database db(file.string());
  CHECK(db.execAndGet("SELECT COUNT(*) FROM schema_version").getInt() ==
        SqliteMeetingRepository::latest_schema_version());
  CHECK(db.execAndGet("PRAGMA journal_mode").getString() == "wal");
}

TEST_CASE("SqliteMeetingRepository: a store from a newer huijiand is refused") {
  TempDir dir;
  auto file = dir.path / "h.sqlite3";
  { SqliteMeetingRepository store(file); }
  {
    SQLite::Database db(file.string(), SQLite::OPEN_READWRITE);
    db.exec("INSERT INTO schema_version(version, applied_at) VALUES (999, 'x')");
  }
  CHECK_THROWS_AS(SqliteMeetingRepository(file), StoreError);
}

TEST_CASE("SqliteMeetingRepository: insert_if_absent leaves an existing (ended) meeting as it is") {
  TempDir dir;
  SqliteMeetingRepository store(dir.path / "h.sqlite3");
  REQUIRE(store.insert_if_absent(meeting("m-1"), "2026-11-23T09:00:00.000Z", "config"));
  store.record_state("m-1", MeetingState::Ended, "2026-11-23T09:01:00.000Z", "admin", "cancelled");
  CHECK_FALSE(store.insert_if_absent(meeting("m-1"), "2026-11-24T09:00:00.000Z", "config"));
  store.update_parties(meeting("m-1", "lawyer-2"));
  auto m = store.find("m-1");
  REQUIRE(m);
  CHECK(m->state == MeetingState::Ended);
  CHECK(m->lawyer_device == "lawyer-1");  // an ended meeting is not changed
  CHECK(store.events("m-1").size() == 2);
}

TEST_CASE("SqliteMeetingRepository: finds the open meeting of a device") {
  TempDir dir;
  SqliteMeetingRepository store(dir.path / "h.sqlite3");
  store.insert_if_absent(meeting("m-1"), "2026-11-23T09:00:00.000Z", "config");
  store.insert_if_absent(meeting("m-2", "lawyer-2", "detainee-2"), "2026-11-23T09:00:00.000Z", "config");
  REQUIRE(store.find_open_for_device("detainee-1"));
  CHECK(store.find_open_for_device("detainee-1")->id == "m-1");
  CHECK(store.find_open_for_device("lawyer-2")->id == "m-2");
  CHECK_FALSE(store.find_open_for_device("nobody"));
  store.record_state("m-1", MeetingState::Ended, "2026-11-23T09:01:00.000Z", "admin", "");
  CHECK_FALSE(store.find_open_for_device("lawyer-1"));
  CHECK(store.open_meetings().size() == 1);
}

TEST_CASE("SqliteMeetingRepository: a state change of an unknown meeting is an error, not a silent no-op") {
  TempDir dir;
  SqliteMeetingRepository store(dir.path / "h.sqlite3");
  CHECK_THROWS_AS(store.record_state("nope", MeetingState::Connected, "2026-11-23T09:00:00.000Z", "x", ""),
                  StoreError);
  CHECK(store.events("nope").empty());
}

TEST_CASE("SqliteMeetingRepository: a version-1 store is migrated to the latest version and keeps its meetings") {
  TempDir dir;
  auto file = dir.path / "old.sqlite3";
  {
    // The store as the first release of huijiand left it (migration 1 only).
    SQLite::Database db(file.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec(
        "CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL);"
        "INSERT INTO schema_version VALUES (1, '2026-01-01T00:00:00.000Z');"
        "CREATE TABLE meetings (id TEXT PRIMARY KEY, lawyer_device TEXT NOT NULL, detainee_device TEXT NOT NULL,"
        "  case_id TEXT NOT NULL DEFAULT '', state TEXT NOT NULL, created_at TEXT NOT NULL, ended_at TEXT,"
        "  end_reason TEXT, ended_by TEXT);"
        "CREATE INDEX meetings_lawyer ON meetings(lawyer_device, state);"
        "CREATE INDEX meetings_detainee ON meetings(detainee_device, state);"
        "CREATE TABLE meeting_events (id INTEGER PRIMARY KEY AUTOINCREMENT, meeting_id TEXT NOT NULL REFERENCES "
        "  meetings(id), at TEXT NOT NULL, kind TEXT NOT NULL, actor TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '');"
        "CREATE INDEX meeting_events_meeting ON meeting_events(meeting_id, id);"
        "INSERT INTO meetings(id, lawyer_device, detainee_device, case_id, state, created_at, ended_at, end_reason, "
        "  ended_by) VALUES ('old-1', 'lawyer-1', 'detainee-1', 'C-1', 'ended', '2026-01-01T09:00:00.000Z',"
        "  '2026-01-01T09:30:00.000Z', 'done', 'lawyer-1');"
        "INSERT INTO meetings(id, lawyer_device, detainee_device, state, created_at) VALUES ('old-2', 'lawyer-1',"
        "  'detainee-1', 'waiting', '2026-01-02T09:00:00.000Z');");
  }
  REQUIRE(SqliteMeetingRepository::latest_schema_version() >= 2);
  SqliteMeetingRepository store(file);
  CHECK(store.schema_version() == SqliteMeetingRepository::latest_schema_version());
  auto old = store.find("old-1");
  REQUIRE(old);
  CHECK(old->state == MeetingState::Ended);
  CHECK(old->end_reason == "done");
  CHECK_FALSE(old->minutes.has_value());
  CHECK(old->connected_at.empty());
  CHECK(old->ends_at.empty());
  // The new columns and tables work on the migrated file.
  store.record_time("old-2", 25, "", "2026-01-02T09:01:00.000Z", "officer:wang", "call time set to 25 min");
  CHECK(store.find("old-2")->minutes == std::optional<int>(25));
  SQLite::Database check(file.string(), SQLite::OPEN_READONLY);
  CHECK(check.tableExists("audit_log"));
  CHECK(check.tableExists("violations"));
  CHECK(check.tableExists("accounts"));
}

TEST_CASE("SqliteMeetingRepository: connect stores its time; record_time stores minutes and the end with an event") {
  TempDir dir;
  SqliteMeetingRepository store(dir.path / "h.sqlite3");
  auto m = meeting("m-1");
  m.minutes = 20;
  REQUIRE(store.insert_if_absent(m, "2026-11-23T09:00:00.000Z", "config"));
  CHECK(store.find("m-1")->minutes == std::optional<int>(20));
  store.record_state("m-1", MeetingState::DetaineeReady, "2026-11-23T09:00:01.000Z", "detainee-1", "");
  store.record_state("m-1", MeetingState::Connected, "2026-11-23T09:00:02.000Z", "lawyer-1", "");
  store.set_ends_at("m-1", "2026-11-23T09:20:02.000Z");
  auto connected = store.find("m-1");
  CHECK(connected->connected_at == "2026-11-23T09:00:02.000Z");
  CHECK(connected->ends_at == "2026-11-23T09:20:02.000Z");
  CHECK(store.events("m-1").size() == 3);  // set_ends_at adds no event

  store.record_time("m-1", std::nullopt, "2026-11-23T09:05:00.000Z", "2026-11-23T09:04:00.000Z", "officer:wang",
                    "ends in 60 s");
  auto moved = store.find("m-1");
  CHECK(moved->minutes == std::optional<int>(20));  // unchanged without minutes
  CHECK(moved->ends_at == "2026-11-23T09:05:00.000Z");
  auto events = store.events("m-1");
  REQUIRE(events.size() == 4);
  CHECK(events[3].kind == "time");
  CHECK(events[3].actor == "officer:wang");
  CHECK(events[3].detail == "ends in 60 s");
  CHECK_THROWS_AS(store.record_time("ghost", 5, "", "t", "a", "d"), StoreError);
}
