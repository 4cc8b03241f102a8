#pragma once
// One synthetic terminal: a real WebRTC peer (libnice ICE, OpenSSL DTLS with
// the fingerprint checked, libsrtp) built from the relay's own media classes,
// sending a pre-encoded clip at real-time pace and counting what it receives.
// It either offers (to huijiand, or as the caller through Janus) or answers
// (the callee through Janus). Lives on the load generator's media thread.

#include <glib.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "media/certificate.hpp"
#include "media/dtls_transport.hpp"
#include "media/ice_agent.hpp"
#include "media/srtp_session.hpp"
#include "terminals/loadgen/clip_packets.hpp"
#include "terminals/loadgen/load_totals.hpp"

namespace huijian::terminals::loadgen {

class PeerSetupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ns on the load generator's steady clock since `origin`.
std::uint64_t nanoseconds_since(std::chrono::steady_clock::time_point origin) noexcept;

class SyntheticPeer final : private media::IceAgent::Listener, private media::DtlsTransport::Listener {
 public:
  struct Params {
    std::uint32_t id = 0;       // stamped into what it sends
    std::uint32_t partner = 0;  // the id whose stamps it expects to receive
    std::string label;          // for messages, e.g. "meeting 3 lawyer"
    const Clip* clip = nullptr;
    const media::Certificate* certificate = nullptr;
    std::vector<std::string> addresses{"127.0.0.1"};
    std::chrono::steady_clock::time_point origin;
    LoadTotals* totals = nullptr;
    std::uint32_t pace_kbps = 10000;  // frames go out no faster than this (like a browser's pacer)
    std::chrono::microseconds start_offset{0};  // where in the clip's frame grid it starts
  };

  // Called on the media thread: the local description once candidates are
  // gathered (they are written into it), or a failure.
  using DescriptionReady = std::function<void(std::string sdp)>;
  using Failed = std::function<void(std::string reason)>;

  SyntheticPeer(GMainContext* context, Params params, Failed on_failed);
  ~SyntheticPeer() override;
  SyntheticPeer(const SyntheticPeer&) = delete;
  SyntheticPeer& operator=(const SyntheticPeer&) = delete;

  // Offerer: gathers, then hands over an offer (audio + video, BUNDLE,
  // rtcp-mux, actpass, candidates inline). Throws PeerSetupError.
  void create_offer(DescriptionReady ready);
  // Offerer: the remote answer. Throws PeerSetupError for one it cannot use.
  void accept_answer(const std::string& sdp);
  // Answerer: takes a remote offer, gathers, then hands over the answer
  // (setup active: this side is the DTLS client). Throws PeerSetupError.
  void answer_offer(const std::string& sdp, DescriptionReady ready);
  // A trickled remote candidate ("candidate:..."; empty = end). Throws PeerSetupError.
  void add_remote_candidate(const std::string& candidate);

  // Video from the partner has arrived (at least one stamped packet).
  bool receiving() const noexcept { return partner_video_seen_; }
  // Sends what is due by `now` (called every millisecond by the run).
  void tick(std::chrono::steady_clock::time_point now) noexcept;
  void stop_sending() noexcept { sending_ = false; }
  // Retransmits DTLS flights when due (called by the run's timer).
  void service_dtls(std::chrono::steady_clock::time_point now) noexcept;

 private:
  struct Sender {
    const ClipTrack* track = nullptr;
    std::uint8_t payload_type = 0;
    std::uint32_t ssrc = 0;
    std::uint16_t sequence = 0;
    std::uint32_t timestamp_base = 0;
    std::size_t frame = 0;               // clip frame being sent
    std::size_t packet = 0;              // next packet of that frame
    std::chrono::steady_clock::time_point frame_due{};
    std::uint64_t frames_sent = 0;
    std::chrono::microseconds gap{0};    // between packets of this frame
    bool restart_pending = false;
    std::chrono::steady_clock::time_point last_restart{};
  };
  struct Receiver {
    std::uint8_t payload_type = 0;
    bool started = false;
    std::uint16_t highest = 0;
  };

  // IceAgent::Listener
  void on_ice_candidate(const std::string& candidate) override;
  void on_ice_state(media::IceState state) override;
  void on_ice_datagram(std::span<const std::uint8_t> datagram) noexcept override;
  // DtlsTransport::Listener
  void on_dtls_send(std::span<const std::uint8_t> datagram) override;
  void on_dtls_connected(const media::SrtpKeyMaterial& keys) override;
  void on_dtls_failed(const std::string& reason) override;

  void start_ice(media::IceAgent::Role role);
  void use_remote(const std::string& sdp, bool answer);
  std::string local_description(bool offer) const;
  void fail(const std::string& reason);
  void send_due(Sender& sender, std::chrono::steady_clock::time_point now) noexcept;
  // Time between the packets of `frame`: the pacer's rate, or less so that the frame fits its interval.
  std::chrono::microseconds packet_gap(const ClipTrack& track, std::size_t frame) const noexcept;
  void receive_rtp(std::size_t length) noexcept;
  void receive_rtcp(std::size_t length) noexcept;

  GMainContext* context_;
  Params params_;
  Failed on_failed_;
  std::unique_ptr<media::IceAgent> ice_;
  std::unique_ptr<media::DtlsTransport> dtls_;
  std::unique_ptr<media::SrtpSession> srtp_;
  std::vector<std::string> local_candidates_;
  DescriptionReady on_description_;
  bool offering_ = false;
  bool gathered_ = false;
  bool ice_connected_ = false;
  bool dtls_client_ = false;
  bool dtls_started_ = false;
  bool failed_ = false;
  bool sending_ = true;
  bool partner_video_seen_ = false;
  std::vector<std::vector<std::uint8_t>> pending_dtls_;
  std::string remote_offer_;  // the offer we answer (answerer only)
  Sender audio_, video_;
  Receiver audio_in_, video_in_;
  std::array<std::uint8_t, 1500 + media::kSrtpMaxTrailer> buffer_{};
};

}  // namespace huijian::terminals::loadgen
