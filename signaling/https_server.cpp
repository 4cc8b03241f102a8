#include "signaling/https_server.hpp"

#include <fmt/format.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <algorithm>
#include <deque>
#include <optional>
#include <vector>

#include "signaling/component_logger.hpp"

namespace huijian::signaling {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
constexpr auto kRequestTimeout = std::chrono::seconds(30);
// How long a client that was refused before its body was read may go on sending it.
constexpr auto kDrainTimeout = std::chrono::seconds(10);
constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::size_t kMaxHeaderBytes = 16 * 1024;

// One terminal connection on /ws.
class WebSocketSession final : public ConnectionSink,
                               public std::enable_shared_from_this<WebSocketSession> {
 public:
  WebSocketSession(TlsStream&& stream, SignalingHub& hub, std::size_t max_message_bytes,
                   std::string peer)
      : ws_(std::move(stream)), hub_(hub), max_(max_message_bytes), peer_(std::move(peer)) {}

  void run(HttpRequest request) {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      res.set(http::field::server, "huijiand");
    }));
    ws_.read_message_max(max_ + kReadChunk);
    ws_.auto_fragment(false);
    ws_.async_accept(request, [self = shared_from_this()](beast::error_code ec) { self->on_accept(ec); });
  }

  void send_text(std::string text) override {
    if (dead_ || close_code_) return;
    queue_.push_back(std::move(text));
    if (!writing_) write_next();
  }

  std::string peer() const override { return peer_; }

  void close(std::uint16_t code, std::string reason) override {
    if (dead_ || close_code_) return;
    close_code_ = code;
    close_reason_ = std::move(reason);
    if (!writing_) write_next();
  }

 private:
  void on_accept(beast::error_code ec) {
    if (ec) {
      component_logger("ws")->info("{}: WebSocket handshake failed: {}", peer_, ec.message());
      return;
    }
    id_ = hub_.open_connection(shared_from_this());
    opened_ = true;
    component_logger("ws")->info("{}: connection {} opened", peer_, id_);
    read();
  }

  void read() {
    ws_.async_read_some(buffer_, kReadChunk, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      finish(ec);
      return;
    }
    if (buffer_.size() > max_) {
      std::size_t seen = buffer_.size();
      buffer_.consume(buffer_.size());
      too_large_ = true;
      hub_.on_too_large(id_, seen);  // queues an error and asks to close with 1009
      return;                        // no more reads: async_close drains the rest
    }
    if (!ws_.is_message_done()) {
      read();
      return;
    }
    if (ws_.got_text()) {
      auto data = buffer_.data();
      std::string_view text(static_cast<const char*>(data.data()), data.size());
      hub_.on_text(id_, text);
    } else {
      hub_.on_binary(id_);
    }
    buffer_.consume(buffer_.size());
    if (!dead_ && !close_code_) read();
  }

  void write_next() {
    if (dead_) return;
    if (!queue_.empty()) {
      writing_ = true;
      ws_.text(true);
      ws_.async_write(net::buffer(queue_.front()),
                      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
      return;
    }
    if (close_code_ && !closing_) {
      closing_ = true;
      writing_ = true;
      websocket::close_reason reason(static_cast<websocket::close_code>(*close_code_), close_reason_);
      ws_.async_close(reason, [self = shared_from_this()](beast::error_code ec) {
        self->writing_ = false;
        self->finish(ec ? ec : beast::error_code(websocket::error::closed));
      });
    }
  }

  void on_write(beast::error_code ec) {
    writing_ = false;
    if (ec) {
      finish(ec);
      return;
    }
    queue_.pop_front();
    write_next();
  }

  void finish(beast::error_code ec) {
    if (dead_) return;
    // A pending read ends when the close completes; wait for the close we started.
    if (closing_ && writing_) return;
    dead_ = true;
    queue_.clear();
    if (opened_) {
      component_logger("ws")->info("{}: connection {} closed ({})", peer_, id_, ec.message());
      hub_.on_closed(id_);  // drops the hub's reference to this session
    }
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
  }

  websocket::stream<TlsStream> ws_;
  SignalingHub& hub_;
  std::size_t max_;
  std::string peer_;
  ConnectionId id_ = 0;
  bool opened_ = false;
  bool dead_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool too_large_ = false;
  std::optional<std::uint16_t> close_code_;
  std::string close_reason_;
  std::deque<std::string> queue_;
  beast::flat_buffer buffer_;
};

