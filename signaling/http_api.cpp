#include "signaling/http_api.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <boost/beast/version.hpp>
#include <fstream>
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
  if (code == "meeting_exists" || code == "meeting_taken" || code == "bad_state")
    return http::status::conflict;
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
  return j;
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

HttpApi::HttpApi(std::filesystem::path web_root, std::string admin_token, SignalingHub& hub,
                 MeetingRepository& store)
    : web_root_(std::move(web_root)), admin_token_(std::move(admin_token)), hub_(hub), store_(store) {}

HttpResponse HttpApi::too_large(unsigned version) {
  HttpRequest req{http::verb::post, "/", version};
  req.keep_alive(false);
  return json_error(req, http::status::payload_too_large, "too_large",
                    fmt::format("the request body is larger than {} bytes", kMaxRequestBodyBytes));
}

HttpResponse HttpApi::handle(const HttpRequest& req) {
  std::string_view target(req.target().data(), req.target().size());
  auto q = target.find_first_of("?#");
  std::string_view path = target.substr(0, q);
  try {
    if (path == "/api" || path.rfind("/api/", 0) == 0) return handle_api(req, path);
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

std::optional<HttpResponse> HttpApi::check_admin(const HttpRequest& req) {
  if (admin_token_.empty())
    return json_error(req, http::status::forbidden, "rest_disabled",
                      "the admin REST API is disabled: set server.admin_token in the configuration");
  auto it = req.find(http::field::authorization);
  std::string_view value = it == req.end() ? std::string_view{} : std::string_view(it->value().data(), it->value().size());
  constexpr std::string_view prefix = "Bearer ";
  bool ok = value.size() == prefix.size() + admin_token_.size() && value.rfind(prefix, 0) == 0 &&
            CRYPTO_memcmp(value.data() + prefix.size(), admin_token_.data(), admin_token_.size()) == 0;
  if (ok) return std::nullopt;
  auto res = json_error(req, http::status::unauthorized, "unauthorized",
                        it == req.end() ? "this request needs the header Authorization: Bearer <admin_token>"
                                        : "the admin token is wrong");
  res.set(http::field::www_authenticate, "Bearer");
  return res;
}

HttpResponse HttpApi::handle_api(const HttpRequest& req, std::string_view path) {
  if (path == "/api/health") {
    if (req.method() != http::verb::get && req.method() != http::verb::head)
      return json_error(req, http::status::method_not_allowed, "method_not_allowed", "use GET");
    return json_response(req, http::status::ok, json{{"ok", true}, {"version", HUIJIAN_VERSION}});
  }
  if (path == "/api/stats") {
    if (req.method() != http::verb::get)
      return json_error(req, http::status::method_not_allowed, "method_not_allowed", "use GET");
    if (auto denied = check_admin(req)) return *denied;
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
    if (auto denied = check_admin(req)) return *denied;
    json body = json::parse(req.body(), nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return json_error(req, http::status::bad_request, "bad_json", "the body must be a JSON object");
    MeetingConfig m;
    m.id = body_string(body, "id", true);
    m.lawyer_device = body_string(body, "lawyer_device", true);
    m.detainee_device = body_string(body, "detainee_device", true);
    m.case_id = body_string(body, "case_id", false);
    auto created = hub_.create_meeting(m, "admin");
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
      if (auto denied = check_admin(req)) return *denied;
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
      return json_response(req, http::status::ok, meeting_json(ended));
    }
    if (req.method() != http::verb::get)
      return json_error(req, http::status::method_not_allowed, "method_not_allowed", "use GET to read a meeting");
    if (auto denied = check_admin(req)) return *denied;
    auto m = store_.find(id);
    if (!m) return json_error(req, http::status::not_found, "no_meeting", fmt::format("meeting {} does not exist", id));
    json j = meeting_json(*m);
    json events = json::array();
    for (const auto& e : store_.events(id))
      events.push_back(json{{"id", e.id}, {"at", e.at}, {"kind", e.kind}, {"actor", e.actor}, {"detail", e.detail}});
    j["events"] = std::move(events);
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
