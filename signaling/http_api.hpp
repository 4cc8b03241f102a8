#pragma once
// The HTTP side of huijiand, without sockets: one request in, one response
// out. Static files of the web root, /api/health and the admin REST API
// (docs/protocol.md).

#include <filesystem>
#include <functional>
#include <string>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "media/relay.hpp"
#include "signaling/meeting_repository.hpp"
#include "signaling/signaling_hub.hpp"

namespace huijian::signaling {

inline constexpr std::size_t kMaxRequestBodyBytes = 64 * 1024;
inline constexpr std::size_t kMaxStaticFileBytes = 16 * 1024 * 1024;

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

class HttpApi {
 public:
  // `web_root` may be missing on disk: static requests then get 404.
  HttpApi(std::filesystem::path web_root, std::string admin_token, SignalingHub& hub,
          MeetingRepository& store);

  // Where GET /api/stats reads the relay's counters; without it the relay
  // part of the answer is null.
  void set_relay_counters(std::function<media::RelayCounters()> source) { relay_counters_ = std::move(source); }

  HttpResponse handle(const HttpRequest& request);
  // A response for a request whose body was over kMaxRequestBodyBytes.
  static HttpResponse too_large(unsigned version);

 private:
  HttpResponse handle_api(const HttpRequest& request, std::string_view path);
  HttpResponse serve_static(const HttpRequest& request, std::string_view path);
  // Returns an error response when the request lacks the admin token.
  std::optional<HttpResponse> check_admin(const HttpRequest& request);

  std::filesystem::path web_root_;
  std::string admin_token_;
  SignalingHub& hub_;
  MeetingRepository& store_;
  std::function<media::RelayCounters()> relay_counters_;
};

}  // namespace huijian::signaling
