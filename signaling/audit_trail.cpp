#include "signaling/audit_trail.hpp"

#include "signaling/component_logger.hpp"

namespace huijian::signaling {

AuditTrail::AuditTrail(SupervisionRepository& store, WallClock clock) : store_(store), clock_(std::move(clock)) {}

bool AuditTrail::record(const Actor& actor, const std::string& action, const std::string& target,
                        const std::string& outcome, const std::string& detail) noexcept {
  try {
    AuditEntry e;
    e.at = format_utc_ms(clock_());
    e.actor = actor.id;
    e.actor_kind = actor.kind;
    e.action = action;
    e.target = target;
    e.outcome = outcome;
    e.detail = actor.source.empty() ? detail : detail + (detail.empty() ? "" : "; ") + "from " + actor.source;
    store_.append_audit(e);
    component_logger("audit")->info("{} ({}) {} {}: {}{}", actor.id, actor.kind, action, target, outcome,
                                     detail.empty() ? "" : " - " + detail);
    return true;
  } catch (const std::exception& ex) {
    try {
      component_logger("audit")->error("could not append to the audit trail ({} {} {}): {}", actor.id, action,
                                       outcome, ex.what());
    } catch (...) {
    }
    return false;
  }
}

}  // namespace huijian::signaling
