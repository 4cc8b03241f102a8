#pragma once
// The per-packet path of one terminal's peer at the relay. It SRTP-unprotects
// what the terminal sends, rewrites SSRC, payload type, sequence number and
// timestamp for the partner leg (the other party of the meeting), protects
// the packet with the partner's SRTP session and sends it through the
// partner's sink, keeping a copy for NACKs. RTCP from the terminal: NACKs are
// answered from this leg's retransmission buffers; reports, keyframe requests
// and REMB go on to the partner with every SSRC mapped. It also NACKs the
// terminal for gaps in its video and sends its own PLI and REMB.
//
// Knows nothing of ICE or DTLS: datagrams come in through receive() and go
// out through a DatagramSink; the SRTP session is handed in when DTLS is done.
// Lives and is used on one thread; receive() and the other noexcept calls do
// not allocate, lock or throw.

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "media/datagram_sink.hpp"
#include "media/packet_kind.hpp"
#include "media/relay_counters.hpp"
#include "media/retransmission_buffer.hpp"
#include "media/rtcp_packet.hpp"
#include "media/sdp.hpp"
#include "media/srtp_session.hpp"
#include "media/stream_rewriter.hpp"
#include "media/video_tap.hpp"

namespace huijian::media {

// What an accepted m-line carries.
enum class SectionRole : std::uint8_t {
  // A terminal's own sound or picture, and the partner's coming back.
  Conversation,
  // Audio: on a terminal's leg the officer's voice the relay sends it while
  // an officer interjects; on an officer's leg the officer's microphone.
  OfficerVoice,
  // Video on an officer's leg: one party's picture, sent by the relay only.
  Picture,
};

class MediaLeg {
 public:
  using Clock = std::chrono::steady_clock;

  // The parties of a meeting as an officer's leg numbers its pictures.
  static constexpr std::size_t kParties = 2;
  // How many officers' legs one terminal's picture may go to at once.
  static constexpr std::size_t kMaxWatchers = kMaxOfficersPerMeeting;

  // One accepted m-line of the terminal's (or officer console's) offer.
  struct SectionConfig {
    MediaKind kind = MediaKind::Audio;
    std::uint8_t payload_type = 0;               // what the terminal uses for the chosen codec
    std::uint32_t out_ssrc = 0;                  // what the relay sends the terminal from
    bool relay_sends = false;                    // the answer lets the relay send on it
    std::vector<std::uint32_t> announced_ssrcs;  // what the offer said the terminal sends
    SectionRole role = SectionRole::Conversation;
    bool relay_receives = true;                  // the answer lets the terminal send on it
    std::uint8_t party = 0;                      // Picture: 0 = lawyer, 1 = detainee
  };

  // `counters` and `sink` must outlive the leg. `video_bitrate_kbps` is the
  // bitrate of the leg's own REMB.
  MediaLeg(RelayCounterSet& counters, DatagramSink& sink, std::uint32_t video_bitrate_kbps);
  ~MediaLeg();
  MediaLeg(const MediaLeg&) = delete;
  MediaLeg& operator=(const MediaLeg&) = delete;

  // Setup, before media flows; allocates (a video section gets a retransmission buffer).
  void add_section(SectionConfig config);
  // The keys DTLS exported for this terminal; from now on the leg is secure.
  void set_srtp(SrtpSession session);
  bool secure() const noexcept { return srtp_ != nullptr; }

  // The leg whose terminal receives this leg's media, and whose media comes here.
  void set_partner(MediaLeg* partner) noexcept { partner_ = partner; }
  MediaLeg* partner() const noexcept { return partner_; }

  // One datagram from the terminal, as the ICE transport delivered it. RTP
  // and RTCP are handled here; STUN and unknown datagrams are counted as
  // dropped_unknown. Returns the kind, so the caller hands DTLS on.
  PacketKind receive(std::span<const std::uint8_t> datagram) noexcept;

  // Where a copy of every valid video RTP packet of this terminal goes, as it
  // arrived (before rewriting), whether or not a partner takes it; null = none.
  void set_video_tap(std::shared_ptr<VideoTap> tap) noexcept { video_tap_ = std::move(tap); }

