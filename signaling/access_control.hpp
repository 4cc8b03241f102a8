#pragma once
// Officer and administrator accounts, login and sessions. A login gives a
// random 32-byte token (64 hex digits) that is shown once; the server keeps
// only its SHA-256 (the session id) in memory, with an expiry. A restart
// logs everybody out. Single-threaded (the hub's thread).

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "signaling/audit_trail.hpp"
#include "signaling/config.hpp"
#include "signaling/password_hash.hpp"
#include "signaling/supervision_repository.hpp"
#include "signaling/utc_time.hpp"

namespace huijian::signaling {

inline constexpr std::size_t kMaxSessions = 1000;
// Password checks (PBKDF2, ~60 ms each) allowed per second, so a flood of
// logins cannot stall the control plane's thread.
inline constexpr std::size_t kMaxLoginChecksPerSecond = 5;

struct OfficerSession {
  std::string id;  // SHA-256 of the token, hex: safe to keep and compare
  std::string username;
  std::string name;
  AccountRole role = AccountRole::Officer;
  std::chrono::system_clock::time_point expires_at;
};

struct LoginResult {
  std::string token;  // the only copy; not kept by the server
  OfficerSession session;
};

class AccessControl {
 public:
  AccessControl(SupervisionRepository& store, AuditTrail& audit, WallClock clock,
                std::chrono::minutes session_lifetime, unsigned password_iterations = kDefaultPasswordIterations);

  // Stores the [[officer]] accounts of the configuration, hashing plain
  // passwords. Throws StoreError.
  void load_accounts(const std::vector<OfficerConfig>& officers);

  // Throws ProtocolError: bad_credentials (unknown user or wrong password,
  // the same message for both), too_many_attempts. Audits every outcome.
  LoginResult login(const std::string& username, const std::string& password, const Actor& from);

  // The session of a valid token; nullopt when unknown, expired or logged out.
  std::optional<OfficerSession> session_for_token(std::string_view token);
  // The same by session id (for connections that logged in with a token).
  std::optional<OfficerSession> session_by_id(const std::string& id);
  // Ends the session of `token`; its id when it was valid.
  std::optional<std::string> logout(std::string_view token);

  // An account created over the admin REST API. Throws ProtocolError
  // bad_field (named) or account_exists.
  AccountRecord create_account(const std::string& username, const std::string& name, const std::string& role,
                               const std::string& password);

  std::size_t session_count() const noexcept { return sessions_.size(); }

  // SHA-256 of a token as 64 hex digits.
  static std::string session_id_of(std::string_view token);

 private:
  void drop_expired();
  bool take_login_slot();

  SupervisionRepository& store_;
  AuditTrail& audit_;
  WallClock clock_;
  std::chrono::minutes lifetime_;
  unsigned iterations_;
  std::string dummy_hash_;  // verified for unknown users, so both cases take as long
  std::map<std::string, OfficerSession> sessions_;
  std::deque<std::chrono::system_clock::time_point> recent_checks_;
};

}  // namespace huijian::signaling
