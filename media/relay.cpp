#include "media/relay.hpp"

#include <spdlog/spdlog.h>

#include <map>
#include <mutex>

#include "media/certificate.hpp"
#include "media/media_worker.hpp"
#include "media/peer.hpp"
#include "media/relay_counters.hpp"
#include "media/udp_sender.hpp"
#include "media/video_tap.hpp"

namespace huijian::media {

const char* to_string(PeerState state) noexcept {
  switch (state) {
    case PeerState::New: return "new";
    case PeerState::Checking: return "checking";
    case PeerState::Connected: return "connected";
    case PeerState::Secure: return "secure";
    case PeerState::Failed: return "failed";
    case PeerState::Closed: return "closed";
  }
  return "unknown";
}

struct Relay::Impl {
  struct Worker {
    std::unique_ptr<MediaWorker> thread;
    RelayCounterSet counters;
    // The worker's one sender, kept for the worker's life (not made again for each first peer).
    std::shared_ptr<UdpSender> sender;
    std::map<std::string, std::unique_ptr<Peer>> peers;  // touched on the worker thread only
    std::size_t meetings = 0;
  };

  RelayConfig config;
  Certificate certificate;
  std::vector<std::unique_ptr<Worker>> workers;

  std::mutex mutex;  // guards the two maps below
  std::map<std::string, std::size_t> peer_worker;      // peer id -> worker index
  std::map<std::string, std::size_t> meeting_worker;   // meeting id -> worker index
  std::map<std::string, std::string> peer_meeting;

  Impl(RelayConfig c, const Certificate& cert) : config(std::move(c)), certificate(cert) {
    const unsigned n = config.workers == 0 ? 1 : config.workers;
    for (unsigned i = 0; i < n; ++i) {
      auto w = std::make_unique<Worker>();
      w->thread = std::make_unique<MediaWorker>("media-" + std::to_string(i));
      w->sender = UdpSender::for_context(w->thread->context());
      workers.push_back(std::move(w));
    }
  }

  ~Impl() {
    for (auto& w : workers) {
      w->thread->call([&] {
        for (auto& [id, peer] : w->peers) peer->set_partner(nullptr);
        for (auto& [id, peer] : w->peers)
          for (auto& [other_id, other] : w->peers) peer->leg().forget(&other->leg());
        w->peers.clear();
      });
    }
  }

  OfficerAnswer open(const std::string& peer_id, const std::string& meeting_id, const std::string& offer_sdp,
                     std::shared_ptr<PeerEvents> events, PeerKind kind);

