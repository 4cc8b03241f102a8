#pragma once
// Storage of what supervision adds: officer and administrator accounts,
// violation records, text notices, interjections and the append-only audit
// trail. Behind an interface so a PostgreSQL backend can replace SQLite.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "signaling/config.hpp"

namespace huijian::signaling {

struct AccountRecord {
  std::string username;
  std::string name;
  AccountRole role = AccountRole::Officer;
  std::string password_hash;  // PasswordHash text; never leaves the server
  std::string source;         // "config" or "api"
  std::string created_at;
  std::string updated_at;
};

struct ViolationRecord {
  std::int64_t id = 0;
  std::string meeting_id;
  std::string lawyer_device;
  std::string detainee_device;
  std::string code;  // "violation_phone", ... (TerminationReason)
  std::string text;  // the officer's words, may be empty except for violation_other
  std::string officer;
  std::string at;
};

struct ViolationFilter {
  std::string meeting_id;     // empty = any
  std::string lawyer_device;  // empty = any
  std::size_t limit = 1000;
};

struct NoticeRecord {
  std::int64_t id = 0;
  std::string meeting_id;
  std::string officer;
  std::string at;
  std::string text;
};

struct InterjectionRecord {
  std::int64_t id = 0;
  std::string meeting_id;
  std::string officer;
  std::string started_at;
  std::string stopped_at;
  std::int64_t duration_ms = 0;
};

// One line of the audit trail: who did what, when, and how it ended.
struct AuditEntry {
  std::int64_t id = 0;
  std::string at;
  std::string actor;       // username, device id, "admin-token" or "anonymous"
  std::string actor_kind;  // "officer", "admin", "lawyer-terminal", "detainee-terminal", "admin-token", "anonymous"
  std::string action;      // "login", "set_time", "terminate", "GET /api/audit", ...
  std::string target;      // meeting id, username, path; may be empty
  std::string outcome;     // "ok" or "refused:<error code>"
  std::string detail;      // never a password, token or secret
};

class SupervisionRepository {
 public:
  virtual ~SupervisionRepository() = default;

  // Accounts. insert_account returns false when the username exists.
  virtual bool insert_account(const AccountRecord& account) = 0;
  // Inserts or replaces name, role and hash (accounts of the configuration).
  virtual void upsert_account(const AccountRecord& account) = 0;
  virtual std::optional<AccountRecord> find_account(const std::string& username) = 0;
  virtual std::vector<AccountRecord> accounts() = 0;

  virtual std::int64_t add_violation(const ViolationRecord& violation) = 0;
  // Newest first.
  virtual std::vector<ViolationRecord> violations(const ViolationFilter& filter) = 0;
  // Number of violations per code that match the filter (limit ignored).
  virtual std::map<std::string, std::int64_t> count_violations(const ViolationFilter& filter) = 0;

  virtual std::int64_t add_notice(const NoticeRecord& notice) = 0;
  virtual std::vector<NoticeRecord> notices(const std::string& meeting_id) = 0;

  virtual std::int64_t add_interjection(const InterjectionRecord& interjection) = 0;
  virtual std::vector<InterjectionRecord> interjections(const std::string& meeting_id) = 0;

  // The audit trail only grows: there is no update or delete.
  virtual std::int64_t append_audit(const AuditEntry& entry) = 0;
  // Entries with id > after_id, oldest first, at most `limit`.
  virtual std::vector<AuditEntry> audit(std::int64_t after_id, std::size_t limit) = 0;
};

}  // namespace huijian::signaling
