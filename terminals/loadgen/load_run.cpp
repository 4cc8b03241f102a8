#include "terminals/loadgen/load_run.hpp"

#include <openssl/rand.h>

namespace huijian::terminals::loadgen {

const char* to_string(Party party) noexcept { return party == Party::Lawyer ? "lawyer" : "detainee"; }

LoadRun::LoadRun(const Clip& clip, std::uint32_t pace_kbps)
    : clip_(clip),
      pace_kbps_(pace_kbps),
      origin_(std::chrono::steady_clock::now()),
      certificate_(media::Certificate::generate("huijian-loadgen")),
      totals_(std::make_unique<LoadTotals>()),
      worker_(std::make_unique<media::MediaWorker>("loadgen-media")) {
  worker_->call([this] {
    timer_ = g_timeout_source_new(1);
    g_source_set_callback(
        timer_,
        [](gpointer data) -> gboolean {
          static_cast<LoadRun*>(data)->tick();
          return G_SOURCE_CONTINUE;
        },
        this, nullptr);
    g_source_attach(timer_, worker_->context());
  });
}

LoadRun::~LoadRun() {
  worker_->call([this] {
    if (timer_) {
      g_source_destroy(timer_);
      g_source_unref(timer_);
      timer_ = nullptr;
    }
    peers_.clear();
  });
  worker_.reset();
}

SyntheticPeer& LoadRun::peer(std::size_t index, Party party) {
  const auto id = static_cast<std::uint32_t>(2 * index + (party == Party::Detainee ? 1 : 0));
  auto it = peers_.find(id);
  if (it != peers_.end()) return *it->second;
  SyntheticPeer::Params params;
  params.id = id;
  params.partner = id ^ 1u;
  params.label = "meeting " + std::to_string(index + 1) + " " + to_string(party);
  params.clip = &clip_;
  params.certificate = &certificate_;
  params.origin = origin_;
  params.totals = totals_.get();
  params.pace_kbps = pace_kbps_;
  std::uint32_t phase = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&phase), sizeof phase);
  params.start_offset = std::chrono::microseconds(phase % 40'000);
  auto peer = std::make_unique<SyntheticPeer>(worker_->context(), std::move(params), [this](std::string reason) {
    std::lock_guard lock(failure_mutex_);
    failures_.push_back(std::move(reason));
  });
  auto& ref = *peer;
  peers_[id] = std::move(peer);
  return ref;
}

std::string LoadRun::first_failure() const {
  std::lock_guard lock(failure_mutex_);
  return failures_.empty() ? std::string() : failures_.front();
}

std::size_t LoadRun::failures() const {
  std::lock_guard lock(failure_mutex_);
  return failures_.size();
}

std::size_t LoadRun::receiving_peers() const {
  std::size_t n = 0;
  for (const auto& [id, p] : peers_) n += p->receiving() ? 1 : 0;
  return n;
}

void LoadRun::stop_sending() {
  for (auto& [id, p] : peers_) p->stop_sending();
}

void LoadRun::close_peers() { peers_.clear(); }

void LoadRun::tick() {
  const auto now = std::chrono::steady_clock::now();
  for (auto& [id, p] : peers_) {
    p->service_dtls(now);
    p->tick(now);
  }
}

}  // namespace huijian::terminals::loadgen
