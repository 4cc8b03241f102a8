#include "signaling/sqlite_supervision_repository.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include "signaling/errors.hpp"
#include "signaling/sqlite_guarded.hpp"

namespace huijian::signaling {
namespace {

constexpr const char* kAccountColumns = "username, name, role, password_hash, source, created_at, updated_at";

AccountRecord read_account(SQLite::Statement& q) {
  AccountRecord a;
  a.username = q.getColumn(0).getString();
  a.name = q.getColumn(1).getString();
  auto role = account_role_from_string(q.getColumn(2).getString());
  if (!role) throw StoreError(fmt::format("account {} has an unknown role in the store", a.username));
  a.role = *role;
  a.password_hash = q.getColumn(3).getString();
  a.source = q.getColumn(4).getString();
  a.created_at = q.getColumn(5).getString();
  a.updated_at = q.getColumn(6).getString();
  return a;
}

// "WHERE ..." for a violation filter; binds start at 1 in the order meeting, lawyer.
std::string violation_where(const ViolationFilter& f) {
  std::string w;
  if (!f.meeting_id.empty()) w += " AND meeting_id = :meeting";
  if (!f.lawyer_device.empty()) w += " AND lawyer_device = :lawyer";
  return w.empty() ? std::string() : " WHERE" + w.substr(4);
}

void bind_violation_filter(SQLite::Statement& q, const ViolationFilter& f) {
  if (!f.meeting_id.empty()) q.bind(":meeting", f.meeting_id);
  if (!f.lawyer_device.empty()) q.bind(":lawyer", f.lawyer_device);
}

}  // namespace

SqliteSupervisionRepository::SqliteSupervisionRepository(SqliteMeetingRepository& meetings)
    : db_(meetings.database()) {}

bool SqliteSupervisionRepository::insert_account(const AccountRecord& a) {
  return sqlite_guarded("inserting an account", [&] {
    SQLite::Statement q(db_, fmt::format("INSERT OR IGNORE INTO accounts({}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                         kAccountColumns));
    q.bind(1, a.username);
    q.bind(2, a.name);
    q.bind(3, to_string(a.role));
    q.bind(4, a.password_hash);
    q.bind(5, a.source);
    q.bind(6, a.created_at);
    q.bind(7, a.updated_at);
    return q.exec() == 1;
  });
}

void SqliteSupervisionRepository::upsert_account(const AccountRecord& a) {
  sqlite_guarded("storing an account", [&] {
    SQLite::Statement q(db_, fmt::format("INSERT INTO accounts({}) VALUES (?, ?, ?, ?, ?, ?, ?) "
                                         "ON CONFLICT(username) DO UPDATE SET name = excluded.name, "
                                         "role = excluded.role, password_hash = excluded.password_hash, "
                                         "source = excluded.source, updated_at = excluded.updated_at",
                                         kAccountColumns));
    q.bind(1, a.username);
    q.bind(2, a.name);
    q.bind(3, to_string(a.role));
    q.bind(4, a.password_hash);
    q.bind(5, a.source);
    q.bind(6, a.created_at);
    q.bind(7, a.updated_at);
    return q.exec();
  });
}

std::optional<AccountRecord> SqliteSupervisionRepository::find_account(const std::string& username) {
  return sqlite_guarded("reading an account", [&]() -> std::optional<AccountRecord> {
    SQLite::Statement q(db_, fmt::format("SELECT {} FROM accounts WHERE username = ?", kAccountColumns));
    q.bind(1, username);
    if (!q.executeStep()) return std::nullopt;
    return read_account(q);
  });
}

std::vector<AccountRecord> SqliteSupervisionRepository::accounts() {
  return sqlite_guarded("listing accounts", [&] {
    std::vector<AccountRecord> out;
    SQLite::Statement q(db_, fmt::format("SELECT {} FROM accounts ORDER BY username", kAccountColumns));
    while (q.executeStep()) out.push_back(read_account(q));
    return out;
  });
}

std::int64_t SqliteSupervisionRepository::add_violation(const ViolationRecord& v) {
  return sqlite_guarded("storing a violation", [&] {
    SQLite::Statement q(db_,
                        "INSERT INTO violations(meeting_id, lawyer_device, detainee_device, code, text, officer, at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)");
    q.bind(1, v.meeting_id);
    q.bind(2, v.lawyer_device);
    q.bind(3, v.detainee_device);
    q.bind(4, v.code);
    q.bind(5, v.text);
    q.bind(6, v.officer);
    q.bind(7, v.at);
    q.exec();
    return db_.getLastInsertRowid();
  });
}

std::vector<ViolationRecord> SqliteSupervisionRepository::violations(const ViolationFilter& f) {
  return sqlite_guarded("listing violations", [&] {
    std::vector<ViolationRecord> out;
    SQLite::Statement q(db_, fmt::format("SELECT id, meeting_id, lawyer_device, detainee_device, code, text, "
                                         "officer, at FROM violations{} ORDER BY id DESC LIMIT :limit",
                                         violation_where(f)));
    bind_violation_filter(q, f);
    q.bind(":limit", static_cast<std::int64_t>(f.limit));
    while (q.executeStep()) {
      ViolationRecord v;
      v.id = q.getColumn(0).getInt64();
      v.meeting_id = q.getColumn(1).getString();
      v.lawyer_device = q.getColumn(2).getString();
      v.detainee_device = q.getColumn(3).getString();
      v.code = q.getColumn(4).getString();
      v.text = q.getColumn(5).getString();
      v.officer = q.getColumn(6).getString();
      v.at = q.getColumn(7).getString();
      out.push_back(std::move(v));
    }
    return out;
  });
}

std::map<std::string, std::int64_t> SqliteSupervisionRepository::count_violations(const ViolationFilter& f) {
  return sqlite_guarded("counting violations", [&] {
    std::map<std::string, std::int64_t> out;
    SQLite::Statement q(db_, fmt::format("SELECT code, COUNT(*) FROM violations{} GROUP BY code",
                                         violation_where(f)));
    bind_violation_filter(q, f);
    while (q.executeStep()) out[q.getColumn(0).getString()] = q.getColumn(1).getInt64();
    return out;
  });
}

std::int64_t SqliteSupervisionRepository::add_notice(const NoticeRecord& n) {
  return sqlite_guarded("storing a notice", [&] {
    SQLite::Statement q(db_, "INSERT INTO notices(meeting_id, officer, at, text) VALUES (?, ?, ?, ?)");
    q.bind(1, n.meeting_id);
    q.bind(2, n.officer);
    q.bind(3, n.at);
    q.bind(4, n.text);
    q.exec();
    return db_.getLastInsertRowid();
  });
}

std::vector<NoticeRecord> SqliteSupervisionRepository::notices(const std::string& meeting_id) {
  return sqlite_guarded("reading notices", [&] {
    std::vector<NoticeRecord> out;
    SQLite::Statement q(db_, "SELECT id, meeting_id, officer, at, text FROM notices WHERE meeting_id = ? ORDER BY id");
    q.bind(1, meeting_id);
    while (q.executeStep())
      out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(), q.getColumn(2).getString(),
                     q.getColumn(3).getString(), q.getColumn(4).getString()});
    return out;
  });
}

std::int64_t SqliteSupervisionRepository::add_interjection(const InterjectionRecord& i) {
  return sqlite_guarded("storing an interjection", [&] {
    SQLite::Statement q(db_,
                        "INSERT INTO interjections(meeting_id, officer, started_at, stopped_at, duration_ms) "
                        "VALUES (?, ?, ?, ?, ?)");
    q.bind(1, i.meeting_id);
    q.bind(2, i.officer);
    q.bind(3, i.started_at);
    q.bind(4, i.stopped_at);
    q.bind(5, i.duration_ms);
    q.exec();
    return db_.getLastInsertRowid();
  });
}

std::vector<InterjectionRecord> SqliteSupervisionRepository::interjections(const std::string& meeting_id) {
  return sqlite_guarded("reading interjections", [&] {
    std::vector<InterjectionRecord> out;
    SQLite::Statement q(db_,
                        "SELECT id, meeting_id, officer, started_at, stopped_at, duration_ms FROM interjections "
                        "WHERE meeting_id = ? ORDER BY id");
    q.bind(1, meeting_id);
    while (q.executeStep())
      out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(), q.getColumn(2).getString(),
                     q.getColumn(3).getString(), q.getColumn(4).getString(), q.getColumn(5).getInt64()});
    return out;
  });
}

