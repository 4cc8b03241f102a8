#include "signaling/http_api.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/beast/version.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "recorder/file_digest.hpp"
#include "signaling/archive_index.hpp"
#include "signaling/client_message.hpp"
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
  if (code == "no_meeting" || code == "no_archive" || code == "no_file" || code == "no_case" ||
      code == "not_exported")
    return http::status::not_found;
  if (code == "too_large") return http::status::payload_too_large;
  if (code == "unsupported_media_type") return http::status::unsupported_media_type;
  if (code == "export_queue_full") return http::status::too_many_requests;
  if (code == "archive_unavailable" || code == "export_unavailable") return http::status::service_unavailable;
  if (code == "export_failed" || code == "archive_damaged") return http::status::internal_server_error;
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

HttpResponse HttpApi::too_large(unsigned version, std::size_t limit) {
  HttpRequest req{http::verb::post, "/", version};
  req.keep_alive(false);
  return json_error(req, http::status::payload_too_large, "too_large",
                    fmt::format("the request body is larger than {} bytes", limit));
}

std::size_t HttpApi::body_limit(http::verb method, std::string_view target) {
  constexpr std::string_view prefix = "/api/meetings/";
  std::string_view path = target.substr(0, target.find_first_of("?#"));
  if (method != http::verb::put || path.rfind(prefix, 0) != 0) return kMaxRequestBodyBytes;
  std::string_view rest = path.substr(prefix.size());
  auto slash = rest.find('/');
  if (slash == std::string_view::npos || rest.substr(slash) != "/letter" || !is_valid_id(rest.substr(0, slash)))
    return kMaxRequestBodyBytes;
  return kMaxLetterBytes;
}

std::optional<HttpResponse> HttpApi::refuse_before_body(const HttpRequest& header, std::string_view peer) {
  std::string_view target(header.target().data(), header.target().size());
  if (body_limit(header.method(), target) <= kMaxRequestBodyBytes) return std::nullopt;
  // body_limit() said: PUT /api/meetings/{valid id}/letter.
  constexpr std::string_view prefix = "/api/meetings/";
  std::string_view rest = target.substr(prefix.size());
  const std::string meeting(rest.substr(0, rest.find('/')));
  auto who = authorize(header, Need::Admin, fmt::format("PUT /api/meetings/{}/letter", meeting), meeting,
                       std::string(peer));
  auto* refused = std::get_if<HttpResponse>(&who);
  if (!refused) return std::nullopt;
  refused->keep_alive(false);
  return std::move(*refused);
}

HttpResponse HttpApi::handle(const HttpRequest& req, std::string_view peer) {
  auto reply = respond(req, peer);
  if (auto* res = std::get_if<HttpResponse>(&reply)) return std::move(*res);
  auto& file = std::get<HttpFileResponse>(reply);
  HttpResponse res{file.result(), file.version()};
  for (const auto& field : file.base()) res.set(field.name_string(), field.value());
  if (req.method() != http::verb::head) {
    boost::beast::error_code ec;
    auto& f = file.body().file();
    std::string body(static_cast<std::size_t>(file.body().size()), '\0');
    std::size_t got = 0;
    while (!ec && got < body.size()) {
      auto n = f.read(body.data() + got, body.size() - got, ec);
      if (n == 0) break;
      got += n;
    }
    if (ec || got != body.size())
      return json_error(req, http::status::internal_server_error, "internal", "the file could not be read");
    res.body() = std::move(body);
  }
  return res;
}

