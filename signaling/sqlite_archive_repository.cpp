#include "signaling/sqlite_archive_repository.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include "signaling/sqlite_guarded.hpp"

namespace huijian::signaling {
namespace {

constexpr const char* kCaseColumns =
    "meeting_id, case_id, lawyer_name, lawyer_license, lawyer_firm, detainee_name, detainee_id_number, "
    "letter_kind, letter_file, letter_sha256, letter_content_type, updated_at";

constexpr const char* kArchiveColumns =
    "a.meeting_id, a.case_id, a.lawyer_device, a.detainee_device, a.lawyer_name, a.detainee_name, a.started_at, "
    "a.ended_at, a.ended_normally, a.faults, a.duration_ms, a.bytes, a.manifest_sha256, a.indexed_at";

CaseRecord read_case(SQLite::Statement& q) {
  CaseRecord c;
  c.meeting_id = q.getColumn(0).getString();
  c.case_id = q.getColumn(1).getString();
  c.lawyer_name = q.getColumn(2).getString();
  c.lawyer_license = q.getColumn(3).getString();
  c.lawyer_firm = q.getColumn(4).getString();
  c.detainee_name = q.getColumn(5).getString();
  c.detainee_id_number = q.getColumn(6).getString();
  c.letter_kind = q.getColumn(7).getString();
  c.letter_file = q.getColumn(8).getString();
  c.letter_sha256 = q.getColumn(9).getString();
  c.letter_content_type = q.getColumn(10).getString();
  c.updated_at = q.getColumn(11).getString();
  return c;
}

ArchiveRecord read_archive(SQLite::Statement& q) {
  ArchiveRecord a;
  a.meeting_id = q.getColumn(0).getString();
  a.case_id = q.getColumn(1).getString();
  a.lawyer_device = q.getColumn(2).getString();
  a.detainee_device = q.getColumn(3).getString();
  a.lawyer_name = q.getColumn(4).getString();
  a.detainee_name = q.getColumn(5).getString();
  a.started_at = q.getColumn(6).getString();
  a.ended_at = q.getColumn(7).getString();
  a.ended_normally = q.getColumn(8).getInt() != 0;
  a.faults = q.getColumn(9).getString();
  a.duration_ms = q.getColumn(10).getInt64();
  a.bytes = static_cast<std::uint64_t>(q.getColumn(11).getInt64());
  a.manifest_sha256 = q.getColumn(12).getString();
  a.indexed_at = q.getColumn(13).getString();
  return a;
}

// "%text%" for LIKE ... ESCAPE '\', with the wildcards of `text` taken literally.
std::string contains_pattern(const std::string& text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('%');
  return out;
}

}  // namespace

SqliteArchiveRepository::SqliteArchiveRepository(SqliteMeetingRepository& meetings) : db_(meetings.database()) {}

void SqliteArchiveRepository::put_case(const CaseRecord& c) {
  sqlite_guarded("storing a case record", [&] {
    SQLite::Statement q(db_, fmt::format("INSERT OR REPLACE INTO case_records({}) "
                                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                         kCaseColumns));
    int i = 0;
    for (const std::string* v : {&c.meeting_id, &c.case_id, &c.lawyer_name, &c.lawyer_license, &c.lawyer_firm,
                                 &c.detainee_name, &c.detainee_id_number, &c.letter_kind, &c.letter_file,
                                 &c.letter_sha256, &c.letter_content_type, &c.updated_at})
      q.bind(++i, *v);
    return q.exec();
  });
}

std::optional<CaseRecord> SqliteArchiveRepository::find_case(const std::string& meeting_id) {
  return sqlite_guarded("reading a case record", [&]() -> std::optional<CaseRecord> {
    SQLite::Statement q(db_, fmt::format("SELECT {} FROM case_records WHERE meeting_id = ?", kCaseColumns));
    q.bind(1, meeting_id);
    if (!q.executeStep()) return std::nullopt;
    return read_case(q);
  });
}

void SqliteArchiveRepository::put_archive(const ArchiveRecord& a) {
  sqlite_guarded("storing an archive index row", [&] {
    SQLite::Statement q(db_,
                        "INSERT OR REPLACE INTO archives(meeting_id, case_id, lawyer_device, detainee_device, "
                        "lawyer_name, detainee_name, started_at, ended_at, ended_normally, faults, duration_ms, "
                        "bytes, manifest_sha256, indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    q.bind(1, a.meeting_id);
    q.bind(2, a.case_id);
    q.bind(3, a.lawyer_device);
    q.bind(4, a.detainee_device);
    q.bind(5, a.lawyer_name);
    q.bind(6, a.detainee_name);
    q.bind(7, a.started_at);
    q.bind(8, a.ended_at);
    q.bind(9, a.ended_normally ? 1 : 0);
    q.bind(10, a.faults);
    q.bind(11, a.duration_ms);
    q.bind(12, static_cast<std::int64_t>(a.bytes));
    q.bind(13, a.manifest_sha256);
    q.bind(14, a.indexed_at);
    return q.exec();
  });
}

std::optional<ArchiveRecord> SqliteArchiveRepository::find_archive(const std::string& meeting_id) {
  return sqlite_guarded("reading an archive index row", [&]() -> std::optional<ArchiveRecord> {
    SQLite::Statement q(db_, fmt::format("SELECT {} FROM archives a WHERE a.meeting_id = ?", kArchiveColumns));
    q.bind(1, meeting_id);
    if (!q.executeStep()) return std::nullopt;
    return read_archive(q);
  });
}

std::vector<ArchiveRecord> SqliteArchiveRepository::search_archives(const ArchiveFilter& f) {
  return sqlite_guarded("searching the archive index", [&] {
    std::string where;
    if (!f.from.empty()) where += " AND a.started_at >= :from";
    if (!f.to.empty()) where += " AND a.started_at < :to";
    if (!f.lawyer.empty())
      where += " AND (a.lawyer_device = :lawyer OR a.lawyer_name LIKE :lawyer_like ESCAPE '\\'"
               " OR c.lawyer_name LIKE :lawyer_like ESCAPE '\\')";
    if (!f.detainee.empty())
      where += " AND (a.detainee_device = :detainee OR a.detainee_name LIKE :detainee_like ESCAPE '\\'"
               " OR c.detainee_name LIKE :detainee_like ESCAPE '\\')";
    if (!f.case_id.empty())
      where += " AND (a.case_id LIKE :case_like ESCAPE '\\' OR c.case_id LIKE :case_like ESCAPE '\\')";
    SQLite::Statement q(db_, fmt::format("SELECT {} FROM archives a LEFT JOIN case_records c "
                                         "ON c.meeting_id = a.meeting_id{} "
                                         "ORDER BY a.started_at DESC, a.meeting_id DESC LIMIT :limit",
                                         kArchiveColumns, where.empty() ? "" : " WHERE" + where.substr(4)));
    if (!f.from.empty()) q.bind(":from", f.from);
    if (!f.to.empty()) q.bind(":to", f.to);
    if (!f.lawyer.empty()) {
      q.bind(":lawyer", f.lawyer);
      q.bind(":lawyer_like", contains_pattern(f.lawyer));
    }
    if (!f.detainee.empty()) {
      q.bind(":detainee", f.detainee);
      q.bind(":detainee_like", contains_pattern(f.detainee));
    }
    if (!f.case_id.empty()) q.bind(":case_like", contains_pattern(f.case_id));
    q.bind(":limit", static_cast<std::int64_t>(f.limit));
    std::vector<ArchiveRecord> out;
    while (q.executeStep()) out.push_back(read_archive(q));
    return out;
  });
}

}  // namespace huijian::signaling
