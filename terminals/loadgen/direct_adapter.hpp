#pragma once
// The baseline without a server: the two synthetic terminals of a meeting
// connect to each other directly (the lawyer offers, the detainee answers,
// ICE/DTLS/SRTP end to end on loopback). The same senders, receivers and
// clock as through a server, so its latency and the load generator's own CPU
// are what a server run includes besides the server.

#include "terminals/loadgen/server_adapter.hpp"

namespace huijian::terminals::loadgen {

class DirectAdapter final : public ServerAdapter {
 public:
  void set_up(LoadRun& run, std::size_t meetings, std::chrono::steady_clock::time_point deadline) override;
  void tear_down(LoadRun& run) noexcept override {}
  const char* name() const noexcept override { return "direct"; }
};

}  // namespace huijian::terminals::loadgen
