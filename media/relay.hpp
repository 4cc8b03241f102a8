#pragma once
// The relay: one WebRTC peer per terminal, media forwarded between the two
// peers of a linked meeting without decoding. Thread-safe facade: the control
// plane calls it from its own thread; the work happens on media workers (one
// thread and one GMainContext each, a meeting pinned to one worker).

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <memory>
#include <string>
#include <vector>

namespace huijian::media {

class Certificate;
class VideoTap;

struct RelayConfig {
  // Local addresses libnice gathers host candidates on (loopback in tests).
  std::vector<std::string> addresses{"127.0.0.1"};
  std::uint16_t port_min = 0;  // 0,0 = any ephemeral port
  std::uint16_t port_max = 0;
  unsigned workers = 1;
  // The bandwidth estimate (REMB) the relay gives each video sender while the
  // receiving party gives none (GStreamer's webrtcbin does not): without it a
  // browser starts at 300 kbit/s and climbs for half a minute.
  std::uint32_t video_bitrate_kbps = 4000;
};

// How many officer consoles may watch one meeting's pictures at once.
inline constexpr std::size_t kMaxOfficersPerMeeting = 4;

enum class PeerState { New, Checking, Connected, Secure, Failed, Closed };
const char* to_string(PeerState) noexcept;

// Events of one peer, called on a media worker thread: implementations must
// hand them over to their own thread and return quickly.
class PeerEvents {
 public:
  virtual ~PeerEvents() = default;
  // A local ICE candidate as an SDP attribute value without "a=" ("candidate:..."),
  // for the given mid; an empty candidate means gathering is complete.
  virtual void on_local_candidate(const std::string& candidate, const std::string& mid) = 0;
  virtual void on_peer_state(PeerState state, const std::string& detail) = 0;
};

// Thrown by open_peer for an offer the relay cannot accept; what() is for the client.
class OfferError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RelayCounters {
  std::uint64_t peers_open = 0;
  std::uint64_t rtp_forwarded = 0;
  std::uint64_t rtcp_forwarded = 0;
  std::uint64_t audio_forwarded = 0;
  std::uint64_t video_forwarded = 0;
  std::uint64_t nacks_answered = 0;
  std::uint64_t keyframe_requests = 0;
  std::uint64_t dropped_unknown = 0;      // datagrams that are not STUN/DTLS/RTP/RTCP
  std::uint64_t dropped_srtp = 0;         // failed SRTP/SRTCP authentication or replay
  std::uint64_t dropped_unrouted = 0;     // valid media with no linked destination
  std::uint64_t dropped_malformed = 0;    // bad RTP/RTCP after decryption
  std::uint64_t dropped_payload_type = 0; // RTP of a known stream with a payload type the answer did not choose for it
  std::uint64_t dropped_dtls = 0;         // DTLS datagrams refused before OpenSSL or that OpenSSL could not read
  // Supervision. Pictures sent to officers' peers; every other RTP packet
  // that left for an officer's peer, counted at its socket (zero by
  // construction: an officer's peer has no section the relay sends sound on);
  // officer voice packets sent to terminals during an interjection, and those
  // dropped because the officer was not interjecting.
  std::uint64_t officer_video_forwarded = 0;
  std::uint64_t officer_audio_sent = 0;
  std::uint64_t officer_voice_forwarded = 0;
  std::uint64_t officer_voice_held = 0;
  // ICE after the checks (docs/architecture.md, "Receiving"): selected
  // sockets the relay reads itself, consent checks it answered, STUN it
  // refused, and datagrams from addresses that are not a pair's.
  std::uint64_t ice_sockets_taken_over = 0;
  std::uint64_t ice_consent_answered = 0;
  std::uint64_t ice_stun_ignored = 0;
  std::uint64_t ice_foreign_dropped = 0;
  // Our own consent checks to terminals, and pairs failed because the
  // terminal fell silent (nothing heard for 30 s) after the take-over.
  std::uint64_t ice_consent_sent = 0;
  std::uint64_t ice_silent_failed = 0;
  // Datagrams sent once ICE is done (docs/architecture.md, "Sending"): one
  // sendto() each, or in io_uring batches (one system call per batch); and
  // those the kernel refused (a full socket buffer), which are dropped.
  std::uint64_t udp_sent_at_once = 0;
  std::uint64_t udp_sent_batched = 0;
  std::uint64_t udp_send_batches = 0;
  std::uint64_t udp_send_failed = 0;
};

class Relay {
 public:
  Relay(RelayConfig config, const Certificate& dtls_certificate);
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // Creates the peer `peer_id` for a terminal of meeting `meeting_id` from its
  // SDP offer and returns the answer. Throws OfferError for a bad offer and
  // std::invalid_argument if peer_id already exists.
  std::string open_peer(const std::string& peer_id, const std::string& meeting_id,
                        const std::string& offer_sdp, std::shared_ptr<PeerEvents> events);
  // An officer console's peer for watching meeting `meeting_id`: its offer
  // has two video m-lines the relay sends the parties' pictures on (lawyer
  // first) and at most one audio m-line for the officer's microphone. The
  // relay has no way to send it sound. Throws like open_peer.
  struct OfficerAnswer {
    std::string sdp;
    std::string lawyer_mid, detainee_mid;  // the m-lines carrying each picture
  };
  OfficerAnswer open_officer_peer(const std::string& peer_id, const std::string& meeting_id,
                                  const std::string& offer_sdp, std::shared_ptr<PeerEvents> events);
  // The officer's peer gets the pictures of these terminal peers (either may
  // be empty or not yet open: call again once it is) and its microphone goes
  // to their officer-voice sections while set_officer_voice(true). Asks both
  // terminals for a keyframe. Returns false when the officer's peer is
  // unknown, or a terminal already has MediaLeg::kMaxWatchers watchers.
  bool watch(const std::string& officer_peer, const std::string& lawyer_peer, const std::string& detainee_peer);
  // Whether the officer's microphone reaches the parties now (an interjection).
  void set_officer_voice(const std::string& officer_peer, bool open);
  // Adds a trickled remote candidate ("candidate:..."; empty = end of candidates).
  // Throws OfferError when it is malformed or the peer is unknown.
  void add_remote_candidate(const std::string& peer_id, const std::string& candidate,
                            const std::string& mid);
  // Starts forwarding between two open peers (both directions) and asks both
  // senders for a keyframe. Idempotent.
  void link(const std::string& peer_a, const std::string& peer_b);
  void unlink(const std::string& peer_id);
  // From now on a copy of every video RTP packet that peer's terminal sends
  // goes to `tap` (on the media worker's thread); null detaches. Returns
  // false when the peer is unknown. When it returns, the previous tap is no
  // longer called.
  bool set_video_tap(const std::string& peer_id, std::shared_ptr<VideoTap> tap);
  // Asks that peer's terminal for a video keyframe; returns at once, from any
  // thread. Unknown peers are ignored.
  void request_keyframe(const std::string& peer_id);
  void close_peer(const std::string& peer_id);

  RelayCounters counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace huijian::media