std::int64_t SqliteSupervisionRepository::append_audit(const AuditEntry& e) {
  return sqlite_guarded("appending to the audit log", [&] {
    SQLite::Statement q(db_,
                        "INSERT INTO audit_log(at, actor, actor_kind, action, target, outcome, detail) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)");
    q.bind(1, e.at);
    q.bind(2, e.actor);
    q.bind(3, e.actor_kind);
    q.bind(4, e.action);
    q.bind(5, e.target);
    q.bind(6, e.outcome);
    q.bind(7, e.detail);
    q.exec();
    return db_.getLastInsertRowid();
  });
}

std::vector<AuditEntry> SqliteSupervisionRepository::audit(std::int64_t after_id, std::size_t limit) {
  return sqlite_guarded("reading the audit log", [&] {
    std::vector<AuditEntry> out;
    SQLite::Statement q(db_,
                        "SELECT id, at, actor, actor_kind, action, target, outcome, detail FROM audit_log "
                        "WHERE id > ? ORDER BY id LIMIT ?");
    q.bind(1, after_id);
    q.bind(2, static_cast<std::int64_t>(limit));
    while (q.executeStep())
      out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(), q.getColumn(2).getString(),
                     q.getColumn(3).getString(), q.getColumn(4).getString(), q.getColumn(5).getString(),
                     q.getColumn(6).getString(), q.getColumn(7).getString()});
    return out;
  });
}

}  // namespace huijian::signaling
