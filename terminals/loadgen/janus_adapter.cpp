#include "terminals/loadgen/janus_adapter.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include <future>

#include "terminals/loadgen/load_run.hpp"
#include "terminals/terminal_options.hpp"

namespace huijian::terminals::loadgen {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kMaxResponseBytes = 4 * 1024 * 1024;
constexpr int kMaxEventsPerPoll = 64;

std::string username(std::size_t index, bool lawyer) {
  return (lawyer ? "lg-l-" : "lg-d-") + std::to_string(index + 1);
}

}  // namespace

JanusUrl parse_janus_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) throw AdapterError("the Janus URL must start with http:// (got '" + url + "')");
  std::string rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  JanusUrl out;
  std::string authority = rest.substr(0, slash);
  out.base = slash == std::string::npos ? "/janus" : rest.substr(slash);
  while (out.base.size() > 1 && out.base.back() == '/') out.base.pop_back();
  const auto colon = authority.rfind(':');
  if (colon == std::string::npos || authority.back() == ']') {
    out.host = authority;
    out.port = "80";
  } else {
    out.host = authority.substr(0, colon);
    out.port = authority.substr(colon + 1);
  }
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']')
    out.host = out.host.substr(1, out.host.size() - 2);
  if (out.host.empty() || out.port.empty()) throw AdapterError("the Janus URL has no host or port: '" + url + "'");
  if (!is_loopback_host(out.host)) throw AdapterError("the Janus URL must name a loopback host (got '" + out.host + "')");
  return out;
}

// One keep-alive HTTP/1.1 connection, synchronous, with socket timeouts.
class JanusAdapter::Http {
 public:
  Http(const JanusUrl& url, std::chrono::seconds timeout) : url_(url), timeout_(timeout) {}

  json send(http::verb verb, const std::string& target, const std::string& body) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        if (!socket_.is_open()) connect();
        http::request<http::string_body> request(verb, target, 11);
        request.set(http::field::host, url_.host);
        request.keep_alive(true);
        if (verb == http::verb::post) {
          request.set(http::field::content_type, "application/json");
          request.body() = body;
          request.prepare_payload();
        }
        http::write(socket_, request);
        http::response_parser<http::string_body> parser;
        parser.body_limit(kMaxResponseBytes);
        http::read(socket_, buffer_, parser);
        auto response = parser.release();
        if (!response.keep_alive()) close();
        if (response.result() != http::status::ok)
          throw AdapterError("Janus answered HTTP " + std::to_string(response.result_int()) + " to " + target);
        return json::parse(response.body());
      } catch (const AdapterError&) {
        throw;
      } catch (const json::exception& e) {
        throw AdapterError(std::string("Janus sent JSON we cannot read: ") + e.what());
      } catch (const std::exception& e) {
        close();
        if (attempt == 1 || shut_down_) throw AdapterError("HTTP to Janus failed: " + std::string(e.what()));
      }
    }
    throw AdapterError("HTTP to Janus failed");
  }

  // From another thread: makes a blocked read return at once.
  void shut_down() noexcept {
    shut_down_ = true;
    const int fd = native_;
    if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  }

 private:
  void connect() {
    tcp::resolver resolver(io_);
    auto endpoints = resolver.resolve(url_.host, url_.port);
    asio::connect(socket_, endpoints);
    timeval tv{};
    tv.tv_sec = static_cast<long>(timeout_.count());
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    native_ = socket_.native_handle();
  }
  void close() noexcept {
    native_ = -1;
    boost::system::error_code ignored;
    socket_.close(ignored);
    buffer_.clear();
  }

  JanusUrl url_;
  std::chrono::seconds timeout_;
  asio::io_context io_;
  tcp::socket socket_{io_};
  beast::flat_buffer buffer_;
  std::atomic<int> native_{-1};
  std::atomic<bool> shut_down_{false};
};

