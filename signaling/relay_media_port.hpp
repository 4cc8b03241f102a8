#pragma once
// MediaPort backed by the in-process relay.

#include "signaling/media_port.hpp"

namespace huijian::signaling {

class RelayMediaPort final : public MediaPort {
 public:
  explicit RelayMediaPort(media::Relay& relay) : relay_(relay) {}

  std::string open_peer(const std::string& peer_id, const std::string& meeting_id,
                        const std::string& offer_sdp,
                        std::shared_ptr<media::PeerEvents> events) override;
  void add_remote_candidate(const std::string& peer_id, const std::string& candidate,
                            const std::string& mid) override;
  void link(const std::string& peer_a, const std::string& peer_b) override;
  void unlink(const std::string& peer_id) override;
  void close_peer(const std::string& peer_id) override;
  media::Relay::OfficerAnswer open_officer_peer(const std::string& peer_id, const std::string& meeting_id,
                                                const std::string& offer_sdp,
                                                std::shared_ptr<media::PeerEvents> events) override {
    return relay_.open_officer_peer(peer_id, meeting_id, offer_sdp, std::move(events));
  }
  bool watch(const std::string& officer_peer, const std::string& lawyer_peer,
             const std::string& detainee_peer) override {
    return relay_.watch(officer_peer, lawyer_peer, detainee_peer);
  }
  void set_officer_voice(const std::string& officer_peer, bool open) override {
    relay_.set_officer_voice(officer_peer, open);
  }

 private:
  media::Relay& relay_;
};

}  // namespace huijian::signaling
