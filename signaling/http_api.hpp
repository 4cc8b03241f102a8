#pragma once
// The HTTP side of huijiand, without sockets: one request in, one response
// out. Static files of the web root, /api/health, officer login and the
// admin REST API (docs/protocol.md).

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <variant>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "media/relay.hpp"
#include "signaling/access_control.hpp"
#include "signaling/audit_trail.hpp"
#include "signaling/meeting_repository.hpp"
#include "signaling/signaling_hub.hpp"
#include "signaling/supervision_repository.hpp"

namespace huijian::signaling {

inline constexpr std::size_t kMaxRequestBodyBytes = 64 * 1024;
inline constexpr std::size_t kMaxStaticFileBytes = 16 * 1024 * 1024;
inline constexpr std::size_t kMaxListedRecords = 1000;

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

// What the HTTP API works with besides the hub.
struct HttpServices {
  MeetingRepository& meetings;
  SupervisionRepository& supervision;
  AccessControl& access;
  AuditTrail& audit;
};

class HttpApi {
 public:
  // `web_root` may be missing on disk: static requests then get 404.
  HttpApi(std::filesystem::path web_root, std::string admin_token, SignalingHub& hub, HttpServices services);

  // Where GET /api/stats reads the relay's counters; without it the relay
  // part of the answer is null.
  void set_relay_counters(std::function<media::RelayCounters()> source) { relay_counters_ = std::move(source); }

  // `peer` is the client's address, for the audit trail.
  HttpResponse handle(const HttpRequest& request, std::string_view peer = {});
  // A response for a request whose body was over kMaxRequestBodyBytes.
  static HttpResponse too_large(unsigned version);

 private:
  // Who may call an endpoint: the admin token or an administrator's login,
  // or any officer's or administrator's login.
  enum class Need { Admin, Officer };
  struct Caller {
    Actor actor;
    std::optional<OfficerSession> session;
  };

  HttpResponse handle_api(const HttpRequest& request, std::string_view path, std::string_view query,
                          const std::string& peer);
  HttpResponse serve_static(const HttpRequest& request, std::string_view path);
  // The caller, or the refusal (401/403, audited) to send back.
  std::variant<Caller, HttpResponse> authorize(const HttpRequest& request, Need need, const std::string& action,
                                               const std::string& target, const std::string& peer);
  HttpResponse login(const HttpRequest& request, const std::string& peer);
  HttpResponse logout(const HttpRequest& request, const std::string& peer);
  HttpResponse accounts(const HttpRequest& request, const std::string& peer);
  HttpResponse violations(const HttpRequest& request, std::string_view query, const std::string& peer);
  HttpResponse audit_log(const HttpRequest& request, std::string_view query, const std::string& peer);

  std::filesystem::path web_root_;
  std::string admin_token_;
  SignalingHub& hub_;
  MeetingRepository& store_;
  SupervisionRepository& supervision_;
  AccessControl& access_;
  AuditTrail& audit_;
  std::function<media::RelayCounters()> relay_counters_;
};

}  // namespace huijian::signaling