JanusAdapter::JanusAdapter(JanusUrl url, std::string record_dir)
    : url_(std::move(url)),
      record_dir_(std::move(record_dir)),
      control_(std::make_unique<Http>(url_, std::chrono::seconds(10))),
      poll_http_(std::make_unique<Http>(url_, std::chrono::seconds(40))) {}

JanusAdapter::~JanusAdapter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  poll_http_->shut_down();
  if (poller_.joinable()) poller_.join();
}

json JanusAdapter::request(const std::string& path, json body) {
  const std::string transaction = "lg" + std::to_string(++transaction_);
  body["transaction"] = transaction;
  json reply = control_->send(http::verb::post, url_.base + path, body.dump());
  const std::string kind = reply.value("janus", "");
  if (kind == "error") {
    const auto& error = reply.value("error", json::object());
    throw AdapterError("Janus refused '" + body.value("janus", "") + "': " + std::to_string(error.value("code", 0)) +
                       " " + error.value("reason", ""));
  }
  return reply;
}

json JanusAdapter::plugin_message(std::uint64_t handle, json body, const json* jsep) {
  json message{{"janus", "message"}, {"body", std::move(body)}};
  if (jsep) message["jsep"] = *jsep;
  return request("/" + std::to_string(session_) + "/" + std::to_string(handle), std::move(message));
}

void JanusAdapter::poll_events() {
  const std::string target =
      url_.base + "/" + std::to_string(session_) + "?maxev=" + std::to_string(kMaxEventsPerPoll);
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    json reply;
    try {
      reply = poll_http_->send(http::verb::get, target, "");
    } catch (const std::exception& e) {
      std::lock_guard lock(mutex_);
      if (!stopping_ && poll_error_.empty()) poll_error_ = e.what();
      events_changed_.notify_all();
      return;
    }
    std::lock_guard lock(mutex_);
    const json list = reply.is_array() ? reply : json::array({reply});
    for (const auto& event : list) {
      if (event.value("janus", "") == "keepalive") continue;
      const std::uint64_t sender = event.value("sender", std::uint64_t{0});
      if (sender == 0) continue;
      auto& queue = events_[sender];
      if (queue.size() < 256) queue.push_back(event);
      const std::string kind = event.value("janus", "");
      if (kind == "hangup" || kind == "detached")
        spdlog::warn("[loadgen] Janus handle {}: {} ({})", sender, kind, event.value("reason", ""));
    }
    events_changed_.notify_all();
  }
}

json JanusAdapter::wait_event(std::uint64_t handle, const std::string& name, Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  for (;;) {
    auto& queue = events_[handle];
    while (!queue.empty()) {
      json event = std::move(queue.front());
      queue.pop_front();
      const std::string kind = event.value("janus", "");
      if (kind == "hangup")
        throw AdapterError("Janus hung up handle " + std::to_string(handle) + ": " + event.value("reason", ""));
      if (kind != "event") continue;  // webrtcup, media, slowlink: not waited for
      const json data = event.value("plugindata", json::object()).value("data", json::object());
      if (data.contains("error"))
        throw AdapterError("videocall error " + std::to_string(data.value("error_code", 0)) + ": " +
                           data.value("error", ""));
      const json result = data.value("result", json::object());
      const std::string got = result.value("event", "");
      if (got == name) return event;
      if (got == "hangup")
        throw AdapterError("the videocall was hung up while waiting for '" + name + "': " + result.value("reason", ""));
    }
    if (!poll_error_.empty()) throw AdapterError("Janus event polling failed: " + poll_error_);
    if (events_changed_.wait_until(lock, deadline) == std::cv_status::timeout && events_[handle].empty())
      throw AdapterError("timed out waiting for Janus's '" + name + "' event");
  }
}

