#pragma once
// ArchiveRepository on the SQLite file of a SqliteMeetingRepository (same
// database handle; its migrations create the tables case_records and
// archives).

#include "signaling/archive_repository.hpp"
#include "signaling/sqlite_meeting_repository.hpp"

namespace huijian::signaling {

class SqliteArchiveRepository final : public ArchiveRepository {
 public:
  // `meetings` must outlive this object.
  explicit SqliteArchiveRepository(SqliteMeetingRepository& meetings);

  // All throw StoreError.
  void put_case(const CaseRecord& record) override;
  std::optional<CaseRecord> find_case(const std::string& meeting_id) override;

  void put_archive(const ArchiveRecord& record) override;
  std::optional<ArchiveRecord> find_archive(const std::string& meeting_id) override;
  // Newest recording first (started_at, then meeting id); at most filter.limit rows.
  std::vector<ArchiveRecord> search_archives(const ArchiveFilter& filter) override;

 private:
  SQLite::Database& db_;
};

}  // namespace huijian::signaling