  Worker& worker_of(const std::string& peer_id) {
    std::lock_guard lock(mutex);
    auto it = peer_worker.find(peer_id);
    if (it == peer_worker.end()) throw OfferError("unknown media peer '" + peer_id + "': send an offer first");
    return *workers[it->second];
  }
};

Relay::Relay(RelayConfig config, const Certificate& dtls_certificate)
    : impl_(std::make_unique<Impl>(std::move(config), dtls_certificate)) {}

Relay::~Relay() = default;

std::string Relay::open_peer(const std::string& peer_id, const std::string& meeting_id, const std::string& offer_sdp,
                             std::shared_ptr<PeerEvents> events) {
  return impl_->open(peer_id, meeting_id, offer_sdp, std::move(events), PeerKind::Terminal).sdp;
}

Relay::OfficerAnswer Relay::open_officer_peer(const std::string& peer_id, const std::string& meeting_id,
                                              const std::string& offer_sdp, std::shared_ptr<PeerEvents> events) {
  return impl_->open(peer_id, meeting_id, offer_sdp, std::move(events), PeerKind::Officer);
}

Relay::OfficerAnswer Relay::Impl::open(const std::string& peer_id, const std::string& meeting_id,
                                       const std::string& offer_sdp, std::shared_ptr<PeerEvents> events,
                                       PeerKind kind) {
  std::size_t index = 0;
  bool pinned_here = false;
  {
    std::lock_guard lock(mutex);
    if (peer_worker.count(peer_id)) throw std::invalid_argument("media peer '" + peer_id + "' already exists");
    auto it = meeting_worker.find(meeting_id);
    if (it != meeting_worker.end()) {
      index = it->second;
    } else {
      // Pin the meeting to the worker carrying the fewest meetings.
      for (std::size_t i = 1; i < workers.size(); ++i)
        if (workers[i]->meetings < workers[index]->meetings) index = i;
      meeting_worker[meeting_id] = index;
      workers[index]->meetings++;
      pinned_here = true;
    }
    peer_worker[peer_id] = index;
    peer_meeting[peer_id] = meeting_id;
  }
  auto& worker = *workers[index];
  try {
    return worker.thread->call([&]() -> OfficerAnswer {
      auto peer = std::make_unique<Peer>(peer_id, worker.thread->context(), config, certificate,
                                         worker.counters, events, kind);
      OfficerAnswer answer{peer->accept_offer(offer_sdp), peer->picture_mids()[0], peer->picture_mids()[1]};
      worker.peers[peer_id] = std::move(peer);
      return answer;
    });
  } catch (...) {
    std::lock_guard lock(mutex);
    peer_worker.erase(peer_id);
    peer_meeting.erase(peer_id);
    if (pinned_here) {  // a refused first offer leaves the meeting unpinned
      meeting_worker.erase(meeting_id);
      workers[index]->meetings--;
    }
    throw;
  }
}

void Relay::add_remote_candidate(const std::string& peer_id, const std::string& candidate, const std::string&) {
  auto& worker = impl_->worker_of(peer_id);
  worker.thread->call([&] {
    auto it = worker.peers.find(peer_id);
    if (it == worker.peers.end()) throw OfferError("unknown media peer '" + peer_id + "'");
    it->second->add_remote_candidate(candidate);
  });
}

void Relay::link(const std::string& peer_a, const std::string& peer_b) {
  auto& worker = impl_->worker_of(peer_a);
  if (&impl_->worker_of(peer_b) != &worker)
    throw std::invalid_argument("peers '" + peer_a + "' and '" + peer_b + "' belong to different meetings");
  worker.thread->call([&] {
    auto a = worker.peers.find(peer_a);
    auto b = worker.peers.find(peer_b);
    if (a == worker.peers.end() || b == worker.peers.end()) throw OfferError("both peers must have offered before linking");
    if (a->second->partner() == b->second.get()) return;
    a->second->set_partner(b->second.get());
    b->second->set_partner(a->second.get());
    a->second->request_keyframe();
    b->second->request_keyframe();
    spdlog::info("[media] linked {} <-> {}", peer_a, peer_b);
  });
}

void Relay::unlink(const std::string& peer_id) {
  Impl::Worker* worker = nullptr;
  try {
    worker = &impl_->worker_of(peer_id);
  } catch (const OfferError&) {
    return;
  }
  worker->thread->call([&] {
    auto it = worker->peers.find(peer_id);
    if (it == worker->peers.end()) return;
    if (Peer* other = it->second->partner()) other->set_partner(nullptr);
    it->second->set_partner(nullptr);
  });
}

bool Relay::set_video_tap(const std::string& peer_id, std::shared_ptr<VideoTap> tap) {
  Impl::Worker* worker = nullptr;
  try {
    worker = &impl_->worker_of(peer_id);
  } catch (const OfferError&) {
    return false;
  }
  return worker->thread->call([&] {
    auto it = worker->peers.find(peer_id);
    if (it == worker->peers.end()) return false;
    it->second->set_video_tap(std::move(tap));
    return true;
  });
}

bool Relay::watch(const std::string& officer_peer, const std::string& lawyer_peer,
                  const std::string& detainee_peer) {
  Impl::Worker* worker = nullptr;
  try {
    worker = &impl_->worker_of(officer_peer);
  } catch (const OfferError&) {
    return false;
  }
  return worker->thread->call([&] {
    auto officer = worker->peers.find(officer_peer);
    if (officer == worker->peers.end() || officer->second->kind() != PeerKind::Officer) return false;
    MediaLeg& officer_leg = officer->second->leg();
    bool ok = true;
    const std::string* parties[] = {&lawyer_peer, &detainee_peer};
    for (std::uint8_t party = 0; party < MediaLeg::kParties; ++party) {
      auto terminal = parties[party]->empty() ? worker->peers.end() : worker->peers.find(*parties[party]);
      if (terminal == worker->peers.end() || terminal->second->kind() != PeerKind::Terminal) continue;
      MediaLeg& terminal_leg = terminal->second->leg();
      if (!terminal_leg.add_watcher(&officer_leg, party)) {
        ok = false;
        continue;
      }
      officer_leg.set_party(party, &terminal_leg);
      terminal_leg.request_keyframe();
    }
    return ok;
  });
}

void Relay::set_officer_voice(const std::string& officer_peer, bool open) {
  Impl::Worker* worker = nullptr;
  try {
    worker = &impl_->worker_of(officer_peer);
  } catch (const OfferError&) {
    return;
  }
  worker->thread->call([&] {
    auto it = worker->peers.find(officer_peer);
    if (it != worker->peers.end() && it->second->kind() == PeerKind::Officer) it->second->leg().set_voice_open(open);
  });
}

void Relay::request_keyframe(const std::string& peer_id) {
  Impl::Worker* worker = nullptr;
  try {
    worker = &impl_->worker_of(peer_id);
  } catch (const OfferError&) {
    return;
  }
  worker->thread->post([worker, peer_id] {
    auto it = worker->peers.find(peer_id);
    if (it != worker->peers.end()) it->second->request_keyframe();
  });
}

void Relay::close_peer(const std::string& peer_id) {
  std::size_t index = 0;
  {
    std::lock_guard lock(impl_->mutex);
    auto it = impl_->peer_worker.find(peer_id);
    if (it == impl_->peer_worker.end()) return;
    index = it->second;
    impl_->peer_worker.erase(it);
    const std::string meeting = impl_->peer_meeting[peer_id];
    impl_->peer_meeting.erase(peer_id);
    bool meeting_has_peers = false;
    for (auto& [p, m] : impl_->peer_meeting) meeting_has_peers = meeting_has_peers || m == meeting;
    if (!meeting_has_peers) {
      impl_->meeting_worker.erase(meeting);
      impl_->workers[index]->meetings--;
    }
  }
  auto& worker = *impl_->workers[index];
  worker.thread->call([&] {
    auto it = worker.peers.find(peer_id);
    if (it == worker.peers.end()) return;
    if (Peer* other = it->second->partner()) other->set_partner(nullptr);
    // No leg may keep pointing at this one (as watcher or watched party).
    for (auto& [id, peer] : worker.peers)
      if (peer.get() != it->second.get()) peer->leg().forget(&it->second->leg());
    worker.peers.erase(it);
  });
}

RelayCounters Relay::counters() const {
  RelayCounters out;
  std::size_t peers = 0;
  {
    std::lock_guard lock(impl_->mutex);
    peers = impl_->peer_worker.size();
  }
  out.peers_open = peers;
  for (auto& w : impl_->workers) w->counters.add_to(out, w->sender->counters());
  return out;
}

}  // namespace huijian::media
