#pragma once
// One measured run: set up N meetings through a server adapter, wait until
// every terminal receives its partner's video, warm up, measure for the given
// duration, stop sending, drain, tear down, and report. Every phase is
// bounded in time; the run stops by itself.

#include <chrono>
#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "terminals/loadgen/clip_packets.hpp"
#include "terminals/loadgen/server_adapter.hpp"

namespace huijian::terminals::loadgen {

struct LoadOptions {
  std::size_t meetings = 1;
  std::chrono::seconds duration{10};
  std::chrono::seconds warmup{2};
  std::chrono::seconds setup_timeout{0};  // 0: 20 s + 0.5 s per meeting
  std::uint32_t pace_kbps = 10000;
  int server_pid = 0;  // 0: no server CPU figures
  int server_cpu = -1;  // the CPU the server is pinned to (for softirq), -1: none
};

// Throws AdapterError when the meetings cannot be set up in time; the report
// then is not made. A run that sets up but loses media still reports.
nlohmann::json run_load(const Clip& clip, ServerAdapter& adapter, const LoadOptions& options);

}  // namespace huijian::terminals::loadgen
