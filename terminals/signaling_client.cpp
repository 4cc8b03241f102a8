#include "terminals/signaling_client.hpp"

#include "terminals/signaling_messages.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <thread>

namespace huijian::terminals {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;

namespace {
constexpr auto kConnectTimeout = std::chrono::seconds(10);
constexpr std::size_t kMaxQueuedMessages = 1024;
}  // namespace

class SignalingClient::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(ServerUrl url, const TlsSettings& tls, SignalingClientListener& listener)
      : url_(std::move(url)), listener_(listener), ssl_ctx_(ssl::context::tls_client), resolver_(io_) {
    ssl_ctx_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    if (tls.insecure) {
      ssl_ctx_.set_verify_mode(ssl::verify_none);
    } else {
      boost::system::error_code ec;
      ssl_ctx_.load_verify_file(tls.ca_file, ec);
      if (ec)
        throw SignalingError("cannot load CA file '" + tls.ca_file + "': " + ec.message() +
                             " (give the server's tls/cert.pem with --ca)");
      ssl_ctx_.set_verify_mode(ssl::verify_peer);
    }
    insecure_ = tls.insecure;
    ws_ = std::make_unique<Ws>(io_, ssl_ctx_);
  }

  void start() {
    auto self = shared_from_this();
    asio::post(io_, [self] { self->resolve(); });
    thread_ = std::thread([self] {
      try {
        self->io_.run();
      } catch (const std::exception& e) {
        spdlog::get("signaling") ? spdlog::get("signaling")->error("network thread: {}", e.what())
                                 : spdlog::error("network thread: {}", e.what());
        self->fail(std::string("network thread failed: ") + e.what());
      }
    });
  }

  void send(std::string text) {
    auto self = shared_from_this();
    asio::post(io_, [self, text = std::move(text)]() mutable {
      if (self->closed_ || self->closing_) return;
      if (self->queue_.size() >= kMaxQueuedMessages) {
        self->fail("too many messages queued for the server");
        return;
      }
      self->queue_.push_back(std::move(text));
      if (self->open_ && !self->writing_) self->write_next();
    });
  }

  void close() {
    auto self = shared_from_this();
    asio::post(io_, [self] { self->start_close(); });
  }

