#include "signaling/http_api.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <boost/beast/version.hpp>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "signaling/component_logger.hpp"
#include "signaling/errors.hpp"

#ifndef HUIJIAN_VERSION
#define HUIJIAN_VERSION "0.0.0"
#endif

namespace huijian::signaling {
namespace {

namespace http = boost::beast::http;
using nlohmann::json;

HttpResponse make(const HttpRequest& req, http::status status, std::string body,
                  std::string_view content_type) {
  HttpResponse res{status, req.version()};
  res.set(http::field::server, "huijiand");
  res.set(http::field::content_type, std::string(content_type));
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.body() = std::move(body);
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return res;
}

HttpResponse json_response(const HttpRequest& req, http::status status, const json& body) {
  auto res = make(req, status, body.dump(-1, ' ', false, json::error_handler_t::replace),
                  "application/json; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  return res;
}

HttpResponse json_error(const HttpRequest& req, http::status status, std::string_view code,
                        std::string_view message) {
  return json_response(req, status, json{{"code", code}, {"message", message}});
}

http::status status_of(const std::string& code) {
  if (code == "no_meeting") return http::status::not_found;
  if (code == "meeting_exists" || code == "meeting_taken" || code == "bad_state" || code == "account_exists")
    return http::status::conflict;
  if (code == "bad_credentials") return http::status::unauthorized;
  if (code == "too_many_attempts") return http::status::too_many_requests;
  return http::status::bad_request;
}

json meeting_json(const MeetingRecord& m) {
  json j{{"id", m.id},
         {"lawyer_device", m.lawyer_device},
         {"detainee_device", m.detainee_device},
         {"case_id", m.case_id},
         {"state", to_string(m.state)},
         {"created_at", m.created_at},
         {"ended_at", nullptr},
         {"end_reason", nullptr},
         {"ended_by", nullptr}};
  if (m.state == MeetingState::Ended) {
    j["ended_at"] = m.ended_at;
    j["end_reason"] = m.end_reason;
    j["ended_by"] = m.ended_by;
  }
  j["minutes"] = m.minutes ? json(*m.minutes) : json(nullptr);
  j["connected_at"] = m.connected_at.empty() ? json(nullptr) : json(m.connected_at);
  j["ends_at"] = m.ends_at.empty() ? json(nullptr) : json(m.ends_at);
  return j;
}

json violation_json(const ViolationRecord& v) {
  return json{{"id", v.id},       {"meeting", v.meeting_id}, {"lawyer_device", v.lawyer_device},
              {"detainee_device", v.detainee_device}, {"code", v.code}, {"text", v.text},
              {"officer", v.officer}, {"at", v.at}};
}

json account_json(const AccountRecord& a) {
  return json{{"username", a.username}, {"name", a.name},           {"role", to_string(a.role)},
              {"source", a.source},     {"created_at", a.created_at}, {"updated_at", a.updated_at}};
}

// The value of `key` in a query string ("a=1&b=x"), percent-decoded; nullopt when absent.
std::optional<std::string> query_value(std::string_view query, std::string_view key) {
  std::size_t pos = 0;
  while (pos <= query.size()) {
    auto amp = query.find('&', pos);
    std::string_view item = query.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    auto eq = item.find('=');
    if (item.substr(0, eq) == key) {
      std::string out;
      std::string_view raw = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
      for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '%') {
          auto hexval = [](char c) {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
          };
          int hi = i + 2 < raw.size() ? hexval(raw[i + 1]) : -1;
          int lo = i + 2 < raw.size() ? hexval(raw[i + 2]) : -1;
          if (hi < 0 || lo < 0)
            throw ProtocolError("bad_field", fmt::format("query parameter \"{}\" has a broken %-escape", key));
          out.push_back(static_cast<char>(hi * 16 + lo));
          i += 2;
        } else if (raw[i] == '+') {
          out.push_back(' ');
        } else {
          out.push_back(raw[i]);
        }
      }
      return out;
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return std::nullopt;
}

// A whole number query parameter from `min` to `max`; `fallback` when absent.
std::int64_t query_int(std::string_view query, std::string_view key, std::int64_t fallback, std::int64_t min,
                       std::int64_t max) {
  auto v = query_value(query, key);
  if (!v) return fallback;
  if (v->empty() || v->size() > 18)
    throw ProtocolError("bad_field", fmt::format("query parameter \"{}\" must be a whole number", key));
  std::int64_t n = 0;
  for (char c : *v) {
    if (c < '0' || c > '9')
      throw ProtocolError("bad_field", fmt::format("query parameter \"{}\" must be a whole number", key));
    n = n * 10 + (c - '0');
  }
  if (n < min || n > max)
    throw ProtocolError("bad_field", fmt::format("query parameter \"{}\" must be from {} to {}", key, min, max));
  return n;
}

std::string_view bearer_of(const HttpRequest& req, bool& present) {
  auto it = req.find(http::field::authorization);
  present = it != req.end();
  if (!present) return {};
  std::string_view value(it->value().data(), it->value().size());
  constexpr std::string_view prefix = "Bearer ";
  if (value.rfind(prefix, 0) != 0) return {};
  return value.substr(prefix.size());
}

std::string_view content_type_for(std::string_view ext) {
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".png") return "image/png";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".ico") return "image/x-icon";
  return {};
}

bool safe_static_path(std::string_view path) {
  if (path.empty() || path.front() != '/' || path.size() > 256) return false;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(start, end - start);
    if (seg.empty() || seg.front() == '.') return false;
    for (char c : seg) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-';
      if (!ok) return false;
    }
    start = end + 1;
  }
  return true;
}

