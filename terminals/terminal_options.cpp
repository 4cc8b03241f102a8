#include "terminals/terminal_options.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>

namespace huijian::terminals {

namespace {

constexpr double kDefaultHeadlessExitAfterS = 120.0;

void check_positive(const char* what, double v) {
  if (!(v > 0.0) || v > 24.0 * 3600.0)
    throw OptionsError(std::string(what) + " must be between 0 and 86400 seconds");
}

}  // namespace

std::string to_string(Role role) { return role == Role::lawyer ? "lawyer" : "detainee"; }

ServerUrl parse_server_url(const std::string& url) {
  constexpr std::string_view scheme = "wss://";
  if (url.rfind(scheme, 0) != 0)
    throw OptionsError("--server must start with wss:// (got '" + url + "')");
  std::string rest = url.substr(scheme.size());
  ServerUrl out;
  auto slash = rest.find('/');
  std::string authority = slash == std::string::npos ? rest : rest.substr(0, slash);
  out.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (authority.empty()) throw OptionsError("--server has no host: '" + url + "'");
  if (authority.front() == '[') {  // [v6]:port
    auto close = authority.find(']');
    if (close == std::string::npos) throw OptionsError("--server has an unclosed '[': '" + url + "'");
    out.host = authority.substr(1, close - 1);
    std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw OptionsError("--server: junk after ']': '" + url + "'");
      out.port = after.substr(1);
    }
  } else {
    auto colon = authority.rfind(':');
    if (colon != std::string::npos) {
      out.host = authority.substr(0, colon);
      out.port = authority.substr(colon + 1);
    } else {
      out.host = authority;
    }
  }
  if (out.host.empty()) throw OptionsError("--server has no host: '" + url + "'");
  if (out.port.empty()) out.port = "443";
  if (out.port.size() > 5 || !std::all_of(out.port.begin(), out.port.end(), ::isdigit) ||
      std::stoi(out.port) < 1 || std::stoi(out.port) > 65535)
    throw OptionsError("--server has a bad port '" + out.port + "'");
  return out;
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::optional<TerminalOptions> parse_terminal_options(const std::vector<std::string>& args) {
  TerminalOptions o;
  CLI::App app{"huijian-terminal: native meeting terminal (GStreamer webrtcbin)", "huijian-terminal"};
  std::string role;
  std::string source = "test";
  double auto_ready = -1, duration = -1, exit_after = -1, self_test = -1;

  app.add_option("--role", role, "lawyer or detainee (required)");
  app.add_option("--server", o.server, "signaling URL, e.g. wss://127.0.0.1:8443/ws (required)");
  app.add_option("--ca", o.ca_file, "PEM file with the CA (or the self-signed cert) of the server");
  app.add_flag("--insecure", o.insecure, "do not verify the server certificate (testing only)");
  app.add_option("--device", o.device, "device id, e.g. lawyer-1 (required)");
  app.add_option("--secret", o.secret, "device secret (required)");
  app.add_option("--name", o.name, "device name drawn on the picture (default: from the server)");
  app.add_option("--source", source, "test | camera[:/dev/videoN] | file:PATH (pre-encoded H.264 .mkv)");
  app.add_option("--width", o.width, "video width")->check(CLI::Range(160, 3840));
  app.add_option("--height", o.height, "video height")->check(CLI::Range(120, 2160));
  app.add_option("--fps", o.fps, "frames per second")->check(CLI::Range(1, 60));
  app.add_option("--bitrate-kbps", o.bitrate_kbps, "video bitrate")->check(CLI::Range(100, 20000));
  app.add_flag("--headless", o.headless, "no window; decoded media goes to fakesink");
  app.add_option("--report", o.report_file, "write a JSON report to FILE at exit");
  app.add_option("--auto-ready", auto_ready, "detainee: press ready after N seconds");
  app.add_flag("--auto-connect", o.auto_connect, "lawyer: press connect when the peer is ready");
  app.add_option("--duration", duration, "end the meeting N seconds after it connected");
  app.add_option("--exit-after", exit_after, "exit after N seconds no matter what (default 120 headless)");
  app.add_option("--self-test", self_test, "run only the sending pipeline for N seconds and print frames/s");
  app.add_option("--ice-address", o.ice_addresses,
                 "local address for ICE candidates (repeatable; default: 127.0.0.1 for a loopback server, "
                 "else all interfaces)");
  app.add_option("--log-level", o.log_level, "trace|debug|info|warn|error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    throw OptionsError(std::string(e.what()) + " (run with --help for usage)");
  }

  if (self_test >= 0) {
    check_positive("--self-test", self_test);
    o.self_test_s = self_test;
    // The self-test only runs the local pipeline: fill what it does not need.
    if (role.empty()) role = "lawyer";
    if (o.device.empty()) o.device = "self-test";
  }
  if (role.empty()) throw OptionsError("--role lawyer|detainee is required (run with --help for usage)");
  if (role == "lawyer") {
    o.role = Role::lawyer;
  } else if (role == "detainee") {
    o.role = Role::detainee;
  } else {
    throw OptionsError("--role must be 'lawyer' or 'detainee' (got '" + role + "')");
  }

  if (source == "test") {
    o.source = SourceKind::test;
  } else if (source == "camera" || source.rfind("camera:", 0) == 0) {
    o.source = SourceKind::camera;
    if (source.size() > 7) o.camera_device = source.substr(7);
  } else if (source.rfind("file:", 0) == 0 && source.size() > 5) {
    o.source = SourceKind::file;
    o.source_file = source.substr(5);
  } else {
    throw OptionsError("--source must be test, camera[:DEVICE] or file:PATH (got '" + source + "')");
  }

  if (o.device.empty() || o.device.size() > 128) throw OptionsError("--device must be 1..128 characters");
  if (!o.self_test_s) {
    if (o.server.empty()) throw OptionsError("--server is required, e.g. --server wss://127.0.0.1:8443/ws");
    auto url = parse_server_url(o.server);  // validates
    if (o.ice_addresses.empty() && is_loopback_host(url.host)) o.ice_addresses.push_back("127.0.0.1");
    if (o.ca_file.empty() && !o.insecure)
      throw OptionsError("--ca FILE is required to verify the server (or --insecure for tests only)");
    if (o.secret.empty()) throw OptionsError("--secret is required");
  }
  if (o.name.size() > 128) throw OptionsError("--name must be at most 128 bytes");

  if (auto_ready >= 0) {
    if (o.role != Role::detainee) throw OptionsError("--auto-ready is for --role detainee");
    if (auto_ready > 24.0 * 3600.0) throw OptionsError("--auto-ready must be at most 86400 seconds");
    o.auto_ready_s = auto_ready;
  }
  for (const auto& a : o.ice_addresses) {
    if (a.empty() || a.size() > 64 || a.find_first_not_of("0123456789abcdefABCDEF.:") != std::string::npos)
      throw OptionsError("--ice-address must be an IPv4 or IPv6 address (got '" + a + "')");
  }
  if (o.auto_connect && o.role != Role::lawyer) throw OptionsError("--auto-connect is for --role lawyer");
  if (duration >= 0) {
    check_positive("--duration", duration);
    o.duration_s = duration;
  }
  if (exit_after >= 0) {
    check_positive("--exit-after", exit_after);
    o.exit_after_s = exit_after;
  } else if (o.headless) {
    o.exit_after_s = kDefaultHeadlessExitAfterS;
  }
  return o;
}

std::optional<TerminalOptions> parse_terminal_options(int argc, const char* const* argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return parse_terminal_options(args);
}

}  // namespace huijian::terminals
