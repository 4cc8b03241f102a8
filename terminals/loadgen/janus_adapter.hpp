#pragma once
// Meetings through Janus (1.1.x) and its videocall plugin, over Janus's HTTP
// API (plain HTTP on loopback): one Janus session, two plugin handles per
// meeting. The lawyer registers as lg-l-N and calls the detainee lg-d-N with
// an offer; Janus hands the detainee its own offer ("incomingcall"), the
// detainee accepts with an answer, and Janus gives the lawyer its answer
// ("accepted"). Events come from a long-poll thread (which also keeps the
// session alive). Tear-down: hangup, detach, destroy.

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "terminals/loadgen/server_adapter.hpp"

namespace huijian::terminals::loadgen {

struct JanusUrl {
  std::string host;
  std::string port;
  std::string base;  // e.g. "/janus"
};

// "http://127.0.0.1:8088/janus" -> parts. Throws AdapterError for anything
// else, and for a host that is not loopback.
JanusUrl parse_janus_url(const std::string& url);

class JanusAdapter final : public ServerAdapter {
 public:
  // `record_dir` not empty: every call is recorded by Janus (videocall "set"
  // with record: true) into files under it.
  explicit JanusAdapter(JanusUrl url, std::string record_dir = "");
  ~JanusAdapter() override;
  void set_up(LoadRun& run, std::size_t meetings, std::chrono::steady_clock::time_point deadline) override;
  void tear_down(LoadRun& run) noexcept override;
  const char* name() const noexcept override { return "janus"; }

 private:
  class Http;
  struct Meeting {
    std::uint64_t caller = 0;  // handle ids
    std::uint64_t callee = 0;
  };

  nlohmann::json request(const std::string& path, nlohmann::json body);
  nlohmann::json plugin_message(std::uint64_t handle, nlohmann::json body, const nlohmann::json* jsep = nullptr);
  // Waits for a videocall event `name` from `handle` (its whole Janus message);
  // throws AdapterError on an error event, a hangup, or the deadline.
  nlohmann::json wait_event(std::uint64_t handle, const std::string& name,
                            std::chrono::steady_clock::time_point deadline);
  void poll_events();

  JanusUrl url_;
  std::string record_dir_;
  std::unique_ptr<Http> control_;
  std::uint64_t session_ = 0;
  std::vector<Meeting> meetings_;
  std::uint64_t transaction_ = 0;

  std::thread poller_;
  std::unique_ptr<Http> poll_http_;
  std::mutex mutex_;
  std::condition_variable events_changed_;
  std::map<std::uint64_t, std::deque<nlohmann::json>> events_;  // by sender handle
  bool stopping_ = false;
  std::string poll_error_;
};

}  // namespace huijian::terminals::loadgen
