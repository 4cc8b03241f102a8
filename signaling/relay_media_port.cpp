#include "signaling/relay_media_port.hpp"

namespace huijian::signaling {

std::string RelayMediaPort::open_peer(const std::string& peer_id, const std::string& meeting_id,
                                      const std::string& offer_sdp,
                                      std::shared_ptr<media::PeerEvents> events) {
  return relay_.open_peer(peer_id, meeting_id, offer_sdp, std::move(events));
}

void RelayMediaPort::add_remote_candidate(const std::string& peer_id, const std::string& candidate,
                                          const std::string& mid) {
  relay_.add_remote_candidate(peer_id, candidate, mid);
}

void RelayMediaPort::link(const std::string& peer_a, const std::string& peer_b) {
  relay_.link(peer_a, peer_b);
}

void RelayMediaPort::unlink(const std::string& peer_id) { relay_.unlink(peer_id); }

void RelayMediaPort::close_peer(const std::string& peer_id) { relay_.close_peer(peer_id); }

}  // namespace huijian::signaling
