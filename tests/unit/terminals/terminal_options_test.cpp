#include "terminals/terminal_options.hpp"

#include <catch2/catch.hpp>

using namespace huijian::terminals;

namespace {
std::vector<std::string> base(std::initializer_list<std::string> extra = {}) {
  std::vector<std::string> a{"--role", "lawyer", "--server", "wss://127.0.0.1:8443/ws", "--ca", "/tmp/ca.pem",
                             "--device", "lawyer-1", "--secret", "s3cret"};
  a.insert(a.end(), extra);
  return a;
}
}  // namespace

TEST_CASE("TerminalOptions: the minimal lawyer command line gives the documented defaults") {
  auto o = parse_terminal_options(base());
  REQUIRE(o);
  CHECK(o->role == Role::lawyer);
  CHECK(o->device == "lawyer-1");
  CHECK(o->ca_file == "/tmp/ca.pem");
  CHECK(o->source == SourceKind::test);
  CHECK(o->width == 1920);
  CHECK(o->height == 1080);
  CHECK(o->fps == 30);
  CHECK(o->bitrate_kbps == 4000);
  CHECK_FALSE(o->headless);
  CHECK_FALSE(o->exit_after_s);  // a window stays until the user ends it
  CHECK_FALSE(o->auto_connect);
}

TEST_CASE("TerminalOptions: headless runs are bounded to 120 s unless told otherwise") {
  auto o = parse_terminal_options(base({"--headless"}));
  REQUIRE(o->exit_after_s);
  CHECK(*o->exit_after_s == Approx(120.0));
  auto o2 = parse_terminal_options(base({"--headless", "--exit-after", "30"}));
  CHECK(*o2->exit_after_s == Approx(30.0));
}

TEST_CASE("TerminalOptions: detainee automation and file source are parsed") {
  std::vector<std::string> a{"--role", "detainee", "--server", "wss://127.0.0.1:9443/ws", "--insecure",
                             "--device", "det-1", "--secret", "x", "--source", "file:/tmp/clip.mkv",
                             "--auto-ready", "2.5", "--duration", "10", "--report", "/tmp/r.json"};
  auto o = parse_terminal_options(a);
  REQUIRE(o);
  CHECK(o->role == Role::detainee);
  CHECK(o->insecure);
  CHECK(o->source == SourceKind::file);
  CHECK(o->source_file == "/tmp/clip.mkv");
  REQUIRE(o->auto_ready_s);
  CHECK(*o->auto_ready_s == Approx(2.5));
  REQUIRE(o->duration_s);
  CHECK(*o->duration_s == Approx(10.0));
  CHECK(o->report_file == "/tmp/r.json");
}

TEST_CASE("TerminalOptions: camera source may name a device") {
  CHECK(parse_terminal_options(base({"--source", "camera"}))->camera_device.empty());
  auto o = parse_terminal_options(base({"--source", "camera:/dev/video2"}));
  CHECK(o->source == SourceKind::camera);
  CHECK(o->camera_device == "/dev/video2");
}

TEST_CASE("TerminalOptions: rejects what a user must fix, with a message naming the option") {
  auto rejects = [](std::vector<std::string> a, const std::string& needle) {
    try {
      parse_terminal_options(a);
      FAIL("accepted: " << needle);
    } catch (const OptionsError& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).find(needle) != std::string::npos);
    }
  };
  rejects({"--role", "judge", "--server", "wss://h/ws", "--insecure", "--device", "d", "--secret", "s"}, "--role");
  rejects({"--role", "lawyer", "--server", "wss://h/ws", "--device", "d", "--secret", "s"}, "--ca");
  rejects({"--role", "lawyer", "--server", "https://h/ws", "--insecure", "--device", "d", "--secret", "s"}, "wss://");
  rejects({"--role", "lawyer", "--server", "wss://h:99999/ws", "--insecure", "--device", "d", "--secret", "s"}, "port");
  rejects({"--role", "lawyer", "--server", "wss://h/ws", "--insecure", "--device", "d"}, "--secret");
  rejects(base({"--source", "webcam"}), "--source");
  rejects(base({"--auto-ready", "3"}), "--auto-ready");  // lawyer cannot press ready
  rejects(base({"--duration", "0"}), "--duration");
  rejects(base({"--width", "10"}), "width");
  rejects(base({"--bogus"}), "help");
}

TEST_CASE("TerminalOptions: --help returns no options instead of throwing") {
  CHECK_FALSE(parse_terminal_options(std::vector<std::string>{"--help"}));
}

TEST_CASE("TerminalOptions: --self-test needs no server") {
  auto o = parse_terminal_options(std::vector<std::string>{"--self-test", "3", "--headless"});
  REQUIRE(o);
  REQUIRE(o->self_test_s);
  CHECK(*o->self_test_s == Approx(3.0));
}

TEST_CASE("ServerUrl: splits host, port and path") {
  auto u = parse_server_url("wss://127.0.0.1:8443/ws");
  CHECK(u.host == "127.0.0.1");
  CHECK(u.port == "8443");
  CHECK(u.target == "/ws");
  auto d = parse_server_url("wss://localhost");
  CHECK(d.port == "443");
  CHECK(d.target == "/");
  auto v6 = parse_server_url("wss://[::1]:9000/ws?x=1");
  CHECK(v6.host == "::1");
  CHECK(v6.port == "9000");
  CHECK(v6.target == "/ws?x=1");
  CHECK_THROWS_AS(parse_server_url("wss://:80/ws"), OptionsError);
  CHECK_THROWS_AS(parse_server_url("wss://[::1/ws"), OptionsError);
  CHECK_THROWS_AS(parse_server_url("ws://127.0.0.1/ws"), OptionsError);
}

TEST_CASE("TerminalOptions: a loopback server keeps ICE on 127.0.0.1, another server uses all interfaces unless told") {
  CHECK(parse_terminal_options(base())->ice_addresses == std::vector<std::string>{"127.0.0.1"});
  std::vector<std::string> remote{"--role", "lawyer", "--server", "wss://meet.example.org/ws", "--insecure",
                                  "--device", "d", "--secret", "s"};
  CHECK(parse_terminal_options(remote)->ice_addresses.empty());
  remote.insert(remote.end(), {"--ice-address", "203.0.113.5", "--ice-address", "2001:db8::5"});
  CHECK(parse_terminal_options(remote)->ice_addresses == std::vector<std::string>{"203.0.113.5", "2001:db8::5"});
  CHECK_THROWS_AS(parse_terminal_options(base({"--ice-address", "eth0; rm"})), OptionsError);
  CHECK(is_loopback_host("127.0.0.1"));
  CHECK(is_loopback_host("localhost"));
  CHECK(is_loopback_host("::1"));
  CHECK_FALSE(is_loopback_host("198.51.100.1"));
}
