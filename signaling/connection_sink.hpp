#pragma once
// The hub's view of one terminal connection: send a text message, close.
// Implemented by the WebSocket session; tests use a recorder.

#include <cstdint>
#include <string>

namespace huijian::signaling {

class ConnectionSink {
 public:
  virtual ~ConnectionSink() = default;
  // Queues one text message. Must not call back into the hub.
  virtual void send_text(std::string text) = 0;
  // Closes after the queued messages with a WebSocket close code (1000 normal,
  // 1008 policy violation, 1009 too big). Must not call back into the hub.
  virtual void close(std::uint16_t code, std::string reason) = 0;
  // The remote address ("127.0.0.1:50312") for the audit trail; empty when unknown.
  virtual std::string peer() const { return {}; }
};

}  // namespace huijian::signaling
