#pragma once
// Typed errors of the control plane. They are thrown by setup and control-plane
// code and turned into JSON error replies (ProtocolError) or a clear message at
// start-up (ConfigError, StoreError) at the boundary.

#include <stdexcept>
#include <string>

namespace huijian::signaling {

// A configuration file or value that cannot be used; what() names the key and line.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The store (database) failed; what() names the operation.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A client message that is refused. code() is the machine-readable error code
// of docs/protocol.md ("bad_json", "bad_state", ...); what() is for humans.
class ProtocolError : public std::runtime_error {
 public:
  ProtocolError(std::string code, const std::string& message)
      : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

}  // namespace huijian::signaling
