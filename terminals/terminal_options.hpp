#pragma once
// Command-line options of huijian-terminal, parsed and checked in one place so
// that the rest of the terminal can trust them.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace huijian::terminals {

// Thrown when the command line is wrong; the message says what to change.
class OptionsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Role { lawyer, detainee };

enum class SourceKind { test, camera, file };

struct TerminalOptions {
  Role role = Role::lawyer;
  std::string server;          // wss://host:port/path
  std::string ca_file;         // PEM CA the server certificate must chain to
  bool insecure = false;       // skip server certificate verification
  std::string device;
  std::string secret;
  std::string name;            // overlay name; empty = the name from welcome
  SourceKind source = SourceKind::test;
  std::string source_file;     // for SourceKind::file
  std::string camera_device;   // for SourceKind::camera; empty = v4l2src default
  int width = 1920;
  int height = 1080;
  int fps = 30;
  int bitrate_kbps = 4000;
  bool headless = false;
  std::string report_file;
  std::optional<double> auto_ready_s;   // detainee: press ready after N s
  bool auto_connect = false;            // lawyer: press connect on peer_ready
  std::optional<double> duration_s;     // end the meeting N s after connected
  std::optional<double> exit_after_s;   // hard bound on the process lifetime
  std::optional<double> self_test_s;    // run the sending pipeline only
  std::string log_level = "info";
  // Local addresses ICE may gather on. Empty = all interfaces, except that a
  // loopback server (127.x, ::1, localhost) means 127.0.0.1 only.
  std::vector<std::string> ice_addresses;

  bool is_lawyer() const noexcept { return role == Role::lawyer; }
};

// Parsed parts of a wss:// URL.
struct ServerUrl {
  std::string host;
  std::string port;
  std::string target;  // path with leading '/'
};

// Splits "wss://host[:port][/path]"; throws OptionsError for anything else.
ServerUrl parse_server_url(const std::string& url);

std::string to_string(Role role);

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

// Parses argv. Returns std::nullopt when --help was asked (help text printed
// to stdout). Throws OptionsError with a user-facing message on bad input.
std::optional<TerminalOptions> parse_terminal_options(int argc, const char* const* argv);

// Same, from a vector of arguments without the program name (for tests).
std::optional<TerminalOptions> parse_terminal_options(const std::vector<std::string>& args);

}  // namespace huijian::terminals