void JanusAdapter::set_up(LoadRun& run, std::size_t meetings, Clock::time_point deadline) {
  session_ = request("", json{{"janus", "create"}}).at("data").at("id").get<std::uint64_t>();
  poller_ = std::thread([this] { poll_events(); });
  auto attach = [&] {
    return request("/" + std::to_string(session_), json{{"janus", "attach"}, {"plugin", "janus.plugin.videocall"}})
        .at("data")
        .at("id")
        .get<std::uint64_t>();
  };
  // Waits (bounded) for a peer's local description, made on the media thread.
  auto description = [&](std::future<std::string>& ready, const std::string& what) {
    if (ready.wait_until(deadline) != std::future_status::ready)
      throw AdapterError("timed out waiting for the " + what + " to gather its candidates");
    return ready.get();
  };
  for (std::size_t i = 0; i < meetings; ++i) {
    const std::string where = "meeting " + std::to_string(i + 1) + ": ";
    try {
      Meeting m{attach(), attach()};
      meetings_.push_back(m);
      plugin_message(m.caller, json{{"request", "register"}, {"username", username(i, true)}});
      wait_event(m.caller, "registered", deadline);
      plugin_message(m.callee, json{{"request", "register"}, {"username", username(i, false)}});
      wait_event(m.callee, "registered", deadline);

      auto offer_promise = std::make_shared<std::promise<std::string>>();
      auto offer_ready = offer_promise->get_future();
      run.worker().call([&] {
        run.peer(i, Party::Lawyer).create_offer([offer_promise](std::string sdp) { offer_promise->set_value(sdp); });
      });
      const json offer{{"type", "offer"}, {"sdp", description(offer_ready, "lawyer's offer")}};
      plugin_message(m.caller, json{{"request", "call"}, {"username", username(i, false)}}, &offer);

      const json incoming = wait_event(m.callee, "incomingcall", deadline);
      const std::string janus_offer = incoming.value("jsep", json::object()).value("sdp", "");
      if (janus_offer.empty()) throw AdapterError("Janus's incomingcall carried no offer");
      auto answer_promise = std::make_shared<std::promise<std::string>>();
      auto answer_ready = answer_promise->get_future();
      run.worker().call([&] {
        run.peer(i, Party::Detainee).answer_offer(janus_offer, [answer_promise](std::string sdp) {
          answer_promise->set_value(sdp);
        });
      });
      const json answer{{"type", "answer"}, {"sdp", description(answer_ready, "detainee's answer")}};
      plugin_message(m.callee, json{{"request", "accept"}}, &answer);

      const json accepted = wait_event(m.caller, "accepted", deadline);
      const std::string janus_answer = accepted.value("jsep", json::object()).value("sdp", "");
      if (janus_answer.empty()) throw AdapterError("Janus's accepted event carried no answer");
      run.worker().call([&] { run.peer(i, Party::Lawyer).accept_answer(janus_answer); });
      if (!record_dir_.empty()) {
        // Each handle records what its own party sends: both parties' pictures (and, Janus being
        // Janus, their sound too; ours records the picture only).
        plugin_message(m.caller, json{{"request", "set"}, {"record", true}, {"filename", record_dir_ + "/" + username(i, true)}});
        plugin_message(m.callee, json{{"request", "set"}, {"record", true}, {"filename", record_dir_ + "/" + username(i, false)}});
      }
    } catch (const std::exception& e) {
      throw AdapterError(where + e.what());
    }
    const std::string failure = run.first_failure();
    if (!failure.empty()) throw AdapterError(failure);
  }
}

void JanusAdapter::tear_down(LoadRun&) noexcept {
  if (session_ == 0) return;
  try {
    for (const auto& m : meetings_) plugin_message(m.caller, json{{"request", "hangup"}});
  } catch (const std::exception& e) {
    spdlog::warn("[loadgen] Janus tear-down: {}", e.what());
  }
  // The long poll stops before the session goes, or Janus logs the poll of a session it no longer has.
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  poll_http_->shut_down();
  if (poller_.joinable()) poller_.join();
  try {
    request("/" + std::to_string(session_), json{{"janus", "destroy"}});
  } catch (const std::exception& e) {
    spdlog::warn("[loadgen] Janus tear-down: {}", e.what());
  }
  session_ = 0;
}

}  // namespace huijian::terminals::loadgen