  // Supervision. An officer's leg (Picture and OfficerVoice sections) is
  // told which terminal legs feed its pictures; each of those terminal legs
  // holds the officer's leg as a watcher. Both sides must be undone before
  // either leg goes away (forget()).
  // Returns false when kMaxWatchers officers already watch this terminal.
  bool add_watcher(MediaLeg* officer, std::uint8_t party) noexcept;
  void set_party(std::uint8_t party, MediaLeg* terminal) noexcept;
  // Drops every link to `other` (as watcher, party or partner).
  void forget(const MediaLeg* other) noexcept;
  // An officer's leg: whether its microphone goes to both parties now.
  void set_voice_open(bool open) noexcept { voice_open_ = open; }
  // An officer's leg: asks both parties' terminals for a keyframe.
  void request_party_keyframes() noexcept;
  // Whether `ssrc` is one this leg sends a picture from (an officer's leg).
  bool sends_picture_ssrc(std::uint32_t ssrc) const noexcept;

  // Asks this terminal for a video keyframe (RTCP PLI), if the leg is secure.
  void request_keyframe() noexcept;
  // Our own REMB to this terminal's video sender, if the leg is secure.
  void send_own_remb() noexcept;
  // When a REMB from the partner was last forwarded to this terminal (epoch if never).
  Clock::time_point last_forwarded_remb() const noexcept { return last_forwarded_remb_; }

 private:
  struct Section {
    SectionConfig config;
    std::optional<std::uint32_t> source_ssrc;  // what the terminal really sends (learned)
    StreamRewriter rewriter;
    std::unique_ptr<RetransmissionBuffer> retransmissions;  // video only
    bool sequence_started = false;
    std::uint16_t highest_sequence = 0;
  };

  void receive_rtp(std::size_t length) noexcept;
  // Sends a plain RTP packet of another leg out on `out` (a section of this
  // leg the relay sends on): copied, rewritten to the section's SSRC, payload
  // type and numbering, protected, kept for NACKs. False if not sent.
  bool send_copy(Section& out, std::span<const std::uint8_t> plain) noexcept;
  void send_picture(std::uint8_t party, std::span<const std::uint8_t> plain) noexcept;
  void send_officer_voice(std::span<const std::uint8_t> plain) noexcept;
  void forward_keyframe_request(std::uint32_t media_ssrc) noexcept;
  void receive_rtcp(std::size_t length) noexcept;
  // The section a packet of this SSRC and payload type belongs to; null (and
  // counted as dropped_payload_type or dropped_unrouted) when there is none.
  Section* incoming_section(std::uint32_t ssrc, std::uint8_t payload_type) noexcept;
  Section* section_of_kind(MediaKind kind) noexcept;
  static std::uint32_t incoming_video_ssrc(const Section& video) noexcept;
  void note_sequence(Section& section, std::uint16_t sequence) noexcept;
  void answer_nack(const rtcp::Block& nack) noexcept;
  std::uint32_t map_ssrc_for_partner(std::uint32_t ssrc) noexcept;
  bool send_own_rtcp(std::span<std::uint8_t> buffer, std::size_t length) noexcept;

  RelayCounterSet& counters_;
  DatagramSink& sink_;
  std::uint32_t video_bitrate_kbps_;
  std::unique_ptr<SrtpSession> srtp_;
  std::vector<Section> sections_;
  MediaLeg* partner_ = nullptr;
  std::shared_ptr<VideoTap> video_tap_;
  struct Watcher {
    MediaLeg* leg = nullptr;
    std::uint8_t party = 0;
  };
  std::array<Watcher, kMaxWatchers> watchers_{};   // officers' legs this terminal's picture goes to
  std::array<MediaLeg*, kParties> parties_{};      // an officer's leg: the terminals it watches
  bool voice_open_ = false;
  Clock::time_point last_forwarded_remb_{};
  // Room for one datagram plus the SRTP trailer; media is decrypted and re-encrypted here in place.
  static constexpr std::size_t kMaxDatagram = 1500;
  static constexpr std::size_t kBufferSize = kMaxDatagram + kSrtpMaxTrailer;
  std::array<std::uint8_t, kBufferSize> packet_{};
  std::array<std::uint8_t, kBufferSize> rtcp_out_{};
  // What another leg's packet is copied into to go out on this leg (pictures, officer voice).
  std::array<std::uint8_t, kBufferSize> copy_{};
};

}  // namespace huijian::media
