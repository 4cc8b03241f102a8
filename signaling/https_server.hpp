#pragma once
// HTTPS and WSS on one port (Boost.Beast over Asio, one io_context thread).
// HTTP requests go to HttpApi; a WebSocket upgrade on /ws becomes a terminal
// connection of the SignalingHub.

#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "signaling/http_api.hpp"
#include "signaling/signaling_hub.hpp"

namespace huijian::signaling {

struct HttpsServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8443;
  std::size_t max_message_bytes = 65536;
};

class HttpsServer {
 public:
  // Binds and listens; throws std::runtime_error naming the address on failure.
  HttpsServer(boost::asio::io_context& io, boost::asio::ssl::context& tls, HttpsServerOptions options,
              HttpApi& api, SignalingHub& hub);
  ~HttpsServer();

  void start();
  // Stops accepting new connections.
  void stop();
  // The bound port (useful with port 0).
  std::uint16_t port() const;

 private:
  void accept();

  boost::asio::io_context& io_;
  boost::asio::ssl::context& tls_;
  HttpsServerOptions options_;
  HttpApi& api_;
  SignalingHub& hub_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace huijian::signaling
