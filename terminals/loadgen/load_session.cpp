#include "terminals/loadgen/load_session.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <optional>
#include <thread>

#include "terminals/loadgen/load_run.hpp"
#include "terminals/loadgen/process_cpu.hpp"

namespace huijian::terminals::loadgen {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kDrain = std::chrono::milliseconds(500);
constexpr auto kMediaTimeout = std::chrono::seconds(20);

double round_to(double value, int digits) {
  double scale = 1;
  for (int i = 0; i < digits; ++i) scale *= 10;
  return static_cast<double>(static_cast<long long>(value * scale + (value >= 0 ? 0.5 : -0.5))) / scale;
}

}  // namespace

json run_load(const Clip& clip, ServerAdapter& adapter, const LoadOptions& options) {
  LoadRun run(clip, options.pace_kbps);
  const auto setup_timeout = options.setup_timeout.count() > 0
                                 ? std::chrono::duration_cast<Clock::duration>(options.setup_timeout)
                                 : std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::milliseconds(20'000 + 500 * static_cast<long>(options.meetings)));
  const auto setup_start = Clock::now();
  struct TearDown {
    ServerAdapter& adapter;
    LoadRun& run;
    ~TearDown() {
      adapter.tear_down(run);
      run.worker().call([this] { run.close_peers(); });
    }
  } tear_down{adapter, run};

  adapter.set_up(run, options.meetings, setup_start + setup_timeout);
  const double setup_seconds = std::chrono::duration<double>(Clock::now() - setup_start).count();
  spdlog::info("[loadgen] {} meetings connected through {} in {:.2f} s", options.meetings, adapter.name(),
               setup_seconds);

  // Media: every terminal must receive its partner's video before we measure.
  const std::size_t peers = 2 * options.meetings;
  const auto media_deadline = Clock::now() + kMediaTimeout;
  std::size_t receiving = 0;
  for (;;) {
    const std::string failure = run.first_failure();
    if (!failure.empty()) throw AdapterError(failure);
    receiving = run.worker().call([&] { return run.receiving_peers(); });
    if (receiving == peers) break;
    if (Clock::now() > media_deadline)
      throw AdapterError(std::to_string(peers - receiving) + " of " + std::to_string(peers) +
                         " terminals received no video from their partner within 20 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(options.warmup);

  // Measure.
  auto sample = [&]() -> std::optional<CpuSample> {
    return options.server_pid > 0 ? sample_process(options.server_pid, options.server_cpu) : std::nullopt;
  };
  const auto before = sample();
  const double own_before = own_cpu_seconds();
  const auto window_start = Clock::now();
  run.worker().call([&] {
    run.totals().window.start_ns = nanoseconds_since(run.origin());
    run.totals().window.end_ns = run.totals().window.start_ns +
                                 static_cast<std::uint64_t>(std::chrono::nanoseconds(options.duration).count());
  });
  std::this_thread::sleep_until(window_start + options.duration);
  const auto after = sample();
  const double own_after = own_cpu_seconds();
  const double window_seconds = std::chrono::duration<double>(Clock::now() - window_start).count();
  std::this_thread::sleep_for(kDrain);
  run.worker().call([&] { run.stop_sending(); });
  std::this_thread::sleep_for(kDrain);

  json report;
  run.worker().call([&] {
    const LoadTotals& t = run.totals();
    const double loss = t.stamped_sent ? 100.0 * (1.0 - static_cast<double>(t.stamped_received) /
                                                            static_cast<double>(t.stamped_sent))
                                       : 0.0;
    report = json{
        {"server", adapter.name()},
        {"meetings", options.meetings},
        {"duration_s", round_to(window_seconds, 3)},
        {"setup_s", round_to(setup_seconds, 3)},
        {"clip_video_kbps", round_to(clip.video.bitrate_kbps(), 0)},
        {"sent_in_window", t.stamped_sent},
        {"received_in_window", t.stamped_received},
        {"loss_pct", round_to(loss < 0 ? 0 : loss, 4)},
        {"arrived_in_window", t.arrived_in_window},
        {"arrived_per_s", round_to(static_cast<double>(t.arrived_in_window) / window_seconds, 1)},
        {"mbit_per_s", round_to(static_cast<double>(t.bytes_in_window) * 8 / window_seconds / 1e6, 2)},
        {"sequence_gaps", t.sequence_gaps},
        {"misrouted", t.misrouted},
        {"undecryptable", t.undecryptable},
        {"keyframe_requests", t.keyframe_requests},
        {"keyframe_restarts", t.keyframe_restarts},
        {"nacks_received", t.nacks_received},
        {"sender_late_resets", t.late_resets},
        {"rtp_sent", t.rtp_sent},
        {"rtp_received", t.rtp_received},
        {"video_received", t.video_received},
        {"audio_received", t.audio_received},
        {"latency_us",
         {{"p50", t.latency.quantile(0.5)},
          {"p99", t.latency.quantile(0.99)},
          {"p999", t.latency.quantile(0.999)},
          {"max", t.latency.max()},
          {"samples", t.latency.count()}}},
        {"loadgen_cpu_pct", round_to(100.0 * (own_after - own_before) / window_seconds, 1)},
    };
  });
  if (before && after) {
    const double process = after->process_seconds - before->process_seconds;
    const double softirq = after->softirq_seconds - before->softirq_seconds;
    const auto forwarded = report["arrived_in_window"].get<std::uint64_t>();
    report["server_cpu_pct"] = round_to(100.0 * (process + softirq) / window_seconds, 1);
    report["server_process_cpu_pct"] = round_to(100.0 * process / window_seconds, 1);
    report["server_softirq_pct"] = round_to(100.0 * softirq / window_seconds, 1);
    report["server_rss_kib"] = after->rss_kib;
    report["cpu_us_per_packet"] =
        forwarded ? round_to(1e6 * (process + softirq) / static_cast<double>(forwarded), 2) : 0.0;
  } else if (options.server_pid > 0) {
    report["server_error"] = "cannot read /proc/" + std::to_string(options.server_pid) + " (server gone?)";
  }
  return report;
}

}  // namespace huijian::terminals::loadgen
