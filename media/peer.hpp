#pragma once
// One terminal's WebRTC peer at the relay: ICE, then DTLS (fingerprint checked
// against the offer), then SRTP. Owns the MediaLeg that forwards the
// terminal's media to its partner peer (the other party of the meeting) and
// hands it every datagram ICE delivers except DTLS, which goes to the DTLS
// transport; keeps the timers and reports events. Lives and is used on one
// media worker thread only.

#include <glib.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "media/certificate.hpp"
#include "media/datagram_sink.hpp"
#include "media/dtls_transport.hpp"
#include "media/ice_agent.hpp"
#include "media/media_leg.hpp"
#include "media/relay.hpp"
#include "media/relay_counters.hpp"
#include "media/sdp.hpp"

namespace huijian::media {

// A terminal's peer exchanges sound and picture with its partner; an
// officer's peer receives the two parties' pictures and sends the officer's
// microphone, and never has a section the relay could send sound on.
enum class PeerKind { Terminal, Officer };

class Peer final : private IceAgent::Listener, private DtlsTransport::Listener, private DatagramSink {
 public:
  Peer(std::string id, GMainContext* context, const RelayConfig& config, const Certificate& certificate,
       RelayCounterSet& counters, std::shared_ptr<PeerEvents> events, PeerKind kind = PeerKind::Terminal);
  ~Peer() override;
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  const std::string& id() const noexcept { return id_; }
  PeerKind kind() const noexcept { return kind_; }
  MediaLeg& leg() noexcept { return leg_; }

  // Parses the offer, starts ICE and returns the answer. Throws OfferError.
  // An officer's offer must hold exactly two video m-lines the relay sends
  // on (the lawyer's picture, then the detainee's) and at most one audio
  // m-line the officer sends on; picture_mids() then names the two mids.
  std::string accept_offer(const std::string& offer_sdp);
  const std::array<std::string, MediaLeg::kParties>& picture_mids() const noexcept { return picture_mids_; }
  // Throws OfferError for a malformed candidate.
  void add_remote_candidate(const std::string& candidate);

  // The peer whose media this one receives, and to which this one's media goes.
  void set_partner(Peer* partner) noexcept {
    partner_ = partner;
    leg_.set_partner(partner ? &partner->leg_ : nullptr);
  }
  Peer* partner() const noexcept { return partner_; }

  // A copy of this terminal's video goes to `tap` (null = none); see VideoTap.
  void set_video_tap(std::shared_ptr<VideoTap> tap) noexcept { leg_.set_video_tap(std::move(tap)); }

  // Asks this terminal for a video keyframe (RTCP PLI), if it is secure.
  void request_keyframe() noexcept { leg_.request_keyframe(); }
  bool secure() const noexcept { return leg_.secure(); }

 private:
  // IceAgent::Listener
  void on_ice_candidate(const std::string& candidate) override;
  void on_ice_state(IceState state) override;
  void on_ice_datagram(std::span<const std::uint8_t> datagram) noexcept override;
  // DtlsTransport::Listener
  void on_dtls_send(std::span<const std::uint8_t> datagram) override;
  void on_dtls_connected(const SrtpKeyMaterial& keys) override;
  void on_dtls_failed(const std::string& reason) override;
  // DatagramSink, for the leg: the selected ICE pair.
  bool send(std::span<const std::uint8_t> datagram) noexcept override;

  void schedule_dtls_timer();
  // Sends the leg's own REMB to this peer's video sender (RelayConfig::video_bitrate_kbps)
  // every second while the partner sends none; the first goes when SRTP is up.
  void start_feedback_timer();
  void report(PeerState state, const std::string& detail);

  // The roles of the accepted sections and the answer's directions.
  void assign_terminal_roles(const std::vector<AcceptedSection>& accepted,
                             std::vector<MediaLeg::SectionConfig>& sections) const;
  void assign_officer_roles(std::vector<AcceptedSection>& accepted, std::vector<MediaLeg::SectionConfig>& sections);

  std::string id_;
  PeerKind kind_;
  std::array<std::string, MediaLeg::kParties> picture_mids_;
  GMainContext* context_;
  RelayConfig config_;
  const Certificate& certificate_;
  RelayCounterSet& counters_;
  std::shared_ptr<PeerEvents> events_;
  // Declared before ice_ so that it outlives the agent whose datagrams it takes.
  MediaLeg leg_;
  std::string first_mid_ = "0";  // the mid local candidates are announced for
  std::unique_ptr<IceAgent> ice_;
  std::unique_ptr<DtlsTransport> dtls_;
  bool dtls_client_ = false;
  bool dtls_started_ = false;
  GSource* dtls_timer_ = nullptr;
  std::shared_ptr<TimerQueue> timers_;
  std::uint64_t feedback_timer_ = 0;  // a token of timers_; 0 when none
  // DTLS datagrams written before ICE has a selected pair (a client may send
  // its ClientHello as soon as its own check succeeds, before ours does); sent
  // when ICE connects instead of waiting a whole retransmission timeout.
  static constexpr std::size_t kMaxPendingDtls = 16;
  std::vector<std::vector<std::uint8_t>> pending_dtls_;
  bool ice_connected_ = false;
  std::size_t section_count_ = 0;
  Peer* partner_ = nullptr;
};

}  // namespace huijian::media