HttpReply HttpApi::respond(const HttpRequest& req, std::string_view peer) {
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
                    fmt::format("this needs an administrator; {} is signed in as an {}", session->username,
                                to_string(session->role)));
    if (admin_token_.empty())
      return refuse(http::status::forbidden, "rest_disabled",
                    "the admin REST API is disabled: set server.admin_token in the configuration, "
                    "or log in with an administrator account");
    if (!present) return refuse(http::status::unauthorized, "unauthorized",
                                "this request needs the header Authorization: Bearer <admin_token or login token>");
    return refuse(http::status::unauthorized, "unauthorized",
                  "the token is wrong, expired or logged out (the admin token or an administrator's login token is needed)");
  }
  if (session) {
    const AccountRole role = session->role;
    if (need == Need::Login || role == AccountRole::Admin ||
        (need == Need::Officer && role == AccountRole::Officer) ||
        (need == Need::Archive && role == AccountRole::Archivist))
      return caller;
    if (need == Need::Officer)
      return refuse(http::status::forbidden, "forbidden",
                    fmt::format("this is for supervising officers and administrators; {} is signed in as an "
                                "archivist, who may only use the archive",
                                session->username));
    return refuse(http::status::forbidden, "forbidden",
                  fmt::format("the archive is for archivists and administrators only; {} is signed in as an {}",
                              session->username, to_string(role)));
  }
  if (is_admin_token)
    return refuse(http::status::forbidden, "forbidden",
                  need == Need::Archive
                      ? "the archive is read by a signed-in archivist or administrator, so that the audit trail "
                        "names a person; the admin token cannot read it (POST /api/login)"
                      : "the admin token is for other systems; an officer or administrator must log in (POST /api/login)");
  if (!present)
    return refuse(http::status::unauthorized, "unauthorized",
                  need == Need::Archive
                      ? "this request needs an archivist's or administrator's login: Authorization: Bearer <token "
                        "from POST /api/login>"
                      : "this request needs an officer login: Authorization: Bearer <token from POST /api/login>");
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
  auto who = authorize(req, Need::Login, "logout", "", peer);
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

HttpReply HttpApi::handle_api(const HttpRequest& req, std::string_view path, std::string_view query,
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
  if (path == "/api/archives" || path.rfind("/api/archives/", 0) == 0) return archives(req, path, query, peer);
  if (path == "/api/session") {
    if (req.method() != http::verb::get)
      return json_error(req, http::status::method_not_allowed, "method_not_allowed", "use GET");
    auto who = authorize(req, Need::Login, "session", "", peer);
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
                   {"dropped_payload_type", c.dropped_payload_type},
                   {"dropped_dtls", c.dropped_dtls},
                   {"officer_video_forwarded", c.officer_video_forwarded},
                   {"officer_audio_sent", c.officer_audio_sent},
                   {"officer_voice_forwarded", c.officer_voice_forwarded},
                   {"officer_voice_held", c.officer_voice_held},
                   {"ice_sockets_taken_over", c.ice_sockets_taken_over},
                   {"ice_consent_answered", c.ice_consent_answered},
                   {"ice_stun_ignored", c.ice_stun_ignored},
                   {"ice_foreign_dropped", c.ice_foreign_dropped},
                   {"ice_consent_sent", c.ice_consent_sent},
                   {"ice_silent_failed", c.ice_silent_failed},
                   {"udp_sent_at_once", c.udp_sent_at_once},
                   {"udp_sent_batched", c.udp_sent_batched},
                   {"udp_send_batches", c.udp_send_batches},
                   {"udp_send_failed", c.udp_send_failed}};
    }
    json recorder = recorder_inputs_ ? recorder_inputs_() : json(nullptr);
    return json_response(req, http::status::ok, json{{"relay", std::move(relay)}, {"recorder", std::move(recorder)}});
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
      std::string_view sub = rest.substr(slash);
      if ((sub == "/case" || sub == "/letter") && is_valid_id(rest.substr(0, slash)))
        return sub == "/case" ? case_record(req, std::string(rest.substr(0, slash)), peer)
                              : letter(req, std::string(rest.substr(0, slash)), query, peer);
      if (sub != "/end")
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

// --- the archive and case records ----------------------------------------------

namespace {

constexpr std::size_t kMaxAuditActionBytes = 300;

// A file name inside an archive folder or the documents folder: never a path.
bool safe_file_name(std::string_view name) {
  if (name.empty() || name.size() > 128 || name.front() == '.') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    if (!ok) return false;
  }
  return true;
}

