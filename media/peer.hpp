#pragma once
// One terminal's WebRTC peer at the relay: ICE, then DTLS (fingerprint checked
// against the offer), then SRTP; sorts each datagram into STUN/DTLS/RTP/RTCP,
// and forwards decrypted media to its partner peer (the other party of the
// meeting) after rewriting SSRC, payload type and sequence numbers for the
// partner's leg. Lives and is used on one media worker thread only.

#include <glib.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "media/certificate.hpp"
#include "media/dtls_transport.hpp"
#include "media/ice_agent.hpp"
#include "media/relay.hpp"
#include "media/relay_counters.hpp"
#include "media/retransmission_buffer.hpp"
#include "media/rtcp_packet.hpp"
#include "media/sdp.hpp"
#include "media/srtp_session.hpp"
#include "media/stream_rewriter.hpp"

namespace huijian::media {

class Peer final : private IceAgent::Listener, private DtlsTransport::Listener {
 public:
  Peer(std::string id, GMainContext* context, const RelayConfig& config, const Certificate& certificate,
       RelayCounterSet& counters, std::shared_ptr<PeerEvents> events);
  ~Peer() override;
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  const std::string& id() const noexcept { return id_; }

  // Parses the terminal's offer, starts ICE and returns the answer. Throws OfferError.
  std::string accept_offer(const std::string& offer_sdp);
  // Throws OfferError for a malformed candidate.
  void add_remote_candidate(const std::string& candidate);

  // The peer whose media this one receives, and to which this one's media goes.
  void set_partner(Peer* partner) noexcept { partner_ = partner; }
  Peer* partner() const noexcept { return partner_; }

  // Asks this terminal for a video keyframe (RTCP PLI), if it is secure.
  void request_keyframe() noexcept;
  bool secure() const noexcept { return srtp_ != nullptr; }

 private:
  struct Section {
    MediaKind kind;
    std::string mid;
    std::uint8_t payload_type;           // what this terminal uses for the chosen codec
    std::uint32_t out_ssrc;              // what the relay sends this terminal from
    bool relay_sends;                    // the answer lets the relay send on it
    std::vector<std::uint32_t> announced_ssrcs;  // what the offer said the terminal sends
    std::optional<std::uint32_t> source_ssrc;    // what it really sends (learned)
    StreamRewriter rewriter;
    std::unique_ptr<RetransmissionBuffer> retransmissions;  // video only
    bool sequence_started = false;
    std::uint16_t highest_sequence = 0;
  };

  // IceAgent::Listener
  void on_ice_candidate(const std::string& candidate) override;
  void on_ice_state(IceState state) override;
  void on_ice_datagram(std::span<const std::uint8_t> datagram) noexcept override;
  // DtlsTransport::Listener
  void on_dtls_send(std::span<const std::uint8_t> datagram) override;
  void on_dtls_connected(const SrtpKeyMaterial& keys) override;
  void on_dtls_failed(const std::string& reason) override;

  void receive_rtp(std::size_t length) noexcept;
  void receive_rtcp(std::size_t length) noexcept;
  Section* incoming_section(std::uint32_t ssrc, std::uint8_t payload_type) noexcept;
  Section* section_of_kind(MediaKind kind) noexcept;
  static std::uint32_t incoming_video_ssrc(const Section& video) noexcept;
  void note_sequence(Section& section, std::uint16_t sequence) noexcept;
  void answer_nack(const rtcp::Block& nack) noexcept;
  std::uint32_t map_ssrc_for_partner(std::uint32_t ssrc) noexcept;
  bool send_own_rtcp(std::span<std::uint8_t> buffer, std::size_t length) noexcept;
  void schedule_dtls_timer();
  // Our own REMB to this peer's video sender (RelayConfig::video_bitrate_kbps),
  // once SRTP is up and then every second while the partner sends none.
  void send_own_remb() noexcept;
  void start_feedback_timer();
  void report(PeerState state, const std::string& detail);

  std::string id_;
  GMainContext* context_;
  RelayConfig config_;
  const Certificate& certificate_;
  RelayCounterSet& counters_;
  std::shared_ptr<PeerEvents> events_;
  std::unique_ptr<IceAgent> ice_;
  std::unique_ptr<DtlsTransport> dtls_;
  std::unique_ptr<SrtpSession> srtp_;
  bool dtls_client_ = false;
  bool dtls_started_ = false;
  GSource* dtls_timer_ = nullptr;
  GSource* feedback_timer_ = nullptr;
  std::chrono::steady_clock::time_point last_forwarded_remb_{};
  // DTLS datagrams written before ICE has a selected pair (a client may send
  // its ClientHello as soon as its own check succeeds, before ours does); sent
  // when ICE connects instead of waiting a whole retransmission timeout.
  static constexpr std::size_t kMaxPendingDtls = 16;
  std::vector<std::vector<std::uint8_t>> pending_dtls_;
  bool ice_connected_ = false;
  std::vector<Section> sections_;
  Peer* partner_ = nullptr;
  // Room for one datagram plus the SRTP trailer; media is decrypted and re-encrypted here in place.
  static constexpr std::size_t kBufferSize = 1500 + kSrtpMaxTrailer;
  std::array<std::uint8_t, kBufferSize> packet_{};
  std::array<std::uint8_t, kBufferSize> rtcp_out_{};
};

}  // namespace huijian::media
