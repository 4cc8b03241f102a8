#pragma once
// The HTTP side of huijiand, without sockets: one request in, one response
// out. Static files of the web root, /api/health, officer login, the admin
// REST API, and the archive (docs/protocol.md).

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include <boost/beast/http/file_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "media/relay.hpp"
#include "signaling/access_control.hpp"
#include "signaling/archive_repository.hpp"
#include "signaling/audit_trail.hpp"
#include "signaling/composite_exports.hpp"
#include "signaling/meeting_repository.hpp"
#include "signaling/signaling_hub.hpp"
#include "signaling/supervision_repository.hpp"

namespace huijian::signaling {

inline constexpr std::size_t kMaxRequestBodyBytes = 64 * 1024;
// The body of PUT /api/meetings/{id}/letter (a scanned letter) may be this big.
inline constexpr std::size_t kMaxLetterBytes = 8 * 1024 * 1024;
inline constexpr std::size_t kMaxStaticFileBytes = 16 * 1024 * 1024;
inline constexpr std::size_t kMaxListedRecords = 1000;

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;
// A response whose body is a file, sent from disk piece by piece (archive
// segments are ~100 MB; they never sit in memory whole).
using HttpFileResponse = boost::beast::http::response<boost::beast::http::file_body>;
using HttpReply = std::variant<HttpResponse, HttpFileResponse>;

// What the HTTP API works with besides the hub.
struct HttpServices {
  MeetingRepository& meetings;
  SupervisionRepository& supervision;
  AccessControl& access;
  AuditTrail& audit;
};

// What the archive endpoints work with (HttpApi::set_archives).
struct ArchiveServices {
  ArchiveRepository& repository;
  std::filesystem::path archive_dir;    // <archive_dir>/<meeting>/manifest.json, segments
  std::filesystem::path documents_dir;  // uploaded letters, <sha256>.<pdf|jpg|png>
  std::filesystem::path data_dir;       // composites go to <data_dir>/exports/<meeting>.mp4
  CompositeExports::Exporter exporter;  // empty: POST .../composite answers 503 export_unavailable
};

class HttpApi {
 public:
  // `web_root` may be missing on disk: static requests then get 404.
  HttpApi(std::filesystem::path web_root, std::string admin_token, SignalingHub& hub, HttpServices services);

  // Where GET /api/stats reads the relay's counters; without it the relay
  // part of the answer is null.
  void set_relay_counters(std::function<media::RelayCounters()> source) { relay_counters_ = std::move(source); }
  // Where GET /api/stats reads what entered the recorder (Recorder::inputs()).
  void set_recorder_inputs(std::function<nlohmann::json()> source) { recorder_inputs_ = std::move(source); }
  // Enables the archive and case endpoints; without it they answer 503
  // archive_unavailable. Call before serving.
  void set_archives(ArchiveServices services);

  // `peer` is the client's address, for the audit trail. A file (an archive
  // segment, a letter, a composite) comes back as an HttpFileResponse.
  HttpReply respond(const HttpRequest& request, std::string_view peer = {});
  // respond(), with a file's bytes read into a string body: for tests and
  // tools, not for serving big files.
  HttpResponse handle(const HttpRequest& request, std::string_view peer = {});
  // A response for a request whose body was over `limit` bytes.
  static HttpResponse too_large(unsigned version, std::size_t limit = kMaxRequestBodyBytes);
  // The largest body accepted for a request with this method and target
  // (known from the header, before the body is read): kMaxLetterBytes for
  // PUT /api/meetings/{id}/letter, kMaxRequestBodyBytes for everything else.
  static std::size_t body_limit(boost::beast::http::verb method, std::string_view target);
  // For a request whose body may be bigger than kMaxRequestBodyBytes (a
  // letter upload), decided on its header alone: the refusal its credentials
  // get (audited, with Connection: close), so that nobody without an
  // administrator's credentials can make the server read megabytes; nullopt
  // when the body is to be read.
  std::optional<HttpResponse> refuse_before_body(const HttpRequest& header, std::string_view peer);

 private:
  // Who may call an endpoint: the admin token or an administrator's login;
  // an officer's or administrator's login; an archivist's or administrator's
  // login; any login (session, logout).
  enum class Need { Admin, Officer, Archive, Login };
  struct Caller {
    Actor actor;
    std::optional<OfficerSession> session;
  };

  HttpReply handle_api(const HttpRequest& request, std::string_view path, std::string_view query,
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
  // The archive (archive_api part of http_api.cpp). Each audits what it did
  // or why it refused.
  HttpReply archives(const HttpRequest& request, std::string_view path, std::string_view query,
                     const std::string& peer);
  HttpResponse list_archives(const HttpRequest& request, std::string_view query, const Caller& caller);
  HttpResponse archive_detail(const HttpRequest& request, const std::string& meeting, const Caller& caller,
                              const std::string& action);
  HttpFileResponse archive_file(const HttpRequest& request, const std::string& meeting, const std::string& name,
                                const Caller& caller, const std::string& action);
  HttpReply composite(const HttpRequest& request, const std::string& meeting, const Caller& caller,
                      const std::string& action);
  HttpResponse reindex(const HttpRequest& request, const std::string& peer);
  HttpResponse case_record(const HttpRequest& request, const std::string& meeting, const std::string& peer);
  HttpResponse letter(const HttpRequest& request, const std::string& meeting, std::string_view query,
                      const std::string& peer);
  // Runs `handle` for an authorised caller; whatever it throws (a refusal or
  // a fault) is written to the audit trail as refused before it goes on.
  template <typename Handle>
  auto audit_refusals(const Caller& caller, const std::string& action, const std::string& target, Handle&& handle)
      -> decltype(handle());

  std::filesystem::path web_root_;
  std::string admin_token_;
  SignalingHub& hub_;
  MeetingRepository& store_;
  SupervisionRepository& supervision_;
  AccessControl& access_;
  AuditTrail& audit_;
  std::function<media::RelayCounters()> relay_counters_;
  std::function<nlohmann::json()> recorder_inputs_;
  ArchiveRepository* archive_repo_ = nullptr;
  std::filesystem::path archive_dir_;
  std::filesystem::path documents_dir_;
  std::unique_ptr<CompositeExports> exports_;  // null: no exporter
};

}  // namespace huijian::signaling
