#include "signaling/sqlite_meeting_repository.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include "signaling/errors.hpp"
#include "signaling/sqlite_guarded.hpp"

namespace huijian::signaling {
namespace {

// Migration n (1-based) is kMigrations[n-1]. Never edit a released migration:
// add a new one.
constexpr const char* kMigrations[] = {
    // 1: meetings and their events
    "CREATE TABLE meetings ("
    "  id TEXT PRIMARY KEY,"
    "  lawyer_device TEXT NOT NULL,"
    "  detainee_device TEXT NOT NULL,"
    "  case_id TEXT NOT NULL DEFAULT '',"
    "  state TEXT NOT NULL,"
    "  created_at TEXT NOT NULL,"
    "  ended_at TEXT,"
    "  end_reason TEXT,"
    "  ended_by TEXT);"
    "CREATE INDEX meetings_lawyer ON meetings(lawyer_device, state);"
    "CREATE INDEX meetings_detainee ON meetings(detainee_device, state);"
    "CREATE TABLE meeting_events ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  meeting_id TEXT NOT NULL REFERENCES meetings(id),"
    "  at TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  detail TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX meeting_events_meeting ON meeting_events(meeting_id, id);",
    // 2: supervision: call time, accounts, violations, notices, interjections,
    // and the audit trail. Records of what happened only grow: triggers refuse
    // UPDATE and DELETE on them.
    "ALTER TABLE meetings ADD COLUMN minutes INTEGER;"
    "ALTER TABLE meetings ADD COLUMN connected_at TEXT;"
    "ALTER TABLE meetings ADD COLUMN ends_at TEXT;"
    "CREATE TABLE accounts ("
    "  username TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  role TEXT NOT NULL CHECK (role IN ('officer', 'admin')),"
    "  password_hash TEXT NOT NULL,"
    "  source TEXT NOT NULL,"
    "  created_at TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL);"
    "CREATE TABLE violations ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  meeting_id TEXT NOT NULL REFERENCES meetings(id),"
    "  lawyer_device TEXT NOT NULL,"
    "  detainee_device TEXT NOT NULL,"
    "  code TEXT NOT NULL,"
    "  text TEXT NOT NULL DEFAULT '',"
    "  officer TEXT NOT NULL,"
    "  at TEXT NOT NULL);"
    "CREATE INDEX violations_lawyer ON violations(lawyer_device, id);"
    "CREATE INDEX violations_meeting ON violations(meeting_id, id);"
    "CREATE TABLE notices ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  meeting_id TEXT NOT NULL REFERENCES meetings(id),"
    "  officer TEXT NOT NULL,"
    "  at TEXT NOT NULL,"
    "  text TEXT NOT NULL);"
    "CREATE INDEX notices_meeting ON notices(meeting_id, id);"
    "CREATE TABLE interjections ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  meeting_id TEXT NOT NULL REFERENCES meetings(id),"
    "  officer TEXT NOT NULL,"
    "  started_at TEXT NOT NULL,"
    "  stopped_at TEXT NOT NULL,"
    "  duration_ms INTEGER NOT NULL);"
    "CREATE INDEX interjections_meeting ON interjections(meeting_id, id);"
    "CREATE TABLE audit_log ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  at TEXT NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  actor_kind TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  target TEXT NOT NULL DEFAULT '',"
    "  outcome TEXT NOT NULL,"
    "  detail TEXT NOT NULL DEFAULT '');"
    "CREATE TRIGGER audit_log_append_only_u BEFORE UPDATE ON audit_log"
    "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
    "CREATE TRIGGER audit_log_append_only_d BEFORE DELETE ON audit_log"
    "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
    "CREATE TRIGGER violations_append_only_u BEFORE UPDATE ON violations"
    "  BEGIN SELECT RAISE(ABORT, 'violation records are append-only'); END;"
    "CREATE TRIGGER violations_append_only_d BEFORE DELETE ON violations"
    "  BEGIN SELECT RAISE(ABORT, 'violation records are append-only'); END;"
    "CREATE TRIGGER notices_append_only_u BEFORE UPDATE ON notices"
    "  BEGIN SELECT RAISE(ABORT, 'notices are append-only'); END;"
    "CREATE TRIGGER notices_append_only_d BEFORE DELETE ON notices"
    "  BEGIN SELECT RAISE(ABORT, 'notices are append-only'); END;"
    "CREATE TRIGGER interjections_append_only_u BEFORE UPDATE ON interjections"
    "  BEGIN SELECT RAISE(ABORT, 'interjections are append-only'); END;"
    "CREATE TRIGGER interjections_append_only_d BEFORE DELETE ON interjections"
    "  BEGIN SELECT RAISE(ABORT, 'interjections are append-only'); END;",
    // 3: the archive: the role "archivist" (SQLite cannot alter a CHECK, so
    // the accounts table is copied), case records and the archive index
    // (SqliteArchiveRepository).
    "CREATE TABLE accounts_v3 ("
    "  username TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  role TEXT NOT NULL CHECK (role IN ('officer', 'admin', 'archivist')),"
    "  password_hash TEXT NOT NULL,"
    "  source TEXT NOT NULL,"
    "  created_at TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL);"
    "INSERT INTO accounts_v3(username, name, role, password_hash, source, created_at, updated_at)"
    "  SELECT username, name, role, password_hash, source, created_at, updated_at FROM accounts;"
    "DROP TABLE accounts;"
    "ALTER TABLE accounts_v3 RENAME TO accounts;"
    "CREATE TABLE case_records ("
    "  meeting_id TEXT PRIMARY KEY,"
    "  case_id TEXT NOT NULL DEFAULT '',"
    "  lawyer_name TEXT NOT NULL DEFAULT '',"
    "  lawyer_license TEXT NOT NULL DEFAULT '',"
    "  lawyer_firm TEXT NOT NULL DEFAULT '',"
    "  detainee_name TEXT NOT NULL DEFAULT '',"
    "  detainee_id_number TEXT NOT NULL DEFAULT '',"
    "  letter_kind TEXT NOT NULL DEFAULT '',"
    "  letter_file TEXT NOT NULL DEFAULT '',"
    "  letter_sha256 TEXT NOT NULL DEFAULT '',"
    "  letter_content_type TEXT NOT NULL DEFAULT '',"
    "  updated_at TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX case_records_case ON case_records(case_id);"
    "CREATE TABLE archives ("
    "  meeting_id TEXT PRIMARY KEY,"
    "  case_id TEXT NOT NULL DEFAULT '',"
    "  lawyer_device TEXT NOT NULL DEFAULT '',"
    "  detainee_device TEXT NOT NULL DEFAULT '',"
    "  lawyer_name TEXT NOT NULL DEFAULT '',"
    "  detainee_name TEXT NOT NULL DEFAULT '',"
    "  started_at TEXT NOT NULL DEFAULT '',"
    "  ended_at TEXT NOT NULL DEFAULT '',"
    "  ended_normally INTEGER NOT NULL DEFAULT 1,"
    "  faults TEXT NOT NULL DEFAULT '',"
    "  duration_ms INTEGER NOT NULL DEFAULT 0,"
    "  bytes INTEGER NOT NULL DEFAULT 0,"
    "  manifest_sha256 TEXT NOT NULL DEFAULT '',"
    "  indexed_at TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX archives_started ON archives(started_at);"
    "CREATE INDEX archives_lawyer ON archives(lawyer_device, started_at);"
    "CREATE INDEX archives_detainee ON archives(detainee_device, started_at);"
    "CREATE INDEX archives_case ON archives(case_id);",
};

constexpr const char* kMeetingColumns =
    "id, lawyer_device, detainee_device, case_id, state, created_at, "
    "COALESCE(ended_at, ''), COALESCE(end_reason, ''), COALESCE(ended_by, ''), minutes, "
    "COALESCE(connected_at, ''), COALESCE(ends_at, '')";

MeetingRecord read_meeting(SQLite::Statement& q) {
  MeetingRecord m;
  m.id = q.getColumn(0).getString();
  m.lawyer_device = q.getColumn(1).getString();
  m.detainee_device = q.getColumn(2).getString();
  m.case_id = q.getColumn(3).getString();
  auto state_text = q.getColumn(4).getString();
  auto state = meeting_state_from_string(state_text);
  if (!state)
    throw StoreError(fmt::format("meeting {} has an unknown state \"{}\" in the store", m.id, state_text));
  m.state = *state;
  m.created_at = q.getColumn(5).getString();
  m.ended_at = q.getColumn(6).getString();
  m.end_reason = q.getColumn(7).getString();
  m.ended_by = q.getColumn(8).getString();
  if (!q.getColumn(9).isNull()) m.minutes = q.getColumn(9).getInt();
  m.connected_at = q.getColumn(10).getString();
  m.ends_at = q.getColumn(11).getString();
  return m;
}

}  // namespace

SqliteMeetingRepository::SqliteMeetingRepository(const std::filesystem::path& file) {
  sqlite_guarded("opening the database", [&] {
    db_ = std::make_unique<SQLite::Database>(file.string(),
                                             SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db_->setBusyTimeout(5000);
    db_->exec("PRAGMA journal_mode=WAL");
    db_->exec("PRAGMA foreign_keys=ON");
    db_->exec("PRAGMA synchronous=NORMAL");
    return 0;
  });
  migrate();
}

SqliteMeetingRepository::~SqliteMeetingRepository() = default;

int SqliteMeetingRepository::latest_schema_version() noexcept {
  return static_cast<int>(std::size(kMigrations));
}

int SqliteMeetingRepository::schema_version() {
  return sqlite_guarded("reading the schema version", [&] {
    SQLite::Statement q(*db_, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
    q.executeStep();
    return q.getColumn(0).getInt();
  });
}

void SqliteMeetingRepository::migrate() {
  sqlite_guarded("migrating the schema", [&] {
    db_->exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL)");
    int current = schema_version();
    if (current > latest_schema_version())
      throw StoreError(fmt::format(
          "the store has schema version {} but this huijiand knows only up to {}: use a newer huijiand",
          current, latest_schema_version()));
    for (int v = current + 1; v <= latest_schema_version(); ++v) {
      SQLite::Transaction tx(*db_);
      db_->exec(kMigrations[v - 1]);
      SQLite::Statement q(*db_, "INSERT INTO schema_version(version, applied_at) VALUES (?, strftime('%Y-%m-%dT%H:%M:%fZ','now'))");
      q.bind(1, v);
      q.exec();
      tx.commit();
    }
    return 0;
  });
}

bool SqliteMeetingRepository::insert_if_absent(const MeetingRecord& meeting, const std::string& at,
                                               const std::string& actor) {
  return sqlite_guarded("inserting a meeting", [&] {
    SQLite::Transaction tx(*db_);
    SQLite::Statement q(*db_,
                        "INSERT OR IGNORE INTO meetings(id, lawyer_device, detainee_device, case_id, "
                        "state, created_at, minutes) VALUES (?, ?, ?, ?, 'waiting', ?, ?)");
    q.bind(1, meeting.id);
    q.bind(2, meeting.lawyer_device);
    q.bind(3, meeting.detainee_device);
    q.bind(4, meeting.case_id);
    q.bind(5, at);
    if (meeting.minutes) q.bind(6, *meeting.minutes);
    else q.bind(6);
    if (q.exec() == 0) return false;
    SQLite::Statement e(*db_,
                        "INSERT INTO meeting_events(meeting_id, at, kind, actor, detail) "
                        "VALUES (?, ?, 'created', ?, ?)");
    e.bind(1, meeting.id);
    e.bind(2, at);
    e.bind(3, actor);
    e.bind(4, fmt::format("lawyer {}, detainee {}", meeting.lawyer_device, meeting.detainee_device));
    e.exec();
    tx.commit();
    return true;
  });
}

void SqliteMeetingRepository::update_parties(const MeetingRecord& meeting) {
  sqlite_guarded("updating a meeting", [&] {
    SQLite::Statement q(*db_,
                        "UPDATE meetings SET lawyer_device = ?, detainee_device = ?, case_id = ?, minutes = ? "
                        "WHERE id = ? AND state != 'ended'");
    q.bind(1, meeting.lawyer_device);
    q.bind(2, meeting.detainee_device);
    q.bind(3, meeting.case_id);
    if (meeting.minutes) q.bind(4, *meeting.minutes);
    else q.bind(4);
    q.bind(5, meeting.id);
    return q.exec();
  });
}

std::optional<MeetingRecord> SqliteMeetingRepository::find(const std::string& id) {
  return sqlite_guarded("reading a meeting", [&]() -> std::optional<MeetingRecord> {
    SQLite::Statement q(*db_, fmt::format("SELECT {} FROM meetings WHERE id = ?", kMeetingColumns));
    q.bind(1, id);
    if (!q.executeStep()) return std::nullopt;
    return read_meeting(q);
  });
}

std::optional<MeetingRecord> SqliteMeetingRepository::find_open_for_device(const std::string& device) {
  return sqlite_guarded("finding a device's meeting", [&]() -> std::optional<MeetingRecord> {
    SQLite::Statement q(*db_, fmt::format("SELECT {} FROM meetings WHERE state != 'ended' AND "
                                          "(lawyer_device = ?1 OR detainee_device = ?1) "
                                          "ORDER BY created_at DESC, rowid DESC LIMIT 1",
                                          kMeetingColumns));
    q.bind(1, device);
    if (!q.executeStep()) return std::nullopt;
    return read_meeting(q);
  });
}

std::vector<MeetingRecord> SqliteMeetingRepository::open_meetings() {
  return sqlite_guarded("listing open meetings", [&] {
    std::vector<MeetingRecord> out;
    SQLite::Statement q(*db_, fmt::format("SELECT {} FROM meetings WHERE state != 'ended' ORDER BY rowid",
                                          kMeetingColumns));
    while (q.executeStep()) out.push_back(read_meeting(q));
    return out;
  });
}

void SqliteMeetingRepository::record_state(const std::string& meeting_id, MeetingState state,
                                           const std::string& at, const std::string& actor,
                                           const std::string& detail) {
  sqlite_guarded("storing a state change", [&] {
    SQLite::Transaction tx(*db_);
    int changed = 0;
    if (state == MeetingState::Ended) {
      SQLite::Statement q(*db_,
                          "UPDATE meetings SET state = 'ended', ended_at = ?, end_reason = ?, "
                          "ended_by = ? WHERE id = ?");
      q.bind(1, at);
      q.bind(2, detail);
      q.bind(3, actor);
      q.bind(4, meeting_id);
      changed = q.exec();
    } else if (state == MeetingState::Connected) {
      SQLite::Statement q(*db_, "UPDATE meetings SET state = 'connected', connected_at = ? WHERE id = ?");
      q.bind(1, at);
      q.bind(2, meeting_id);
      changed = q.exec();
    } else {
      SQLite::Statement q(*db_, "UPDATE meetings SET state = ? WHERE id = ?");
      q.bind(1, to_string(state));
      q.bind(2, meeting_id);
      changed = q.exec();
    }
    if (changed == 0) throw StoreError(fmt::format("store: meeting {} does not exist", meeting_id));
    SQLite::Statement e(*db_,
                        "INSERT INTO meeting_events(meeting_id, at, kind, actor, detail) VALUES (?, ?, ?, ?, ?)");
    e.bind(1, meeting_id);
    e.bind(2, at);
    e.bind(3, std::string("state:") + to_string(state));
    e.bind(4, actor);
    e.bind(5, detail);
    e.exec();
    tx.commit();
    return 0;
  });
}

void SqliteMeetingRepository::record_time(const std::string& meeting_id, std::optional<int> minutes,
                                          const std::string& ends_at, const std::string& at,
                                          const std::string& actor, const std::string& detail) {
  sqlite_guarded("storing a call time", [&] {
    SQLite::Transaction tx(*db_);
    SQLite::Statement q(*db_,
                        "UPDATE meetings SET minutes = CASE WHEN ?1 THEN ?2 ELSE minutes END, "
                        "ends_at = CASE WHEN ?3 != '' THEN ?3 ELSE ends_at END WHERE id = ?4");
    q.bind(1, minutes.has_value() ? 1 : 0);
    if (minutes) q.bind(2, *minutes);
    else q.bind(2);
    q.bind(3, ends_at);
    q.bind(4, meeting_id);
    if (q.exec() == 0) throw StoreError(fmt::format("store: meeting {} does not exist", meeting_id));
    SQLite::Statement e(*db_,
                        "INSERT INTO meeting_events(meeting_id, at, kind, actor, detail) VALUES (?, ?, 'time', ?, ?)");
    e.bind(1, meeting_id);
    e.bind(2, at);
    e.bind(3, actor);
    e.bind(4, detail);
    e.exec();
    tx.commit();
    return 0;
  });
}

void SqliteMeetingRepository::set_ends_at(const std::string& meeting_id, const std::string& ends_at) {
  sqlite_guarded("storing an end time", [&] {
    SQLite::Statement q(*db_, "UPDATE meetings SET ends_at = ? WHERE id = ?");
    q.bind(1, ends_at);
    q.bind(2, meeting_id);
    if (q.exec() == 0) throw StoreError(fmt::format("store: meeting {} does not exist", meeting_id));
    return 0;
  });
}

std::vector<MeetingEvent> SqliteMeetingRepository::events(const std::string& meeting_id) {
  return sqlite_guarded("reading meeting events", [&] {
    std::vector<MeetingEvent> out;
    SQLite::Statement q(*db_,
                        "SELECT id, meeting_id, at, kind, actor, detail FROM meeting_events "
                        "WHERE meeting_id = ? ORDER BY id");
    q.bind(1, meeting_id);
    while (q.executeStep()) {
      MeetingEvent e;
      e.id = q.getColumn(0).getInt64();
      e.meeting_id = q.getColumn(1).getString();
      e.at = q.getColumn(2).getString();
      e.kind = q.getColumn(3).getString();
      e.actor = q.getColumn(4).getString();
      e.detail = q.getColumn(5).getString();
      out.push_back(std::move(e));
    }
    return out;
  });
}

}  // namespace huijian::signaling
