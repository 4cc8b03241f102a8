#pragma once
// WebSocket-over-TLS client for huijiand's signaling, on an Asio thread of its
// own. The listener is called on that network thread; the owner marshals the
// calls to wherever it runs its logic (the terminal uses the GLib main loop).

#include "terminals/terminal_options.hpp"

#include <memory>
#include <stdexcept>
#include <string>

namespace huijian::terminals {

class SignalingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class SignalingClientListener {
 public:
  virtual ~SignalingClientListener() = default;
  virtual void on_signaling_open() = 0;
  virtual void on_signaling_message(std::string text) = 0;
  // Called once: the connection failed or closed (`reason` says why, for a user).
  virtual void on_signaling_closed(std::string reason) = 0;
};

struct TlsSettings {
  std::string ca_file;    // PEM; the server certificate must chain to it
  bool insecure = false;  // no verification at all (tests only)
};

class SignalingClient {
 public:
  // Throws SignalingError when the CA file cannot be loaded.
  SignalingClient(ServerUrl url, const TlsSettings& tls, SignalingClientListener& listener);
  ~SignalingClient();  // closes and joins the network thread
  SignalingClient(const SignalingClient&) = delete;
  SignalingClient& operator=(const SignalingClient&) = delete;

  void start();                  // starts the thread and connects
  void send(std::string text);   // thread-safe; queued until open, dropped after close
  void close();                  // thread-safe; polite close, then on_signaling_closed

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace huijian::terminals
