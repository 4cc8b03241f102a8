#pragma once
// SupervisionRepository on the SQLite file of a SqliteMeetingRepository
// (same database handle; its migrations create these tables).

#include "signaling/sqlite_meeting_repository.hpp"
#include "signaling/supervision_repository.hpp"

namespace huijian::signaling {

class SqliteSupervisionRepository final : public SupervisionRepository {
 public:
  // `meetings` must outlive this object. Throws StoreError.
  explicit SqliteSupervisionRepository(SqliteMeetingRepository& meetings);

  bool insert_account(const AccountRecord& account) override;
  void upsert_account(const AccountRecord& account) override;
  std::optional<AccountRecord> find_account(const std::string& username) override;
  std::vector<AccountRecord> accounts() override;

  std::int64_t add_violation(const ViolationRecord& violation) override;
  std::vector<ViolationRecord> violations(const ViolationFilter& filter) override;
  std::map<std::string, std::int64_t> count_violations(const ViolationFilter& filter) override;

  std::int64_t add_notice(const NoticeRecord& notice) override;
  std::vector<NoticeRecord> notices(const std::string& meeting_id) override;

  std::int64_t add_interjection(const InterjectionRecord& interjection) override;
  std::vector<InterjectionRecord> interjections(const std::string& meeting_id) override;

  std::int64_t append_audit(const AuditEntry& entry) override;
  std::vector<AuditEntry> audit(std::int64_t after_id, std::size_t limit) override;

 private:
  SQLite::Database& db_;
};

}  // namespace huijian::signaling
