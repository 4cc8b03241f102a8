// huijian-loadgen: synthetic lawyer/detainee terminals for benchmarks
// (docs/performance.md). Loopback only; every run is bounded by its meeting
// count and duration and stops by itself.
#include <CLI/CLI.hpp>
#include <gst/gst.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>

#include "terminals/loadgen/clip_packets.hpp"
#include "terminals/loadgen/direct_adapter.hpp"
#include "terminals/loadgen/huijian_adapter.hpp"
#include "terminals/loadgen/janus_adapter.hpp"
#include "terminals/loadgen/load_session.hpp"
#include "terminals/terminal_options.hpp"

namespace {

constexpr std::size_t kMaxMeetings = 500;
constexpr int kMaxDurationSeconds = 3600;

}  // namespace

int main(int argc, char** argv) {
  using namespace huijian::terminals;
  using namespace huijian::terminals::loadgen;

  CLI::App app{"huijian-loadgen: synthetic 1080p meetings through huijiand or Janus, on loopback"};
  app.require_subcommand(1);

  std::size_t meetings = 1;
  std::string secret;
  auto* devices = app.add_subcommand("devices", "print huijiand.toml [[device]]/[[meeting]] tables for N meetings");
  devices->add_option("--meetings", meetings, "number of meetings")->check(CLI::Range(std::size_t{1}, kMaxMeetings));
  devices->add_option("--secret", secret, "device secrets are <secret>-<device id>")->required();

  std::string server = "huijiand", url, ca_file, clip_file, log_level = "warn", janus_record_dir;
  bool insecure = false;
  int duration = 10, warmup = 2, setup_timeout = 0, server_pid = 0, server_cpu = -1;
  std::uint32_t pace_kbps = 10000;
  auto* run = app.add_subcommand("run", "run N meetings for a while and print a JSON report on stdout");
  run->add_option("--server", server,
                  "huijiand, janus, or direct (no server: each meeting's terminals connect to each other; the baseline)")
      ->check(CLI::IsMember({"huijiand", "janus", "direct"}));
  run->add_option("--url", url,
                  "wss://127.0.0.1:PORT/ws (huijiand) or http://127.0.0.1:PORT/janus (Janus HTTP API)");
  run->add_option("--ca", ca_file, "huijiand: PEM of its TLS certificate (data_dir/tls/cert.pem)");
  run->add_flag("--insecure", insecure, "huijiand: do not verify its TLS certificate");
  run->add_option("--secret", secret, "huijiand: device secrets are <secret>-<device id> (see 'devices')");
  run->add_option("--meetings", meetings, "meetings at once")->check(CLI::Range(std::size_t{1}, kMaxMeetings));
  run->add_option("--duration", duration, "seconds measured")->check(CLI::Range(1, kMaxDurationSeconds));
  run->add_option("--warmup", warmup, "seconds between all media flowing and the measurement")->check(CLI::Range(0, 60));
  run->add_option("--setup-timeout", setup_timeout, "seconds for setting up all meetings (default 20 + 0.5 per meeting)")
      ->check(CLI::Range(0, 600));
  run->add_option("--clip", clip_file, "1080p30 H.264 Matroska clip (scripts/make-test-clip)")->required();
  run->add_option("--pace-kbps", pace_kbps, "packets of a frame leave no faster than this")
      ->check(CLI::Range(500u, 1000000u));
  run->add_option("--janus-record-dir", janus_record_dir,
                  "janus: record every call (videocall record: true) into this folder");
  run->add_option("--server-pid", server_pid, "measure this process's CPU and RSS during the window");
  run->add_option("--server-cpu", server_cpu, "the CPU the server is pinned to (its softirq time is counted)")
      ->check(CLI::Range(-1, 1023));
  run->add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (devices->parsed()) {
    std::cout << huijian_devices_toml(meetings, secret);
    return 0;
  }

  spdlog::set_default_logger(spdlog::stderr_color_mt("loadgen"));
  spdlog::set_level(spdlog::level::from_str(log_level));
  auto fail = [&](const std::string& message, int code) {
    std::cerr << "huijian-loadgen: " << message << "\n";
    std::cout << nlohmann::json{{"server", server}, {"meetings", meetings}, {"error", message}}.dump() << std::endl;
    return code;
  };

  std::unique_ptr<ServerAdapter> adapter;
  try {
    if (server == "direct") {
      adapter = std::make_unique<DirectAdapter>();
    } else if (url.empty()) {
      return fail("--url is required for " + server, 2);
    } else if (server == "huijiand") {
      ServerUrl parsed = parse_server_url(url);
      if (!is_loopback_host(parsed.host)) return fail("--url must name a loopback host (127.0.0.1, ::1, localhost)", 2);
      if (ca_file.empty() && !insecure) return fail("huijiand needs --ca FILE (or --insecure)", 2);
      if (secret.empty()) return fail("huijiand needs --secret (the one given to 'devices')", 2);
      adapter = std::make_unique<HuijianAdapter>(parsed, TlsSettings{ca_file, insecure}, secret);
    } else {
      adapter = std::make_unique<JanusAdapter>(parse_janus_url(url), janus_record_dir);
    }
  } catch (const std::exception& e) {
    return fail(e.what(), 2);
  }

  gst_init(nullptr, nullptr);
  Clip clip;
  try {
    clip = load_clip(clip_file);
  } catch (const ClipError& e) {
    return fail(e.what(), 1);
  }
  spdlog::info("[loadgen] clip: {} video packets in {} frames ({:.0f} kbit/s), {} Opus packets",
               clip.video.packets.size(), clip.video.frames.size(), clip.video.bitrate_kbps(),
               clip.audio.packets.size());

  LoadOptions options;
  options.meetings = meetings;
  options.duration = std::chrono::seconds(duration);
  options.warmup = std::chrono::seconds(warmup);
  options.setup_timeout = std::chrono::seconds(setup_timeout);
  options.pace_kbps = pace_kbps;
  options.server_pid = server_pid;
  options.server_cpu = server_cpu;
  try {
    auto report = run_load(clip, *adapter, options);
    std::cout << report.dump() << std::endl;
    return 0;
  } catch (const std::exception& e) {
    return fail(e.what(), 1);
  }
}