bool printable(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

// A search term of GET /api/archives: at most 200 bytes of printable text.
std::string query_text(std::string_view query, const char* key) {
  auto v = query_value(query, key).value_or("");
  if (v.size() > 200 || !printable(v))
    throw ProtocolError("bad_field", fmt::format("query parameter \"{}\" must be at most 200 bytes of printable text", key));
  return v;
}

// A time bound: an ISO-8601 UTC time or a prefix of one ("2026", "2026-11-23", "2026-11-23T09:00").
std::string query_time(std::string_view query, const char* key) {
  auto v = query_value(query, key).value_or("");
  bool ok = v.size() <= 24 && (v.empty() || v.size() >= 4);
  for (std::size_t i = 0; ok && i < v.size(); ++i) {
    char c = v[i];
    ok = i < 4 ? (c >= '0' && c <= '9') : ((c >= '0' && c <= '9') || c == '-' || c == ':' || c == 'T' || c == '.' || c == 'Z');
  }
  if (!ok)
    throw ProtocolError("bad_field", fmt::format("query parameter \"{}\" must be an ISO-8601 UTC time or its start, "
                                                 "e.g. 2026-11-23 or 2026-11-23T09:00:00Z",
                                                 key));
  return v;
}

json case_json(const CaseRecord& c) {
  json letter = nullptr;
  if (!c.letter_file.empty())
    letter = json{{"kind", c.letter_kind}, {"file", c.letter_file}, {"sha256", c.letter_sha256},
                  {"content_type", c.letter_content_type}};
  return json{{"meeting", c.meeting_id},           {"case_id", c.case_id},
              {"lawyer_name", c.lawyer_name},      {"lawyer_license", c.lawyer_license},
              {"lawyer_firm", c.lawyer_firm},      {"detainee_name", c.detainee_name},
              {"detainee_id_number", c.detainee_id_number}, {"letter", std::move(letter)},
              {"updated_at", c.updated_at}};
}

json archive_json(const ArchiveRecord& a, const std::optional<CaseRecord>& c) {
  return json{{"meeting", a.meeting_id},
              {"case_id", a.case_id},
              {"lawyer_device", a.lawyer_device},
              {"detainee_device", a.detainee_device},
              {"lawyer_name", a.lawyer_name},
              {"detainee_name", a.detainee_name},
              {"started_at", a.started_at},
              {"ended_at", a.ended_at},
              {"ended_normally", a.ended_normally},
              {"faults", a.faults},
              {"duration_ms", a.duration_ms},
              {"bytes", a.bytes},
              {"manifest_sha256", a.manifest_sha256},
              {"indexed_at", a.indexed_at},
              {"case", c ? case_json(*c) : json(nullptr)}};
}

std::string_view letter_content_type(std::string_view file_name) {
  auto dot = file_name.rfind('.');
  std::string_view ext = dot == std::string_view::npos ? std::string_view{} : file_name.substr(dot);
  if (ext == ".pdf") return "application/pdf";
  if (ext == ".jpg") return "image/jpeg";
  if (ext == ".png") return "image/png";
  return "application/octet-stream";
}

// A regular file (not a symlink) opened for a file body; throws ProtocolError
// no_file when it is not there.
HttpFileResponse file_response(const HttpRequest& req, const std::filesystem::path& path, std::string_view type,
                               const std::string& download_name, const std::string& what) {
  std::error_code ec;
  auto st = std::filesystem::symlink_status(path, ec);
  if (ec || !std::filesystem::is_regular_file(st))
    throw ProtocolError("no_file", fmt::format("{} is missing on the server's disk", what));
  http::file_body::value_type body;
  boost::beast::error_code bec;
  body.open(path.c_str(), boost::beast::file_mode::scan, bec);
  if (bec) throw std::runtime_error(fmt::format("cannot open {}: {}", path.string(), bec.message()));
  HttpFileResponse res{http::status::ok, req.version()};
  res.set(http::field::server, "huijiand");
  res.set(http::field::content_type, std::string(type));
  res.set(http::field::content_disposition, fmt::format("attachment; filename=\"{}\"", download_name));
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.body() = std::move(body);
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return res;
}

// Writes `bytes` to `path` (mode 0600) through a temporary file and a rename,
// so a reader never sees half a file.
void write_private_file(const std::filesystem::path& path, std::string_view bytes) {
  auto tmp = path;
  tmp += ".tmp";
  std::filesystem::remove(tmp);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error(fmt::format("cannot create {}: {}", tmp.string(), std::strerror(errno)));
  struct Closer {
    int fd;
    ~Closer() {
      if (fd >= 0) ::close(fd);
    }
  } closer{fd};
  std::size_t done = 0;
  while (done < bytes.size()) {
    auto n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      std::filesystem::remove(tmp);
      throw std::runtime_error(fmt::format("cannot write {}: {}", tmp.string(), std::strerror(err)));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    closer.fd = -1;
    int err = errno;
    std::filesystem::remove(tmp);
    throw std::runtime_error(fmt::format("cannot write {}: {}", tmp.string(), std::strerror(err)));
  }
  closer.fd = -1;
  std::filesystem::rename(tmp, path);
}

// The document types a letter may have: content type, magic bytes, extension.
struct LetterType {
  std::string_view content_type;
  std::string_view magic;
  std::string_view ext;
  std::string_view name;
};
constexpr LetterType kLetterTypes[] = {
    {"application/pdf", "%PDF-", "pdf", "a PDF file (it must start with %PDF-)"},
    {"image/jpeg", "\xFF\xD8\xFF", "jpg", "a JPEG image (it must start with FF D8 FF)"},
    {"image/png", "\x89PNG\r\n\x1A\n", "png", "a PNG image (it must start with the PNG signature)"},
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace

void HttpApi::set_archives(ArchiveServices services) {
  archive_repo_ = &services.repository;
  archive_dir_ = std::move(services.archive_dir);
  documents_dir_ = std::move(services.documents_dir);
  exports_.reset();
  if (services.exporter)
    exports_ = std::make_unique<CompositeExports>(services.data_dir / "exports", std::move(services.exporter));
}

template <typename Handle>
auto HttpApi::audit_refusals(const Caller& caller, const std::string& action, const std::string& target,
                             Handle&& handle) -> decltype(handle()) {
  try {
    return handle();
  } catch (const ProtocolError& e) {
    audit_.record(caller.actor, action, target, "refused:" + e.code(), e.what());
    throw;
  } catch (const std::exception& e) {
    audit_.record(caller.actor, action, target, "refused:internal", e.what());
    throw;
  }
}

HttpReply HttpApi::archives(const HttpRequest& req, std::string_view path, std::string_view query,
                            const std::string& peer) {
  constexpr std::string_view prefix = "/api/archives";
  std::string_view rest = path.substr(prefix.size());
  if (rest == "/reindex" && req.method() == http::verb::post) return reindex(req, peer);
  enum class Kind { List, Detail, File, Composite } kind = Kind::List;
  std::string meeting, name;
  if (!rest.empty()) {
    rest.remove_prefix(1);  // the '/'
    auto slash = rest.find('/');
    meeting = std::string(rest.substr(0, slash));
    kind = Kind::Detail;
    if (slash != std::string_view::npos) {
      std::string_view sub = rest.substr(slash);
      constexpr std::string_view files = "/files/";
      if (sub == "/composite") {
        kind = Kind::Composite;
      } else if (sub.rfind(files, 0) == 0) {
        kind = Kind::File;
        name = std::string(sub.substr(files.size()));
      } else {
        return json_error(req, http::status::not_found, "not_found", "no such API path");
      }
    }
  }
  const bool post_ok = kind == Kind::Composite;
  if (req.method() != http::verb::get && !(post_ok && req.method() == http::verb::post)) {
    auto res = json_error(req, http::status::method_not_allowed, "method_not_allowed",
                          post_ok ? "use POST to start the export and GET to fetch it" : "use GET");
    res.set(http::field::allow, post_ok ? "GET, POST" : "GET");
    return res;
  }
  std::string action = fmt::format("{} {}", std::string(req.method_string()), path);
  if (action.size() > kMaxAuditActionBytes) action = action.substr(0, kMaxAuditActionBytes) + "...";
  const std::string target = is_valid_id(meeting) ? meeting : std::string();
  auto who = authorize(req, Need::Archive, action, target, peer);
  if (auto* refused = std::get_if<HttpResponse>(&who)) return std::move(*refused);
  const Caller& caller = std::get<Caller>(who);
  return audit_refusals(caller, action, target, [&]() -> HttpReply {
    if (!archive_repo_)
      throw ProtocolError("archive_unavailable", "this server has no archive configured");
    if (kind == Kind::List) return list_archives(req, query, caller);
    if (!is_valid_id(meeting))
      throw ProtocolError("no_archive", "not a meeting id: 1 to 64 of A-Z a-z 0-9 . _ -");
    if (kind == Kind::Detail) return archive_detail(req, meeting, caller, action);
    if (kind == Kind::File) return archive_file(req, meeting, name, caller, action);
    return composite(req, meeting, caller, action);
  });
}

HttpResponse HttpApi::list_archives(const HttpRequest& req, std::string_view query, const Caller& caller) {
  ArchiveFilter f;
  f.from = query_time(query, "from");
  f.to = query_time(query, "to");
  f.lawyer = query_text(query, "lawyer");
  f.detainee = query_text(query, "detainee");
  f.case_id = query_text(query, "case");
  f.limit = static_cast<std::size_t>(query_int(query, "limit", 100, 1, kMaxListedRecords));
  json list = json::array();
  for (const auto& a : archive_repo_->search_archives(f)) list.push_back(archive_json(a, archive_repo_->find_case(a.meeting_id)));
  std::string detail = fmt::format("{} found", list.size());
  for (auto [key, value] : {std::pair{"from", &f.from}, std::pair{"to", &f.to}, std::pair{"lawyer", &f.lawyer},
                            std::pair{"detainee", &f.detainee}, std::pair{"case", &f.case_id}})
    if (!value->empty()) detail += fmt::format("; {}={}", key, *value);
  audit_.record(caller.actor, "GET /api/archives", "", "ok", detail);
  const auto count = list.size();
  return json_response(req, http::status::ok, json{{"archives", std::move(list)}, {"count", count}});
}

HttpResponse HttpApi::archive_detail(const HttpRequest& req, const std::string& meeting, const Caller& caller,
                                     const std::string& action) {
  auto row = archive_repo_->find_archive(meeting);
  if (!row) throw ProtocolError("no_archive", fmt::format("meeting {} has no archive in the index", meeting));
  json j = archive_json(*row, archive_repo_->find_case(meeting));
  const auto folder = archive_dir_ / meeting;
  std::string detail;
  try {
    auto stored = read_stored_manifest(folder);
    j["manifest"] = json::parse(stored.text);
    j["manifest_sha256"] = stored.sha256;
    j["manifest_matches_index"] = stored.sha256 == row->manifest_sha256;
    std::error_code ec;
    j["signature_present"] = std::filesystem::is_regular_file(folder / std::string(recorder::kSignatureFile), ec);
    if (stored.sha256 != row->manifest_sha256) detail = "the manifest differs from the one indexed";
  } catch (const recorder::ManifestError& e) {
    j["manifest"] = nullptr;
    j["manifest_error"] = e.what();
    detail = std::string("manifest unreadable: ") + e.what();
  }
  audit_.record(caller.actor, action, meeting, "ok", detail);
  return json_response(req, http::status::ok, j);
}

HttpFileResponse HttpApi::archive_file(const HttpRequest& req, const std::string& meeting, const std::string& name,
                                       const Caller& caller, const std::string& action) {
  if (!safe_file_name(name))
    throw ProtocolError("bad_name", "a file name is 1 to 128 of A-Z a-z 0-9 . _ - and does not start with '.'; "
                                    "paths are not accepted");
  if (!archive_repo_->find_archive(meeting))
    throw ProtocolError("no_archive", fmt::format("meeting {} has no archive in the index", meeting));
  recorder::Manifest manifest;
  try {
    manifest = read_stored_manifest(archive_dir_ / meeting).manifest;
  } catch (const recorder::ManifestError& e) {
    throw ProtocolError("archive_damaged", fmt::format("the manifest of {} cannot be read: {}", meeting, e.what()));
  }
  for (const auto& segment : manifest.segments) {
    if (segment.file != name) continue;
    auto res = file_response(req, archive_dir_ / meeting / name, "video/x-matroska", meeting + "-" + name,
                             fmt::format("segment {} of {}", name, meeting));
    audit_.record(caller.actor, action, meeting, "ok", fmt::format("{} bytes", res.body().size()));
    return res;
  }
  auto kase = archive_repo_->find_case(meeting);
  const bool letter = (manifest.case_info && manifest.case_info->letter_file == name) ||
                      (kase && kase->letter_file == name);
  if (letter) {
    auto res = file_response(req, documents_dir_ / name, letter_content_type(name), meeting + "-letter-" + name,
                             fmt::format("the letter {} of {}", name, meeting));
    audit_.record(caller.actor, action, meeting, "ok", fmt::format("letter, {} bytes", res.body().size()));
    return res;
  }
  throw ProtocolError("no_file", fmt::format("{} is not a segment or the letter of the archive of {}", name, meeting));
}

HttpReply HttpApi::composite(const HttpRequest& req, const std::string& meeting, const Caller& caller,
                             const std::string& action) {
  if (!exports_) throw ProtocolError("export_unavailable", "this server cannot export composites");
  if (!archive_repo_->find_archive(meeting))
    throw ProtocolError("no_archive", fmt::format("meeting {} has no archive in the index", meeting));
  auto state_body = [&](const CompositeExports::Status& s) {
    json j{{"meeting", meeting}, {"state", CompositeExports::to_string(s.state)}};
    if (s.state == CompositeExports::State::Queued) j["queue_position"] = s.queue_position;
    return j;
  };
  if (req.method() == http::verb::post) {
    auto s = exports_->request(meeting, archive_dir_ / meeting);
    if (s.state == CompositeExports::State::None)
      throw ProtocolError("export_queue_full", "too many composites are waiting to be made; try again later");
    audit_.record(caller.actor, action, meeting, "ok", std::string("export ") + CompositeExports::to_string(s.state));
    auto res = json_response(req, s.state == CompositeExports::State::Done ? http::status::ok : http::status::accepted,
                             state_body(s));
    res.set(http::field::location, fmt::format("/api/archives/{}/composite", meeting));
    return res;
  }
  auto s = exports_->status(meeting);
  switch (s.state) {
    case CompositeExports::State::None:
      throw ProtocolError("not_exported", fmt::format("no composite of {} was asked for; POST to this path to make one",
                                                      meeting));
    case CompositeExports::State::Failed:
      throw ProtocolError("export_failed", fmt::format("the export of {} failed: {}", meeting, s.error));
    case CompositeExports::State::Queued:
    case CompositeExports::State::Running:
      audit_.record(caller.actor, action, meeting, "ok", std::string("export ") + CompositeExports::to_string(s.state));
      return json_response(req, http::status::accepted, state_body(s));
    case CompositeExports::State::Done: break;
  }
  auto res = file_response(req, s.file, "video/mp4", meeting + "-composite.mp4", fmt::format("the composite of {}", meeting));
  audit_.record(caller.actor, action, meeting, "ok", fmt::format("composite, {} bytes", res.body().size()));
  return res;
}

HttpResponse HttpApi::reindex(const HttpRequest& req, const std::string& peer) {
  const std::string action = "POST /api/archives/reindex";
  auto who = authorize(req, Need::Admin, action, "", peer);
  if (auto* refused = std::get_if<HttpResponse>(&who)) return std::move(*refused);
  const Caller& caller = std::get<Caller>(who);
  if (!archive_repo_) {
    audit_.record(caller.actor, action, "", "refused:archive_unavailable", "no archive configured");
    return json_error(req, http::status::service_unavailable, "archive_unavailable", "this server has no archive configured");
  }
  ReindexResult result;
  try {
    result = reindex_archives(*archive_repo_, archive_dir_);
  } catch (const std::exception& e) {
    audit_.record(caller.actor, action, "", "refused:internal", e.what());
    throw;
  }
  audit_.record(caller.actor, action, "", "ok",
                fmt::format("{} indexed, {} skipped", result.indexed, result.skipped.size()));
  return json_response(req, http::status::ok, json{{"indexed", result.indexed}, {"skipped", result.skipped}});
}

HttpResponse HttpApi::case_record(const HttpRequest& req, const std::string& meeting, const std::string& peer) {
  const bool put = req.method() == http::verb::put;
  if (!put && req.method() != http::verb::get) {
    auto res = json_error(req, http::status::method_not_allowed, "method_not_allowed",
                          "use GET to read the case record or PUT to set it");
    res.set(http::field::allow, "GET, PUT");
    return res;
  }
  const std::string action = fmt::format("{} /api/meetings/{}/case", put ? "PUT" : "GET", meeting);
  auto who = authorize(req, Need::Admin, action, meeting, peer);
  if (auto* refused = std::get_if<HttpResponse>(&who)) return std::move(*refused);
  const Caller& caller = std::get<Caller>(who);
  return audit_refusals(caller, action, meeting, [&]() -> HttpResponse {
    if (!archive_repo_) throw ProtocolError("archive_unavailable", "this server has no case records configured");
    if (!put) {
      auto c = archive_repo_->find_case(meeting);
      if (!c) throw ProtocolError("no_case", fmt::format("meeting {} has no case record", meeting));
      audit_.record(caller.actor, action, meeting, "ok", "");
      return json_response(req, http::status::ok, case_json(*c));
    }
    if (!store_.find(meeting)) throw ProtocolError("no_meeting", fmt::format("meeting {} does not exist", meeting));
    json body = json::parse(req.body(), nullptr, false);
    if (body.is_discarded() || !body.is_object()) throw ProtocolError("bad_json", "the body must be a JSON object");
    struct Field {
      const char* name;
      std::size_t max_chars;
      std::string CaseRecord::*member;
    };
    static constexpr Field kFields[] = {
        {"case_id", 100, &CaseRecord::case_id},
        {"lawyer_name", 50, &CaseRecord::lawyer_name},
        {"lawyer_license", 64, &CaseRecord::lawyer_license},
        {"lawyer_firm", 100, &CaseRecord::lawyer_firm},
        {"detainee_name", 50, &CaseRecord::detainee_name},
        {"detainee_id_number", 32, &CaseRecord::detainee_id_number},
    };
    for (const auto& [key, value] : body.items()) {
      bool known = false;
      for (const auto& f : kFields) known = known || key == f.name;
      if (!known)
        throw ProtocolError("bad_field", fmt::format("unknown field \"{}\"; the fields are case_id, lawyer_name, "
                                                     "lawyer_license, lawyer_firm, detainee_name, detainee_id_number",
                                                     key.size() > 64 ? key.substr(0, 64) + "..." : key));
    }
    CaseRecord c = archive_repo_->find_case(meeting).value_or(CaseRecord{});
    c.meeting_id = meeting;
    for (const auto& f : kFields) {
      std::string v = body_string(body, f.name, false);
      if (utf8_length(v) > f.max_chars || !printable(v))
        throw ProtocolError("bad_field", fmt::format("field \"{}\" must be at most {} characters of one line of text",
                                                     f.name, f.max_chars));
      c.*(f.member) = std::move(v);
    }
    c.updated_at = format_utc_ms(std::chrono::system_clock::now());
    archive_repo_->put_case(c);
    audit_.record(caller.actor, action, meeting, "ok", c.case_id.empty() ? "" : "case " + c.case_id);
    return json_response(req, http::status::ok, case_json(c));
  });
}

HttpResponse HttpApi::letter(const HttpRequest& req, const std::string& meeting, std::string_view query,
                             const std::string& peer) {
  if (req.method() != http::verb::put) {
    auto res = json_error(req, http::status::method_not_allowed, "method_not_allowed",
                          "use PUT with the letter as the body");
    res.set(http::field::allow, "PUT");
    return res;
  }
  const std::string action = fmt::format("PUT /api/meetings/{}/letter", meeting);
  auto who = authorize(req, Need::Admin, action, meeting, peer);
  if (auto* refused = std::get_if<HttpResponse>(&who)) return std::move(*refused);
  const Caller& caller = std::get<Caller>(who);
  return audit_refusals(caller, action, meeting, [&]() -> HttpResponse {
    if (!archive_repo_) throw ProtocolError("archive_unavailable", "this server has no case records configured");
    auto kind = query_value(query, "kind").value_or("");
    if (kind != "commission" && kind != "legal_aid")
      throw ProtocolError("bad_field", "query parameter \"kind\" must be commission (委托书) or legal_aid (法律援助公函)");
    if (!store_.find(meeting)) throw ProtocolError("no_meeting", fmt::format("meeting {} does not exist", meeting));
    auto it = req.find(http::field::content_type);
    std::string type = it == req.end() ? std::string() : lower(std::string_view(it->value().data(), it->value().size()));
    type = type.substr(0, type.find(';'));
    while (!type.empty() && type.back() == ' ') type.pop_back();
    const LetterType* letter_type = nullptr;
    for (const auto& t : kLetterTypes)
      if (type == t.content_type) letter_type = &t;
    if (!letter_type)
      throw ProtocolError("unsupported_media_type",
                          "the Content-Type must be application/pdf, image/jpeg or image/png");
    const std::string& bytes = req.body();
    if (bytes.size() > kMaxLetterBytes)
      throw ProtocolError("too_large", fmt::format("a letter may be at most {} bytes", kMaxLetterBytes));
    if (bytes.size() < letter_type->magic.size() ||
        std::string_view(bytes).substr(0, letter_type->magic.size()) != letter_type->magic)
      throw ProtocolError("bad_file", fmt::format("the body is not {}", letter_type->name));
    const std::string sha = recorder::sha256_hex(bytes);
    const std::string file_name = fmt::format("{}.{}", sha, letter_type->ext);
    std::filesystem::create_directories(documents_dir_);
    ::chmod(documents_dir_.c_str(), 0700);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(documents_dir_ / file_name, ec))
      write_private_file(documents_dir_ / file_name, bytes);
    CaseRecord c = archive_repo_->find_case(meeting).value_or(CaseRecord{});
    c.meeting_id = meeting;
    c.letter_kind = kind;
    c.letter_file = file_name;
    c.letter_sha256 = sha;
    c.letter_content_type = std::string(letter_type->content_type);
    c.updated_at = format_utc_ms(std::chrono::system_clock::now());
    archive_repo_->put_case(c);
    audit_.record(caller.actor, action, meeting, "ok",
                  fmt::format("{} {}, {} bytes, sha256 {}", kind, c.letter_content_type, bytes.size(), sha));
    return json_response(req, http::status::ok, case_json(c));
  });
}

}  // namespace huijian::signaling
