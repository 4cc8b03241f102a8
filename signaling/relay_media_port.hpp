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

 private:
  media::Relay& relay_;
};

}  // namespace huijian::signaling
