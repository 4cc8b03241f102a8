// huijiand: the huijian control plane (HTTPS + WSS, meetings, store) and the
// media relay in one process.

#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "media/certificate.hpp"
#include "recorder/composite_exporter.hpp"
#include "signaling/archive_index.hpp"
#include "signaling/access_control.hpp"
#include "signaling/asio_timer_service.hpp"
#include "signaling/audit_trail.hpp"
#include "signaling/client_message.hpp"
#include "signaling/password_hash.hpp"
#include "signaling/sqlite_supervision_repository.hpp"
#include "media/relay.hpp"
#include "signaling/component_logger.hpp"
#include "signaling/config.hpp"
#include "signaling/errors.hpp"
#include "signaling/http_api.hpp"
#include "signaling/https_server.hpp"
#include "signaling/meeting_recorder.hpp"
#include "recorder/recorder.hpp"
#include "signaling/relay_media_port.hpp"
#include "signaling/signaling_hub.hpp"
#include "signaling/sqlite_meeting_repository.hpp"
#include "signaling/sqlite_archive_repository.hpp"
#include "signaling/tls_identity.hpp"

#ifndef HUIJIAN_WEB_ROOT
#define HUIJIAN_WEB_ROOT "web"
#endif

namespace net = boost::asio;
namespace hs = huijian::signaling;

