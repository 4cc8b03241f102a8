#include "terminals/loadgen/huijian_adapter.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <mutex>
#include <sstream>
#include <thread>

#include "terminals/loadgen/load_run.hpp"

namespace huijian::terminals::loadgen {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string huijian_device_id(std::size_t index, bool lawyer) {
  return (lawyer ? "lg-lawyer-" : "lg-detainee-") + std::to_string(index + 1);
}

std::string huijian_meeting_id(std::size_t index) { return "lg-m-" + std::to_string(index + 1); }

std::string huijian_devices_toml(std::size_t meetings, const std::string& secret) {
  std::ostringstream out;
  out << "# " << meetings << " synthetic meetings for huijian-loadgen\n";
  for (std::size_t i = 0; i < meetings; ++i) {
    for (bool lawyer : {true, false}) {
      const std::string id = huijian_device_id(i, lawyer);
      out << "[[device]]\nid = \"" << id << "\"\nname = \"" << (lawyer ? "负载律师 " : "负载会见室 ") << i + 1
          << "\"\nrole = \"" << (lawyer ? "lawyer-terminal" : "detainee-terminal") << "\"\nsecret = \"" << secret
          << "-" << id << "\"\n";
    }
    out << "[[meeting]]\nid = \"" << huijian_meeting_id(i) << "\"\nlawyer_device = \"" << huijian_device_id(i, true)
        << "\"\ndetainee_device = \"" << huijian_device_id(i, false) << "\"\ncase_id = \"load test " << i + 1
        << "\"\n";
  }
  return out.str();
}

class HuijianAdapter::Terminal final : public SignalingClientListener {
 public:
  Terminal(LoadRun& run, std::size_t index, Party party, const ServerUrl& url, const TlsSettings& tls,
           const std::string& secret)
      : run_(run),
        index_(index),
        party_(party),
        device_(huijian_device_id(index, party == Party::Lawyer)),
        secret_(secret + "-" + device_),
        client_(std::make_unique<SignalingClient>(url, tls, *this)) {}

  void start() { client_->start(); }
  void send(const json& message) {
    std::lock_guard lock(client_mutex_);
    if (client_) client_->send(message.dump());
  }
  // Closes the connection and joins its thread: no callback comes after this.
  void stop() noexcept {
    std::unique_ptr<SignalingClient> client;
    {
      std::lock_guard lock(client_mutex_);
      client = std::move(client_);
    }
    client.reset();
  }

  bool connected() const noexcept { return connected_; }
  bool ended() const noexcept { return ended_; }
  std::string error() const {
    std::lock_guard lock(mutex_);
    return error_;
  }
  const std::string& device() const noexcept { return device_; }

  void on_signaling_open() override {
    send({{"type", "hello"}, {"device", device_}, {"secret", secret_}, {"meeting", huijian_meeting_id(index_)}});
  }
  void on_signaling_message(std::string text) override {
    run_.worker().post([this, text = std::move(text)] { handle(text); });
  }
  void on_signaling_closed(std::string reason) override {
    if (!ended_) set_error("the signalling connection closed: " + reason);
  }

 private:
  void set_error(const std::string& text) {
    std::lock_guard lock(mutex_);
    if (error_.empty()) error_ = device_ + ": " + text;
  }

  // On the media thread.
  void handle(const std::string& text) {
    try {
      const json message = json::parse(text);
      const std::string type = message.value("type", "");
      SyntheticPeer& peer = run_.peer(index_, party_);
      if (type == "welcome") {
        if (message.value("meeting", json()).is_null()) {
          set_error("the server has no meeting for this device");
          return;
        }
        peer.create_offer([this](std::string sdp) { send({{"type", "offer"}, {"sdp", std::move(sdp)}}); });
      } else if (type == "answer") {
        peer.accept_answer(message.at("sdp").get<std::string>());
        if (party_ == Party::Detainee) send({{"type", "ready"}});
      } else if (type == "candidate") {
        peer.add_remote_candidate(message.value("candidate", ""));
      } else if (type == "peer_ready") {
        if (party_ == Party::Lawyer) send({{"type", "connect"}});
      } else if (type == "state") {
        const std::string state = message.value("state", "");
        if (state == "connected") connected_ = true;
        if (state == "ended") ended_ = true;
      } else if (type == "error") {
        set_error(message.value("code", "error") + ": " + message.value("message", ""));
      }
    } catch (const std::exception& e) {
      set_error(e.what());
    }
  }

  LoadRun& run_;
  std::size_t index_;
  Party party_;
  std::string device_;
  std::string secret_;
  std::mutex client_mutex_;  // send (media thread) against stop (the run's thread)
  std::unique_ptr<SignalingClient> client_;
  std::atomic<bool> connected_{false};
  std::atomic<bool> ended_{false};
  mutable std::mutex mutex_;
  std::string error_;
};

HuijianAdapter::HuijianAdapter(ServerUrl url, TlsSettings tls, std::string secret)
    : url_(std::move(url)), tls_(std::move(tls)), secret_(std::move(secret)) {}

HuijianAdapter::~HuijianAdapter() {
  for (auto& t : terminals_) t->stop();
}

void HuijianAdapter::set_up(LoadRun& run, std::size_t meetings, Clock::time_point deadline) {
  // Meetings are started a few at a time so that the server sees a realistic
  // trickle of handshakes rather than one thundering burst.
  constexpr std::size_t kInFlight = 8;
  for (std::size_t i = 0; i < meetings; ++i) {
    for (Party party : {Party::Detainee, Party::Lawyer}) {
      try {
        terminals_.push_back(std::make_unique<Terminal>(run, i, party, url_, tls_, secret_));
      } catch (const std::exception& e) {
        throw AdapterError(std::string("cannot open a signalling connection: ") + e.what());
      }
      terminals_.back()->start();
    }
    for (;;) {
      std::size_t pending = 0;
      for (const auto& t : terminals_) {
        const std::string error = t->error();
        if (!error.empty()) throw AdapterError("meeting " + std::to_string(i + 1) + ": " + error);
        pending += t->connected() ? 0 : 1;
      }
      if (pending / 2 < kInFlight) break;
      if (Clock::now() > deadline) throw AdapterError("timed out while meetings were being connected");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  for (;;) {
    bool all = true;
    for (const auto& t : terminals_) {
      const std::string error = t->error();
      if (!error.empty()) throw AdapterError(error);
      all = all && t->connected();
    }
    if (all) return;
    if (Clock::now() > deadline) throw AdapterError("timed out waiting for every meeting to reach 'connected'");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void HuijianAdapter::tear_down(LoadRun& run) noexcept {
  for (auto& t : terminals_)
    if (t->device().rfind("lg-lawyer-", 0) == 0) t->send({{"type", "end"}, {"reason", "load test finished"}});
  const auto deadline = Clock::now() + std::chrono::seconds(3);
  while (Clock::now() < deadline) {
    bool all = true;
    for (const auto& t : terminals_) all = all && t->ended();
    if (all) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& t : terminals_) t->stop();
  run.worker().call([] {});  // messages already queued for the media thread run before the terminals go
  terminals_.clear();
}

}  // namespace huijian::terminals::loadgen