  void stop_and_join() {
    if (thread_.joinable()) {
      close();
      // Give the polite close a bounded moment, then stop the loop.
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      while (!closed_ && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      io_.stop();
      thread_.join();
    }
  }

 private:
  using Ws = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

  void resolve() {
    auto self = shared_from_this();
    resolver_.async_resolve(url_.host, url_.port,
                            [self](beast::error_code ec, tcp::resolver::results_type results) {
                              if (ec) return self->fail("cannot resolve " + self->url_.host + ": " + ec.message());
                              self->connect(results);
                            });
  }

  void connect(const tcp::resolver::results_type& results) {
    auto self = shared_from_this();
    beast::get_lowest_layer(*ws_).expires_after(kConnectTimeout);
    beast::get_lowest_layer(*ws_).async_connect(
        results, [self](beast::error_code ec, const tcp::endpoint&) {
          if (ec)
            return self->fail("cannot connect to " + self->url_.host + ":" + self->url_.port + ": " + ec.message() +
                              " (is huijiand running?)");
          self->tls_handshake();
        });
  }

  void tls_handshake() {
    auto& stream = ws_->next_layer();
    // SNI only for names; the certificate must name the host (DNS or IP SAN).
    boost::system::error_code addr_ec;
    asio::ip::make_address(url_.host, addr_ec);
    if (addr_ec && !SSL_set_tlsext_host_name(stream.native_handle(), url_.host.c_str()))
      return fail("cannot set TLS server name");
    if (!insecure_) stream.set_verify_callback(ssl::host_name_verification(url_.host));
    auto self = shared_from_this();
    beast::get_lowest_layer(*ws_).expires_after(kConnectTimeout);
    stream.async_handshake(ssl::stream_base::client, [self](beast::error_code ec) {
      if (ec)
        return self->fail("TLS handshake with the server failed: " + ec.message() +
                          " (does --ca hold the server's certificate, and does it name " + self->url_.host + "?)");
      self->ws_handshake();
    });
  }

  void ws_handshake() {
    beast::get_lowest_layer(*ws_).expires_never();
    ws_->set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    ws_->read_message_max(kMaxSignalingMessageBytes);
    ws_->set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
      req.set(beast::http::field::user_agent, "huijian-terminal");
    }));
    auto self = shared_from_this();
    std::string host = url_.host + ":" + url_.port;
    ws_->async_handshake(host, url_.target, [self](beast::error_code ec) {
      if (ec) return self->fail("WebSocket handshake failed: " + ec.message() + " (check the --server path)");
      self->open_ = true;
      self->ws_->text(true);
      self->listener_.on_signaling_open();
      if (!self->queue_.empty() && !self->writing_) self->write_next();
      self->read_next();
    });
  }

  void read_next() {
    auto self = shared_from_this();
    ws_->async_read(buffer_, [self](beast::error_code ec, std::size_t) {
      if (ec) {
        if (ec == websocket::error::closed) {
          auto reason = self->ws_->reason();
          return self->finish(reason.reason.empty() ? std::string("server closed the connection")
                                                    : "server closed the connection: " +
                                                          std::string(reason.reason.c_str()));
        }
        if (ec == websocket::error::message_too_big) return self->fail("server sent a message larger than 64 KiB");
        return self->fail(self->closing_ ? "closed" : "connection to the server lost: " + ec.message());
      }
      if (!self->ws_->got_text()) {
        self->buffer_.consume(self->buffer_.size());
        return self->fail("server sent a binary frame; only JSON text is allowed");
      }
      std::string text = beast::buffers_to_string(self->buffer_.data());
      self->buffer_.consume(self->buffer_.size());
      self->listener_.on_signaling_message(std::move(text));
      if (!self->closed_) self->read_next();
    });
  }

  void write_next() {
    if (queue_.empty() || closed_) return;
    writing_ = true;
    auto self = shared_from_this();
    ws_->async_write(asio::buffer(queue_.front()), [self](beast::error_code ec, std::size_t) {
      self->writing_ = false;
      if (ec) return self->fail("cannot send to the server: " + ec.message());
      self->queue_.pop_front();
      if (self->closing_ && self->queue_.empty()) return self->do_close();
      self->write_next();
    });
  }

  void start_close() {
    if (closed_ || closing_) return;
    closing_ = true;
    if (!open_) {
      beast::error_code ignored;
      resolver_.cancel();
      beast::get_lowest_layer(*ws_).socket().close(ignored);
      return finish("closed");
    }
    if (!writing_) do_close();
  }

  void do_close() {
    auto self = shared_from_this();
    beast::get_lowest_layer(*ws_).expires_after(std::chrono::seconds(2));
    ws_->async_close(websocket::close_code::normal, [self](beast::error_code) {
      beast::error_code ignored;
      beast::get_lowest_layer(*self->ws_).socket().close(ignored);
      self->finish("closed");
    });
  }

  void fail(std::string reason) {
    beast::error_code ignored;
    beast::get_lowest_layer(*ws_).socket().close(ignored);
    finish(std::move(reason));
  }

  void finish(std::string reason) {
    if (closed_.exchange(true)) return;
    open_ = false;
    queue_.clear();
    listener_.on_signaling_closed(std::move(reason));
  }

  ServerUrl url_;
  SignalingClientListener& listener_;
  asio::io_context io_;
  ssl::context ssl_ctx_;
  tcp::resolver resolver_;
  std::unique_ptr<Ws> ws_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  bool insecure_ = false;
  bool open_ = false;
  bool writing_ = false;
  bool closing_ = false;
  std::atomic<bool> closed_{false};
  std::thread thread_;
};

SignalingClient::SignalingClient(ServerUrl url, const TlsSettings& tls, SignalingClientListener& listener)
    : impl_(std::make_shared<Impl>(std::move(url), tls, listener)) {}

SignalingClient::~SignalingClient() { impl_->stop_and_join(); }

void SignalingClient::start() { impl_->start(); }
void SignalingClient::send(std::string text) { impl_->send(std::move(text)); }
void SignalingClient::close() { impl_->close(); }

}  // namespace huijian::terminals