int main(int argc, char** argv) {
  CLI::App app{"huijiand - huijian meeting server (HTTPS + WSS control plane and media relay)"};
  std::string config_file, listen, data_dir, log_level = "info";
  app.add_option("-c,--config", config_file, "TOML configuration file (see docs/configuration.md)")
      ->check(CLI::ExistingFile);
  app.add_option("--listen", listen, "override server.listen, e.g. 127.0.0.1:8443 (port 0 = any free port)");
  app.add_option("--data-dir", data_dir, "override server.data_dir");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  std::string record = "on";
  app.add_option("--record", record,
                 "on (the default): every connected meeting's pictures are archived; off: nothing is recorded, "
                 "for benchmarks of the relay alone, never in service")
      ->check(CLI::IsMember({"on", "off"}));
  bool hash_password = false;
  app.add_flag("--hash-password", hash_password,
               "read a password from stdin and print its password_hash for an [[officer]] table, then exit");
  CLI11_PARSE(app, argc, argv);

  if (hash_password) {
    std::string password;
    if (!std::getline(std::cin, password)) {
      std::fprintf(stderr, "huijiand --hash-password: no password on stdin\n");
      return 2;
    }
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (hs::utf8_length(password) < hs::kMinPasswordChars || password.size() > hs::kMaxPasswordBytes) {
      std::fprintf(stderr, "huijiand --hash-password: a password must be %zu to %zu characters long\n",
                   hs::kMinPasswordChars, hs::kMaxPasswordBytes);
      return 2;
    }
    std::printf("%s\n", hs::PasswordHash::create(password).c_str());
    return 0;
  }

  auto stderr_logger = spdlog::stderr_color_mt("huijiand");
  spdlog::set_default_logger(stderr_logger);
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ [%n] %v");
  auto log = hs::component_logger("main");

  try {
    hs::Config config = config_file.empty() ? hs::default_config(std::filesystem::current_path())
                                            : hs::load_config(config_file);
    if (!listen.empty()) hs::parse_listen(listen, config.listen_address, config.listen_port);
    if (!data_dir.empty()) config.data_dir = std::filesystem::absolute(data_dir).lexically_normal();
    if (config.web_root.empty()) config.web_root = HUIJIAN_WEB_ROOT;

    std::error_code ec;
    std::filesystem::create_directories(config.data_dir, ec);
    if (ec) throw hs::ConfigError("cannot create the data directory " + config.data_dir.string() + ": " + ec.message());
    ::chmod(config.data_dir.c_str(), 0700);

    auto tls_identity = hs::load_or_create_tls_identity(config.data_dir / "tls");
    log->info("TLS certificate SHA-256 fingerprint: {}", tls_identity.fingerprint_sha256);

    hs::SqliteMeetingRepository store(config.data_dir / "huijian.sqlite3");
    log->info("store {} (schema version {})", (config.data_dir / "huijian.sqlite3").string(), store.schema_version());
    hs::SqliteSupervisionRepository supervision(store);
    hs::SqliteArchiveRepository archives(store);
    try {
      hs::reindex_archives(archives, hs::archive_dir_of(config));
    } catch (const std::exception& e) {  // the meetings go on; the archive index stays as it was
      log->error("indexing the archive {}: {}", hs::archive_dir_of(config).string(), e.what());
    }
    const auto clock = hs::system_wall_clock();
    hs::AuditTrail audit(supervision, clock);
    hs::AccessControl access(supervision, audit, clock, std::chrono::minutes(config.supervision.session_minutes));
    access.load_accounts(config.officers);
    for (auto& officer : config.officers) officer.password.assign(officer.password.size(), '\0');

    net::io_context io{1};
    hs::AsioTimerService timers(io, clock);
    net::ssl::context tls{net::ssl::context::tls_server};
    tls.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                    net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                    net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use);
    tls.use_certificate_chain(net::buffer(tls_identity.certificate_pem));
    tls.use_private_key(net::buffer(tls_identity.private_key_pem), net::ssl::context::pem);

    // The relay is declared after io so it stops (and stops posting) before io goes away.
    auto dtls_certificate = huijian::media::Certificate::generate("huijiand");
    huijian::media::Relay relay(config.media, dtls_certificate);
    hs::RelayMediaPort media(relay);

    // The recorder: its events come back to the control plane's thread.
    hs::SignalingHub* hub_ptr = nullptr;
    hs::MeetingRecorder recording(
        config, relay, store, supervision, archives, [&io](std::function<void()> f) { net::post(io, std::move(f)); },
        [&hub_ptr](const std::string& meeting) {
          if (hub_ptr) hub_ptr->recording_changed(meeting);
        });
    std::unique_ptr<huijian::recorder::Recorder> recorder;
    if (record == "on") {
      huijian::recorder::RecorderSettings settings;
      settings.recording.archive_dir = hs::archive_dir_of(config);
      settings.recording.segment_length = std::chrono::seconds(config.recorder.segment_seconds);
      settings.recording.no_video = std::chrono::milliseconds(config.recorder.no_video_ms);
      settings.keys_dir = config.data_dir / "keys";
      recorder = std::make_unique<huijian::recorder::Recorder>(settings, recording.events());
      recording.set_recorder(recorder.get());
      log->info("archive {} (signing key {})", settings.recording.archive_dir.string(), recorder->signing_key_id());
    } else {
      log->warn("--record off: meetings are NOT archived (benchmarks only)");
    }

    hs::SignalingHub hub(
        config, hs::HubServices{store, supervision, access, audit, timers}, &media,
        [&io](std::function<void()> f) { net::post(io, std::move(f)); }, clock);
    hub_ptr = &hub;
    if (recorder) hub.set_recording(&recording);
    hub.load_meetings();
    recording.recover();  // after load_meetings, which ended what the stopped server left running
    hs::HttpApi api(config.web_root, config.admin_token, hub, hs::HttpServices{store, supervision, access, audit});
    api.set_relay_counters([&relay] { return relay.counters(); });
    api.set_recorder_inputs([&recorder] { return recorder ? recorder->inputs() : nlohmann::json(nullptr); });
    api.set_archives({archives, hs::archive_dir_of(config), hs::documents_dir_of(config), config.data_dir,
                      [](const std::filesystem::path& folder, const std::filesystem::path& out_mp4) {
                        auto r = huijian::recorder::export_composite(folder, out_mp4);
                        return hs::CompositeExports::Outcome{r.media_ms, r.seconds};
                      }});
    hs::HttpsServer server(io, tls, {config.listen_address, config.listen_port, config.max_message_bytes}, api, hub);
    server.start();

    net::steady_timer stop_timer(io);
    net::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& error, int signal) {
      if (error) return;
      log->info("signal {}: shutting down", signal);
      server.stop();
      hub.shutdown("server shutdown");
      // Give the sessions a moment to send the "ended" messages.
      stop_timer.expires_after(std::chrono::milliseconds(300));
      stop_timer.async_wait([&io](const boost::system::error_code&) { io.stop(); });
    });

    std::string host = config.listen_address.find(':') != std::string::npos ? "[" + config.listen_address + "]"
                                                                             : config.listen_address;
    std::printf("huijiand listening on https://%s:%u (wss /ws)\n", host.c_str(), server.port());
    std::fflush(stdout);
    log->info("web root {}", config.web_root.string());
    io.run();
    log->info("stopped");
    return 0;
  } catch (const hs::ConfigError& e) {
    log->error("configuration: {}", e.what());
    return 2;
  } catch (const std::exception& e) {
    log->error("{}", e.what());
    return 1;
  }
}