std::optional<int> body_int(const json& j, const char* name, int min, int max) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer() || it->get<std::int64_t>() < min || it->get<std::int64_t>() > max)
    throw ProtocolError("bad_field", fmt::format("field \"{}\" must be a whole number from {} to {}", name, min, max));
  return static_cast<int>(it->get<std::int64_t>());
}

std::string body_string(const json& j, const char* name, bool required) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) {
    if (required) throw ProtocolError("missing_field", fmt::format("the body needs the field \"{}\" (a string)", name));
    return {};
  }
  if (!it->is_string()) throw ProtocolError("bad_field", fmt::format("field \"{}\" must be a string", name));
  return it->get<std::string>();
}

}  // namespace

HttpApi::HttpApi(std::filesystem::path web_root, std::string admin_token, SignalingHub& hub, HttpServices services)
    : web_root_(std::move(web_root)),
      admin_token_(std::move(admin_token)),
      hub_(hub),
      store_(services.meetings),
      supervision_(services.supervision),
      access_(services.access),
      audit_(services.audit) {}

HttpResponse HttpApi::too_large(unsigned version) {
  HttpRequest req{http::verb::post, "/", version};
  req.keep_alive(false);
  return json_error(req, http::status::payload_too_large, "too_large",
                    fmt::format("the request body is larger than {} bytes", kMaxRequestBodyBytes));
}

HttpResponse HttpApi::handle(const HttpRequest& req, std::string_view peer) {
  std::string_view target(req.target().data(), req.target().size());
  auto q = target.find_first_of("?#");
  std::string_view path = target.substr(0, q);
  std::string_view query;
  if (q != std::string_view::npos && target[q] == '?') {
    query = target.substr(q + 1);
    query = query.substr(0, query.find('#'));
  }
  try {
    if (path == "/api" || path.rfind("/api/", 0) == 0) return handle_api(req, path, query, std::string(peer));
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      auto res = json_error(req, http::status::method_not_allowed, "method_not_allowed",
                            "static files are served for GET and HEAD only");
      res.set(http::field::allow, "GET, HEAD");
      return res;
    }
    if (path == "/") {
      auto res = make(req, http::status::found, "", "text/plain; charset=utf-8");
      res.set(http::field::location, "/lawyer.html");
      return res;
    }
    return serve_static(req, path);
  } catch (const ProtocolError& e) {
    return json_error(req, status_of(e.code()), e.code(), e.what());
  } catch (const std::exception& e) {
    component_logger("http")->error("{} {}: {}", std::string(req.method_string()), std::string(path), e.what());
    return json_error(req, http::status::internal_server_error, "internal", "internal server error");
  }
}

