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

  // Supervision (see media::Relay): an officer console's peer, the pictures
  // it gets, and whether its microphone reaches the parties.
  virtual media::Relay::OfficerAnswer open_officer_peer(const std::string& peer_id, const std::string& meeting_id,
                                                        const std::string& offer_sdp,
                                                        std::shared_ptr<media::PeerEvents> events) = 0;
  virtual bool watch(const std::string& officer_peer, const std::string& lawyer_peer,
                     const std::string& detainee_peer) = 0;
  virtual void set_officer_voice(const std::string& officer_peer, bool open) = 0;
};

}  // namespace huijian::signaling
