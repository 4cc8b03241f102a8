#pragma once
// Meetings through huijiand: per meeting a lawyer and a detainee terminal,
// each with its own WSS connection speaking huijian's protocol
// (docs/protocol.md): hello, offer/answer, trickled candidates, the detainee's
// ready, the lawyer's connect; at the end the lawyer's end. Device ids and
// secrets follow huijian_devices_toml() below.

#include <memory>
#include <string>
#include <vector>

#include "terminals/loadgen/server_adapter.hpp"
#include "terminals/signaling_client.hpp"
#include "terminals/terminal_options.hpp"

namespace huijian::terminals::loadgen {

// The [[device]] and [[meeting]] tables huijiand needs for `meetings`
// synthetic meetings: lg-lawyer-N / lg-detainee-N, meeting lg-m-N, secret
// "<secret>-<device id>".
std::string huijian_devices_toml(std::size_t meetings, const std::string& secret);
std::string huijian_device_id(std::size_t index, bool lawyer);
std::string huijian_meeting_id(std::size_t index);

class HuijianAdapter final : public ServerAdapter {
 public:
  HuijianAdapter(ServerUrl url, TlsSettings tls, std::string secret);
  ~HuijianAdapter() override;
  void set_up(LoadRun& run, std::size_t meetings, std::chrono::steady_clock::time_point deadline) override;
  void tear_down(LoadRun& run) noexcept override;
  const char* name() const noexcept override { return "huijiand"; }

 private:
  class Terminal;
  ServerUrl url_;
  TlsSettings tls_;
  std::string secret_;
  std::vector<std::unique_ptr<Terminal>> terminals_;
};

}  // namespace huijian::terminals::loadgen