std::variant<HttpApi::Caller, HttpResponse> HttpApi::authorize(const HttpRequest& req, Need need,
                                                               const std::string& action, const std::string& target,
                                                               const std::string& peer) {
  bool present = false;
  std::string_view token = bearer_of(req, present);
  Caller caller;
  caller.actor.source = peer;
  auto refuse = [&](http::status status, const char* code, std::string message) {
    audit_.record(caller.actor, action, target, std::string("refused:") + code, message);
    auto res = json_error(req, status, code, message);
    if (status == http::status::unauthorized) res.set(http::field::www_authenticate, "Bearer");
    return res;
  };
  const bool is_admin_token = !admin_token_.empty() && token.size() == admin_token_.size() &&
                              CRYPTO_memcmp(token.data(), admin_token_.data(), admin_token_.size()) == 0;
  std::optional<OfficerSession> session;
  if (!is_admin_token && !token.empty()) session = access_.session_for_token(token);
  if (session) {
    caller.actor.id = session->username;
    caller.actor.kind = to_string(session->role);
    caller.session = session;
  } else if (is_admin_token) {
    caller.actor.id = "admin-token";
    caller.actor.kind = "admin-token";
  }
  if (need == Need::Admin) {
    if (is_admin_token || (session && session->role == AccountRole::Admin)) return caller;
    if (session)
      return refuse(http::status::forbidden, "forbidden",
                    fmt::format("this needs an administrator; {} is signed in as an officer", session->username));
    if (admin_token_.empty())
      return refuse(http::status::forbidden, "rest_disabled",
                    "the admin REST API is disabled: set server.admin_token in the configuration, "
                    "or log in with an administrator account");
    if (!present) return refuse(http::status::unauthorized, "unauthorized",
                                "this request needs the header Authorization: Bearer <admin_token or login token>");
    return refuse(http::status::unauthorized, "unauthorized",
                  "the token is wrong, expired or logged out (the admin token or an administrator's login token is needed)");
  }
  if (session) return caller;
  if (is_admin_token)
    return refuse(http::status::forbidden, "forbidden",
                  "the admin token is for other systems; an officer or administrator must log in (POST /api/login)");
  if (!present)
    return refuse(http::status::unauthorized, "unauthorized",
                  "this request needs an officer login: Authorization: Bearer <token from POST /api/login>");
  return refuse(http::status::unauthorized, "unauthorized", "the login token is unknown, expired or logged out; log in again");
}

