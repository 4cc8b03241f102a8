#include "signaling/access_control.hpp"

#include "common/hex.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

#include "signaling/client_message.hpp"
#include "signaling/component_logger.hpp"
#include "signaling/errors.hpp"
#include "signaling/password_hash.hpp"

namespace huijian::signaling {
namespace {

using common::to_hex;

std::string new_token() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw std::runtime_error("OpenSSL RAND_bytes failed: cannot make a session token");
  return to_hex(bytes.data(), bytes.size());
}

bool has_control_chars(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

}  // namespace

AccessControl::AccessControl(SupervisionRepository& store, AuditTrail& audit, WallClock clock,
                             std::chrono::minutes session_lifetime, unsigned password_iterations)
    : store_(store),
      audit_(audit),
      clock_(std::move(clock)),
      lifetime_(session_lifetime),
      iterations_(password_iterations),
      dummy_hash_(PasswordHash::create("no account has this password", password_iterations)) {}

std::string AccessControl::session_id_of(std::string_view token) {
  std::array<unsigned char, 32> digest{};
  unsigned int size = 0;
  if (EVP_Digest(token.data(), token.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1 || size != 32)
    throw std::runtime_error("OpenSSL SHA-256 failed");
  return to_hex(digest.data(), digest.size());
}

void AccessControl::load_accounts(const std::vector<OfficerConfig>& officers) {
  auto log = component_logger("access");
  const std::string at = format_utc_ms(clock_());
  for (const auto& o : officers) {
    AccountRecord a;
    a.username = o.username;
    a.name = o.name;
    a.role = o.role;
    a.password_hash = o.password_hash.empty() ? PasswordHash::create(o.password, iterations_) : o.password_hash;
    a.source = "config";
    a.created_at = at;
    a.updated_at = at;
    store_.upsert_account(a);
    log->info("account {} ({}) from the configuration", o.username, to_string(o.role));
  }
}

bool AccessControl::take_login_slot() {
  auto now = clock_();
  while (!recent_checks_.empty() && now - recent_checks_.front() >= std::chrono::seconds(1))
    recent_checks_.pop_front();
  if (recent_checks_.size() >= kMaxLoginChecksPerSecond) return false;
  recent_checks_.push_back(now);
  return true;
}

LoginResult AccessControl::login(const std::string& username, const std::string& password, const Actor& from) {
  Actor actor = from;
  actor.id = is_valid_id(username) ? username : "anonymous";
  actor.kind = "anonymous";
  if (!take_login_slot()) {
    audit_.record(actor, "login", actor.id, "refused:too_many_attempts", "more than 5 password checks in a second");
    throw ProtocolError("too_many_attempts", "too many login attempts at once; wait a second and try again");
  }
  std::optional<AccountRecord> account;
  if (is_valid_id(username) && password.size() <= kMaxPasswordBytes) account = store_.find_account(username);
  bool ok = PasswordHash::verify(password, account ? account->password_hash : dummy_hash_) && account;
  if (!ok) {
    audit_.record(actor, "login", actor.id, "refused:bad_credentials",
                  account ? "wrong password" : "no such account");
    throw ProtocolError("bad_credentials", "unknown user name or wrong password");
  }
  drop_expired();
  if (sessions_.size() >= kMaxSessions) {
    // Make room: the session that expires first goes.
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it)
      if (it->second.expires_at < oldest->second.expires_at) oldest = it;
    sessions_.erase(oldest);
  }
  LoginResult result;
  result.token = new_token();
  result.session.id = session_id_of(result.token);
  result.session.username = account->username;
  result.session.name = account->name;
  result.session.role = account->role;
  result.session.expires_at = clock_() + lifetime_;
  sessions_[result.session.id] = result.session;
  actor.kind = to_string(account->role);
  audit_.record(actor, "login", account->username, "ok",
                "session until " + format_utc_ms(result.session.expires_at));
  return result;
}

void AccessControl::drop_expired() {
  auto now = clock_();
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->second.expires_at <= now) it = sessions_.erase(it);
    else ++it;
  }
}

std::optional<OfficerSession> AccessControl::session_by_id(const std::string& id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires_at <= clock_()) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

std::optional<OfficerSession> AccessControl::session_for_token(std::string_view token) {
  if (token.size() != 64) return std::nullopt;
  return session_by_id(session_id_of(token));
}

std::optional<std::string> AccessControl::logout(std::string_view token) {
  auto session = session_for_token(token);
  if (!session) return std::nullopt;
  sessions_.erase(session->id);
  return session->id;
}

AccountRecord AccessControl::create_account(const std::string& username, const std::string& name,
                                            const std::string& role, const std::string& password) {
  if (!is_valid_id(username))
    throw ProtocolError("bad_field", "field \"username\" must be 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'");
  if (name.empty() || name.size() > 200 || has_control_chars(name))
    throw ProtocolError("bad_field", "field \"name\" must be 1 to 200 bytes of printable text");
  auto parsed_role = account_role_from_string(role.empty() ? "officer" : role);
  if (!parsed_role) throw ProtocolError("bad_field", "field \"role\" must be \"officer\", \"admin\" or \"archivist\"");
  if (utf8_length(password) < kMinPasswordChars || password.size() > kMaxPasswordBytes)
    throw ProtocolError("bad_field", fmt::format("field \"password\" must be {} to {} characters long",
                                                 kMinPasswordChars, kMaxPasswordBytes));
  AccountRecord a;
  a.username = username;
  a.name = name;
  a.role = *parsed_role;
  a.password_hash = PasswordHash::create(password, iterations_);
  a.source = "api";
  a.created_at = format_utc_ms(clock_());
  a.updated_at = a.created_at;
  if (!store_.insert_account(a))
    throw ProtocolError("account_exists", fmt::format("an account named {} already exists", username));
  return a;
}

}  // namespace huijian::signaling