// One TLS connection: HTTP requests until it upgrades to /ws or closes.
class HttpSession final : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket&& socket, ssl::context& tls, HttpApi& api, SignalingHub& hub,
              std::size_t max_message_bytes)
      : stream_(std::move(socket), tls), api_(api), hub_(hub), max_message_bytes_(max_message_bytes) {
    beast::error_code ec;
    auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    peer_ = ec ? std::string("?") : fmt::format("{}:{}", ep.address().to_string(), ep.port());
  }

  void run() {
    beast::get_lowest_layer(stream_).expires_after(kHandshakeTimeout);
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](beast::error_code ec) { self->on_handshake(ec); });
  }

 private:
  void on_handshake(beast::error_code ec) {
    if (ec) {
      component_logger("http")->info("{}: TLS handshake failed: {}", peer_, ec.message());
      return;
    }
    read();
  }

  // The header first: its method and target decide how big the body may be
  // (a letter upload may be bigger than anything else).
  void read() {
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    // Beast checks a Content-Length against the limit while it parses the
    // header, so the largest limit of any request here, and the request's
    // own limit in on_header.
    body_limit_ = std::max(kMaxRequestBodyBytes, kMaxLetterBytes);
    parser_->body_limit(body_limit_);
    beast::get_lowest_layer(stream_).expires_after(kRequestTimeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read(ec);
    const auto& header = parser_->get();
    body_limit_ = HttpApi::body_limit(header.method(), std::string_view(header.target().data(), header.target().size()));
    if (auto length = parser_->content_length(); length && *length > body_limit_)
      return on_read(http::error::body_limit);
    if (body_limit_ > kMaxRequestBodyBytes)
      if (auto refusal = api_.refuse_before_body(parser_->get(), peer_))
        return write(std::move(*refusal), true, true);
    parser_->body_limit(body_limit_);  // a chunked body is counted against it as it comes
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return shutdown();
    if (ec == http::error::body_limit) {
      auto res = HttpApi::too_large(11, body_limit_);
      return write(std::move(res), true, true);
    }
    if (ec) {
      if (ec != beast::error::timeout && ec != net::error::eof && ec != ssl::error::stream_truncated)
        component_logger("http")->info("{}: bad request: {}", peer_, ec.message());
      return;
    }
    HttpRequest req = parser_->release();
    if (websocket::is_upgrade(req)) {
      std::string_view target(req.target().data(), req.target().size());
      if (target == "/ws" || target.rfind("/ws?", 0) == 0) {
        beast::get_lowest_layer(stream_).expires_never();
        std::make_shared<WebSocketSession>(std::move(stream_), hub_, max_message_bytes_, peer_)
            ->run(std::move(req));
        return;
      }
    }
    auto reply = api_.respond(req, peer_);
    std::visit(
        [&](auto& res) {
          component_logger("http")->debug("{}: {} {} -> {}", peer_, std::string(req.method_string()),
                                          std::string(req.target()), res.result_int());
          bool close = res.need_eof();
          write(std::move(res), close);
        },
        reply);
  }

  // A string body or a file body (sent from disk in pieces). `drain`: the
  // answer was given before the request's body was read (a refusal), so what
  // the client still sends of it is read and dropped before the close.
  template <typename Response>
  void write(Response&& res, bool close, bool drain = false) {
    auto shared = std::make_shared<std::decay_t<Response>>(std::move(res));
    if (close) shared->keep_alive(false);
    // A big file (an archive segment) gets longer than the request timeout:
    // 30 s plus a second per 512 KiB, i.e. a client slower than ~4 Mbit/s is cut off.
    auto bytes = shared->payload_size().value_or(0);
    beast::get_lowest_layer(stream_).expires_after(kRequestTimeout + std::chrono::seconds(bytes / (512 * 1024)));
    http::async_write(stream_, *shared,
                      [self = shared_from_this(), shared, close, drain](beast::error_code ec, std::size_t) {
                        if (ec) return;
                        if (drain) return self->drain(0);
                        if (close) return self->shutdown();
                        self->read();
                      });
  }

  // Reads and drops what a refused client still sends, so that it gets to
  // read the refusal rather than a reset: at most the body limit (and a
  // header's worth), for at most kDrainTimeout, or until the client closes.
  void drain(std::size_t dropped) {
    if (dropped == 0) {
      buffer_.consume(buffer_.size());
      scratch_.resize(16 * 1024);
      beast::get_lowest_layer(stream_).expires_after(kDrainTimeout);
    }
    if (dropped > body_limit_ + kMaxHeaderBytes) return shutdown();
    stream_.async_read_some(net::buffer(scratch_), [self = shared_from_this(), dropped](beast::error_code ec,
                                                                                         std::size_t n) {
      if (ec == beast::error::timeout) return;  // the socket is closed
      if (ec) return self->shutdown();
      self->drain(dropped + n);
    });
  }

  void shutdown() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
  }

  TlsStream stream_;
  HttpApi& api_;
  SignalingHub& hub_;
  std::size_t max_message_bytes_;
  std::string peer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::size_t body_limit_ = kMaxRequestBodyBytes;
  std::vector<char> scratch_;  // drain()'s
};

}  // namespace

HttpsServer::HttpsServer(net::io_context& io, ssl::context& tls, HttpsServerOptions options, HttpApi& api,
                         SignalingHub& hub)
    : io_(io), tls_(tls), options_(std::move(options)), api_(api), hub_(hub), acceptor_(io) {
  beast::error_code ec;
  auto address = net::ip::make_address(options_.address, ec);
  if (ec) throw std::runtime_error(fmt::format("listen address {} is not an IP address", options_.address));
  tcp::endpoint endpoint(address, options_.port);
  auto fail = [&](const char* what) {
    throw std::runtime_error(fmt::format("cannot {} {}:{}: {}", what, options_.address, options_.port, ec.message()));
  };
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) fail("open a socket for");
  acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  acceptor_.bind(endpoint, ec);
  if (ec) fail("listen on");
  acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) fail("listen on");
}

HttpsServer::~HttpsServer() = default;

std::uint16_t HttpsServer::port() const {
  beast::error_code ec;
  return acceptor_.local_endpoint(ec).port();
}

void HttpsServer::start() { accept(); }

void HttpsServer::stop() {
  beast::error_code ec;
  acceptor_.close(ec);
}

void HttpsServer::accept() {
  acceptor_.async_accept(io_, [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec)
      std::make_shared<HttpSession>(std::move(socket), tls_, api_, hub_, options_.max_message_bytes)->run();
    accept();
  });
}

}  // namespace huijian::signaling