HttpResponse HttpApi::login(const HttpRequest& req, const std::string& peer) {
  if (req.method() != http::verb::post)
    return json_error(req, http::status::method_not_allowed, "method_not_allowed", "use POST to log in");
  json body = json::parse(req.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return json_error(req, http::status::bad_request, "bad_json",
                      "the body must be a JSON object {\"username\": \"...\", \"password\": \"...\"}");
  auto username = body_string(body, "username", true);
  auto password = body_string(body, "password", true);
  Actor from;
  from.source = peer;
  auto result = access_.login(username, password, from);
  return json_response(req, http::status::ok,
                       json{{"token", result.token},
                            {"expires_at", format_utc_ms(result.session.expires_at)},
                            {"username", result.session.username},
                            {"name", result.session.name},
                            {"role", to_string(result.session.role)}});
}

HttpResponse HttpApi::logout(const HttpRequest& req, const std::string& peer) {
  if (req.method() != http::verb::post)
    return json_error(req, http::status::method_not_allowed, "method_not_allowed", "use POST to log out");
  auto who = authorize(req, Need::Officer, "logout", "", peer);
  if (auto* refused = std::get_if<HttpResponse>(&who)) return std::move(*refused);
  auto& caller = std::get<Caller>(who);
  bool present = false;
  auto id = access_.logout(bearer_of(req, present));
  if (id) hub_.end_session(*id, "logged_out", "you logged out; log in again to go on");
  audit_.record(caller.actor, "logout", caller.actor.id, "ok", "");
  return json_response(req, http::status::ok, json{{"ok", true}});
}

HttpResponse HttpApi::accounts(const HttpRequest& req, const std::string& peer) {
  const bool create = req.method() == http::verb::post;
  if (!create && req.method() != http::verb::get)
    return json_error(req, http::status::method_not_allowed, "method_not_allowed",
                      "use GET to list accounts or POST to create one");
  auto who = authorize(req, Need::Admin, create ? "create_account" : "list_accounts", "", peer);
  if (auto* refused = std::get_if<HttpResponse>(&who)) return std::move(*refused);
  auto& caller = std::get<Caller>(who);
  if (!create) {
    json list = json::array();
    for (const auto& a : supervision_.accounts()) list.push_back(account_json(a));
    audit_.record(caller.actor, "list_accounts", "", "ok", "");
    return json_response(req, http::status::ok, json{{"accounts", std::move(list)}});
  }
  json body = json::parse(req.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return json_error(req, http::status::bad_request, "bad_json", "the body must be a JSON object");
  auto username = body_string(body, "username", true);
  try {
    auto created = access_.create_account(username, body_string(body, "name", true), body_string(body, "role", false),
                                          body_string(body, "password", true));
    audit_.record(caller.actor, "create_account", username, "ok", std::string("role ") + to_string(created.role));
    auto res = json_response(req, http::status::created, account_json(created));
    res.set(http::field::location, "/api/accounts");
    return res;
  } catch (const ProtocolError& e) {
    audit_.record(caller.actor, "create_account", is_valid_id(username) ? username : "", "refused:" + e.code(),
                  e.what());
    throw;
  }
}

HttpResponse HttpApi::violations(const HttpRequest& req, std::string_view query, const std::string& peer) {
  if (req.method() != http::verb::get)
    return json_error(req, http::status::method_not_allowed, "method_not_allowed", "use GET");
  auto who = authorize(req, Need::Admin, "list_violations", "", peer);
  if (auto* refused = std::get_if<HttpResponse>(&who)) return std::move(*refused);
  ViolationFilter f;
  f.meeting_id = query_value(query, "meeting").value_or("");
  f.lawyer_device = query_value(query, "lawyer_device").value_or("");
  if ((!f.meeting_id.empty() && !is_valid_id(f.meeting_id)) || (!f.lawyer_device.empty() && !is_valid_id(f.lawyer_device)))
    throw ProtocolError("bad_field", "query parameters \"meeting\" and \"lawyer_device\" must be ids");
  f.limit = static_cast<std::size_t>(query_int(query, "limit", 100, 1, kMaxListedRecords));
  json list = json::array();
  for (const auto& v : supervision_.violations(f)) list.push_back(violation_json(v));
  json counts = json::object();
  std::int64_t total = 0;
  for (const auto& [code, n] : supervision_.count_violations(f)) {
    counts[code] = n;
    total += n;
  }
  audit_.record(std::get<Caller>(who).actor, "list_violations", f.lawyer_device.empty() ? f.meeting_id : f.lawyer_device,
                "ok", "");
  return json_response(req, http::status::ok, json{{"violations", std::move(list)}, {"counts", std::move(counts)},
                                                   {"total", total}});
}

HttpResponse HttpApi::audit_log(const HttpRequest& req, std::string_view query, const std::string& peer) {
  if (req.method() != http::verb::get)
    return json_error(req, http::status::method_not_allowed, "method_not_allowed", "use GET");
  auto who = authorize(req, Need::Admin, "read_audit", "", peer);
  if (auto* refused = std::get_if<HttpResponse>(&who)) return std::move(*refused);
  auto after = query_int(query, "after", 0, 0, std::numeric_limits<std::int64_t>::max() / 16);
  auto limit = static_cast<std::size_t>(query_int(query, "limit", 100, 1, kMaxListedRecords));
  // Record the read first, so the trail shows who looked.
  audit_.record(std::get<Caller>(who).actor, "read_audit", "", "ok", fmt::format("after {}", after));
  json list = json::array();
  std::int64_t last = after;
  for (const auto& e : supervision_.audit(after, limit)) {
    list.push_back(json{{"id", e.id}, {"at", e.at}, {"actor", e.actor}, {"actor_kind", e.actor_kind},
                        {"action", e.action}, {"target", e.target}, {"outcome", e.outcome}, {"detail", e.detail}});
    last = e.id;
  }
  return json_response(req, http::status::ok, json{{"entries", std::move(list)}, {"next_after", last}});
}

HttpResponse HttpApi::handle_api(const HttpRequest& req, std::string_view path, std::string_view query,
                                 const std::string& peer) {
  if (path == "/api/health") {
    if (req.method() != http::verb::get && req.method() != http::verb::head)
      return json_error(req, http::status::method_not_allowed, "method_not_allowed", "use GET");
    return json_response(req, http::status::ok, json{{"ok", true}, {"version", HUIJIAN_VERSION}});
  }
  if (path == "/api/login") return login(req, peer);
  if (path == "/api/logout") return logout(req, peer);
  if (path == "/api/accounts") return accounts(req, peer);
  if (path == "/api/violations") return violations(req, query, peer);
  if (path == "/api/audit") return audit_log(req, query, peer);
  if (path == "/api/session") {
    if (req.method() != http::verb::get)
      return json_error(req, http::status::method_not_allowed, "method_not_allowed", "use GET");
    auto who = authorize(req, Need::Officer, "session", "", peer);
    if (auto* refused = std::get_if<HttpResponse>(&who)) return std::move(*refused);
    const auto& s = *std::get<Caller>(who).session;
    return json_response(req, http::status::ok,
                         json{{"username", s.username}, {"name", s.name}, {"role", to_string(s.role)},
                              {"expires_at", format_utc_ms(s.expires_at)}});
  }
  if (path == "/api/officer/meetings") {
    if (req.method() != http::verb::get)
      return json_error(req, http::status::method_not_allowed, "method_not_allowed", "use GET");
    auto who = authorize(req, Need::Officer, "list_meetings", "", peer);
    if (auto* refused = std::get_if<HttpResponse>(&who)) return std::move(*refused);
    return json_response(req, http::status::ok, hub_.meetings_overview());
  }
  if (path == "/api/stats") {
    if (req.method() != http::verb::get)
      return json_error(req, http::status::method_not_allowed, "method_not_allowed", "use GET");
    auto who = authorize(req, Need::Admin, "GET /api/stats", "", peer);
    if (auto* refused = std::get_if<HttpResponse>(&who)) return std::move(*refused);
    json relay = nullptr;
    if (relay_counters_) {
      auto c = relay_counters_();
      relay = json{{"peers_open", c.peers_open},
                   {"rtp_forwarded", c.rtp_forwarded},
                   {"rtcp_forwarded", c.rtcp_forwarded},
                   {"audio_forwarded", c.audio_forwarded},
                   {"video_forwarded", c.video_forwarded},
                   {"nacks_answered", c.nacks_answered},
                   {"keyframe_requests", c.keyframe_requests},
                   {"dropped_unknown", c.dropped_unknown},
                   {"dropped_srtp", c.dropped_srtp},
                   {"dropped_unrouted", c.dropped_unrouted},
                   {"dropped_malformed", c.dropped_malformed},
                   {"dropped_dtls", c.dropped_dtls}};
    }
    return json_response(req, http::status::ok, json{{"relay", std::move(relay)}});
  }
  constexpr std::string_view meetings = "/api/meetings";
  if (path == meetings) {
    if (req.method() != http::verb::post)
      return json_error(req, http::status::method_not_allowed, "method_not_allowed", "use POST to create a meeting");
    auto who = authorize(req, Need::Admin, "create_meeting", "", peer);
    if (auto* refused = std::get_if<HttpResponse>(&who)) return std::move(*refused);
    json body = json::parse(req.body(), nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return json_error(req, http::status::bad_request, "bad_json", "the body must be a JSON object");
    MeetingConfig m;
    m.id = body_string(body, "id", true);
    m.lawyer_device = body_string(body, "lawyer_device", true);
    m.detainee_device = body_string(body, "detainee_device", true);
    m.case_id = body_string(body, "case_id", false);
    m.minutes = body_int(body, "minutes", 1, kMaxMeetingMinutes);
    auto created = hub_.create_meeting(m, "admin");
    audit_.record(std::get<Caller>(who).actor, "create_meeting", created.id, "ok",
                  fmt::format("lawyer {}, detainee {}", created.lawyer_device, created.detainee_device));
    auto res = json_response(req, http::status::created, meeting_json(created));
    res.set(http::field::location, fmt::format("/api/meetings/{}", created.id));
    return res;
  }
  if (path.rfind("/api/meetings/", 0) == 0) {
    std::string_view rest = path.substr(meetings.size() + 1);
    bool end = false;
    if (auto slash = rest.find('/'); slash != std::string_view::npos) {
      if (rest.substr(slash) != "/end")
        return json_error(req, http::status::not_found, "not_found", "no such API path");
      rest = rest.substr(0, slash);
      end = true;
    }
    std::string id(rest);
    if (!is_valid_id(id))
      return json_error(req, http::status::not_found, "no_meeting", "not a meeting id");
    if (end) {
      if (req.method() != http::verb::post)
        return json_error(req, http::status::method_not_allowed, "method_not_allowed", "use POST to end a meeting");
      auto who = authorize(req, Need::Admin, "end_meeting", id, peer);
      if (auto* refused = std::get_if<HttpResponse>(&who)) return std::move(*refused);
      std::string reason = "ended by the administrator";
      if (!req.body().empty()) {
        json body = json::parse(req.body(), nullptr, false);
        if (body.is_discarded() || !body.is_object())
          return json_error(req, http::status::bad_request, "bad_json", "the body must be a JSON object");
        auto r = body_string(body, "reason", false);
        if (utf8_length(r) > kMaxEndReasonChars)
          return json_error(req, http::status::bad_request, "bad_field", "field \"reason\" is longer than 200 characters");
        if (!r.empty()) reason = r;
      }
      auto ended = hub_.end_meeting(id, "admin", reason);
      audit_.record(std::get<Caller>(who).actor, "end_meeting", id, "ok", reason);
      return json_response(req, http::status::ok, meeting_json(ended));
    }
    if (req.method() != http::verb::get)
      return json_error(req, http::status::method_not_allowed, "method_not_allowed", "use GET to read a meeting");
    auto who = authorize(req, Need::Admin, "GET /api/meetings", id, peer);
    if (auto* refused = std::get_if<HttpResponse>(&who)) return std::move(*refused);
    auto m = store_.find(id);
    if (!m) return json_error(req, http::status::not_found, "no_meeting", fmt::format("meeting {} does not exist", id));
    json j = meeting_json(*m);
    json events = json::array();
    for (const auto& e : store_.events(id))
      events.push_back(json{{"id", e.id}, {"at", e.at}, {"kind", e.kind}, {"actor", e.actor}, {"detail", e.detail}});
    j["events"] = std::move(events);
    json notices = json::array();
    for (const auto& n : supervision_.notices(id))
      notices.push_back(json{{"id", n.id}, {"at", n.at}, {"officer", n.officer}, {"text", n.text}});
    j["notices"] = std::move(notices);
    json interjections = json::array();
    for (const auto& i : supervision_.interjections(id))
      interjections.push_back(json{{"id", i.id}, {"officer", i.officer}, {"started_at", i.started_at},
                                   {"stopped_at", i.stopped_at}, {"duration_ms", i.duration_ms}});
    j["interjections"] = std::move(interjections);
    json violations = json::array();
    ViolationFilter f;
    f.meeting_id = id;
    for (const auto& v : supervision_.violations(f)) violations.push_back(violation_json(v));
    j["violations"] = std::move(violations);
    return json_response(req, http::status::ok, j);
  }
  return json_error(req, http::status::not_found, "not_found", "no such API path");
}

HttpResponse HttpApi::serve_static(const HttpRequest& req, std::string_view path) {
  auto not_found = [&] { return json_error(req, http::status::not_found, "not_found", "no such file"); };
  if (!safe_static_path(path)) return not_found();
  std::filesystem::path rel(path.substr(1));
  auto type = content_type_for(rel.extension().string());
  if (type.empty()) return not_found();
  std::error_code ec;
  auto root = std::filesystem::canonical(web_root_, ec);
  if (ec) return not_found();
  auto file = std::filesystem::canonical(root / rel, ec);
  if (ec) return not_found();
  auto [root_end, _] = std::mismatch(root.begin(), root.end(), file.begin(), file.end());
  if (root_end != root.end()) return not_found();  // a symlink out of the web root
  if (!std::filesystem::is_regular_file(file, ec)) return not_found();
  auto size = std::filesystem::file_size(file, ec);
  if (ec || size > kMaxStaticFileBytes) return not_found();
  std::ifstream in(file, std::ios::binary);
  if (!in) return not_found();
  std::string body(static_cast<std::size_t>(size), '\0');
  in.read(body.data(), static_cast<std::streamsize>(size));
  body.resize(static_cast<std::size_t>(in.gcount()));
  auto res = make(req, http::status::ok, std::move(body), type);
  res.set(http::field::cache_control, "no-cache");
  if (req.method() == http::verb::head) {
    auto length = res.body().size();
    res.body().clear();
    res.content_length(length);
  }
  return res;
}

}  // namespace huijian::signaling
