#pragma once
// What the control plane needs of the relay. RelayMediaPort forwards to a
// huijian::media::Relay; tests use a fake.

#include <memory>
#include <string>

#include "media/relay.hpp"

namespace huijian::signaling {

class MediaPort {
 public:
  virtual ~MediaPort() = default;
  // Throws media::OfferError for a bad offer, std::invalid_argument if the peer exists.
  virtual std::string open_peer(const std::string& peer_id, const std::string& meeting_id,
                                const std::string& offer_sdp,
                                std::shared_ptr<media::PeerEvents> events) = 0;
  // Throws media::OfferError for a bad candidate or an unknown peer.
  virtual void add_remote_candidate(const std::string& peer_id, const std::string& candidate,
                                    const std::string& mid) = 0;
  virtual void link(const std::string& peer_a, const std::string& peer_b) = 0;
  virtual void unlink(const std::string& peer_id) = 0;
  virtual void close_peer(const std::string& peer_id) = 0;
};

}  // namespace huijian::signaling
