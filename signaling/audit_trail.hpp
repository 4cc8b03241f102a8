#pragma once
// Appends who did what, when and how it ended to the audit trail of the store
// (SupervisionRepository::append_audit). Used by the hub, the HTTP API and
// the access control for every officer or administrator action and every
// refused attempt. Never records a password, token or secret.

#include <string>

#include "signaling/supervision_repository.hpp"
#include "signaling/utc_time.hpp"

namespace huijian::signaling {

// Who asked: `id` is a username, device id, "admin-token" or "anonymous";
// `kind` is "officer", "admin", "lawyer-terminal", "detainee-terminal",
// "admin-token" or "anonymous". `source` is the peer address when known.
struct Actor {
  std::string id = "anonymous";
  std::string kind = "anonymous";
  std::string source;
};

class AuditTrail {
 public:
  AuditTrail(SupervisionRepository& store, WallClock clock);

  // Appends one entry; `outcome` is "ok" or "refused:<code>". Returns false
  // (and logs an error) when the store fails, so a refusal is still answered.
  bool record(const Actor& actor, const std::string& action, const std::string& target,
              const std::string& outcome, const std::string& detail) noexcept;

 private:
  SupervisionRepository& store_;
  WallClock clock_;
};

}  // namespace huijian::signaling
