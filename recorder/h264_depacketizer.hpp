#pragma once
// One party's H.264 RTP stream turned into whole access units (AUs), on the
// recorder's thread: the reordering a jitter buffer does and the RFC 6184
// depayloading (single NAL unit, STAP-A, FU-A), without a GStreamer buffer,
// event or thread per packet. What comes out is one Annex-B AU per picture
// (every NAL behind a 00 00 00 01 start code) with its time, ready for
// h264parse.
//
// Packets are released in sequence order. A missing number is given up on
// once a packet 64 numbers later has arrived, or 100 ms (of arrival time, or
// of the time advance() is given) after the first packet behind the hole
// arrived. A loss, a malformed packet or an AU too big breaks the AU it
// falls in; that AU and every AU after it are dropped until the next
// keyframe AU (one holding an IDR slice), so the files never hold a picture
// the decoder would smear. Each such break is reported once, as the span from
// the last AU written to the keyframe that resumes (or to the last arrival
// when the stream ends first), and asks for a keyframe.
//
// Only slices and parameter sets are written (the NAL types a picture
// needs); SEI, delimiters and the rest are left out and counted. A NAL unit
// holding 00 00 00, 00 00 01 or 00 00 02 (forbidden inside one; in Annex-B
// it would start a NAL unit the sender never sent) breaks its AU.
//
// Nothing is written before the first keyframe AU with SPS and PPS known
// (h264parse cannot start without them; if an earlier, dropped AU brought
// them they are put in front). An exact SPS/PPS repeat after a slice of the
// same AU is left out, so h264parse does not cut the picture in two.
//
// One stream: packets of another SSRC are dropped unless it goes on
// (kSsrcSwitchPackets in a row: the sender started over); a packet far
// behind or far ahead of the sequence is dropped unless the next one follows
// it (the sender numbers anew). A new stream or numbering is a break.
//
// Nothing the sender does can grow memory without bound: at most 64 packets
// wait for reordering (a hole is given up on by then), an AU is at most
// kMaxAccessUnit bytes, a stored parameter set at most kMaxParameterSet.
//
// An AU's time is its RTP time (90 kHz, extended past 32 bits) counted from
// an anchor: the first AU's arrival, moved to an AU's arrival whenever the
// two are more than kReanchorNs apart (the sender paused, or its clock
// jumped). Times only rise, as the muxer needs: one that would not is put
// 1 ms after the last. That assumes no B-frames (WebRTC's H.264 has none).

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

namespace huijian::recorder {

class H264Depacketizer {
 public:
  static constexpr std::size_t kMaxPayload = 1500;
  static constexpr std::size_t kMaxAccessUnit = std::size_t{4} << 20;
  static constexpr std::size_t kMaxParameterSet = 4096;
  // A hole is lost once a packet this many sequence numbers later has arrived;
  // it is also how many packets can wait for one.
  static constexpr std::int64_t kReorderWindow = 64;
  static constexpr std::int64_t kLossAfterNs = 100'000'000;
  // An AU whose RTP time is further than this from its arrival re-anchors the timeline.
  static constexpr std::int64_t kReanchorNs = 500'000'000;
  // Packets of another SSRC are dropped unless this many come in a row: then the sender restarted.
  static constexpr int kSsrcSwitchPackets = 8;
  // A packet this far behind what was released is late, one this far ahead of
  // the highest stray, unless the next packet follows it: then the sender
  // numbers anew (RFC 3550 A.1's thresholds).
  static constexpr std::int64_t kMaxMisorder = 100;
  static constexpr std::int64_t kMaxDropout = 3000;

  struct AccessUnit {
    std::span<const std::uint8_t> data;  // Annex-B; valid during the sink call only
    std::int64_t time_ns = 0;            // on the caller's timeline, strictly rising
    bool keyframe = false;               // holds an IDR slice
  };
  struct Loss {
    std::int64_t from_ms = 0;  // the last AU written before it
    std::int64_t to_ms = 0;    // the keyframe that resumed, or the last arrival
  };
  struct Stats {
    std::uint64_t packets = 0;       // handed to push()
    std::uint64_t malformed = 0;     // bad RTP header, too short, FU without start, bad STAP-A lengths...
    std::uint64_t unsupported = 0;   // packet types other than 1-24 and 28 (STAP-B, MTAP, FU-B, 0, 30, 31)
    std::uint64_t left_out = 0;      // NAL units other than slices and parameter sets (SEI, AUD, extensions...)
    std::uint64_t start_codes_inside = 0;  // NAL units holding 00 00 00/01/02: the AU is broken
    std::uint64_t late = 0;          // duplicates and packets behind what was released
    std::uint64_t foreign = 0;       // of another SSRC, or far ahead of the sequence
    std::uint64_t lost = 0;          // sequence numbers given up on
    std::uint64_t frames = 0;        // AUs handed to the sink
    std::uint64_t dropped_frames = 0;  // AUs broken, or waiting for a keyframe
    std::uint64_t oversized = 0;     // AUs over kMaxAccessUnit
    std::uint64_t repeated_parameter_sets = 0;  // exact SPS/PPS repeats between slices, left out
  };

  using Sink = std::function<void(const AccessUnit&)>;
  explicit H264Depacketizer(Sink sink);
  H264Depacketizer(const H264Depacketizer&) = delete;
  H264Depacketizer& operator=(const H264Depacketizer&) = delete;

  // One RTP packet as received; `arrival_ns` on the caller's timeline (the
  // recording's), never going back. AUs it completes go to the sink at once.
  void push(std::span<const std::uint8_t> packet, std::int64_t arrival_ns);
  // Gives up on holes whose first later packet arrived kLossAfterNs before `now_ns`.
  void advance(std::int64_t now_ns);
  // The stream ends: what waits is released (holes lost), an AU without its
  // end is dropped, a loss not yet resumed is reported up to the last
  // arrival. push() does nothing afterwards.
  void finish();

  std::vector<Loss> take_losses();
  // True once after anything that needs a keyframe: a break, an AU dropped while waiting.
  bool take_keyframe_wanted() noexcept;
  const Stats& stats() const noexcept { return stats_; }

 private:
  struct Held {
    std::int64_t seq = -1;  // extended; -1 = free
    std::int64_t arrival_ns = 0;
    std::uint32_t timestamp = 0;
    bool marker = false;
    std::uint16_t length = 0;
    std::array<std::uint8_t, kMaxPayload> payload;
  };

  // Reordering.
  void restart_sequence();
  void release_ready();
  void release_until(std::int64_t limit);
  void give_up(std::int64_t count);
  void release_by_time(std::int64_t now_ns);
  std::int64_t lowest_held() const noexcept;
  // Depayloading, in sequence order.
  void depayload(std::span<const std::uint8_t> payload, std::uint32_t timestamp, bool marker,
                 std::int64_t arrival_ns);
  void depayload_stap_a(std::span<const std::uint8_t> payload);
  void depayload_fu_a(std::span<const std::uint8_t> payload);
  void whole_nal(std::span<const std::uint8_t> nal);
  bool open_nal(std::uint8_t type, std::span<const std::uint8_t> rest);
  void start_nal(std::uint8_t header, std::span<const std::uint8_t> rest);
  void append(std::span<const std::uint8_t> bytes);
  void nal_done(std::size_t start);
  void begin_au(std::uint32_t timestamp, std::int64_t arrival_ns);
  void end_au();
  void break_au();
  void broken();
  std::int64_t au_time();
  void emit(std::int64_t time_ns);

  Sink sink_;
  Stats stats_;
  bool finished_ = false;

  // The stream: its SSRC, and a possible successor.
  bool have_ssrc_ = false;
  std::uint32_t ssrc_ = 0;
  std::uint32_t candidate_ssrc_ = 0;
  int candidate_count_ = 0;

  // Sequence numbers, extended past 16 bits. Everything below next_ was released or given up on.
  bool have_seq_ = false;
  std::int64_t next_ = 0;
  std::int64_t highest_ = 0;
  bool probing_restart_ = false;
  std::uint16_t restart_probe_ = 0;
  std::vector<Held> held_;  // kReorderWindow slots, indexed by seq % kReorderWindow
  int held_count_ = 0;
  std::int64_t last_arrival_ns_ = 0;

  // The AU being assembled.
  std::vector<std::uint8_t> au_;
  bool in_au_ = false;
  std::uint32_t au_timestamp_ = 0;
  std::int64_t au_arrival_ns_ = 0;
  bool au_nal_seen_ = false;     // its first NAL unit began
  bool au_clean_start_ = false;  // its first packet began with a NAL unit that may begin an AU
  bool au_broken_ = false;
  bool au_oversized_ = false;
  bool au_has_slice_ = false;
  bool au_has_idr_ = false;
  bool au_has_sps_ = false;
  bool au_has_pps_ = false;
  std::optional<std::size_t> au_params_at_;  // where parameter sets go in: before its first NAL unit but an AUD
  bool fu_open_ = false;
  bool fu_keep_ = false;  // the open FU-A's NAL unit is kept (see NalFate)
  std::uint8_t fu_type_ = 0;
  std::size_t fu_start_ = 0;  // where the open FU-A's NAL unit begins in au_

  // The latest parameter sets: the first AU written must carry them for h264parse.
  std::vector<std::uint8_t> sps_;
  std::vector<std::uint8_t> pps_;

  // Times: RTP timestamps extended past 32 bits, anchored on an arrival.
  bool have_timestamp_ = false;
  std::int64_t last_timestamp_ = 0;
  bool anchored_ = false;
  std::int64_t anchor_ns_ = 0;
  std::int64_t anchor_timestamp_ = 0;

  // What was written, and what is missing.
  bool written_any_ = false;
  std::int64_t last_time_ns_ = 0;
  bool waiting_for_keyframe_ = true;  // the stream starts with one
  bool loss_open_ = false;
  std::int64_t loss_from_ns_ = 0;
  std::vector<Loss> losses_;
  bool keyframe_wanted_ = false;
};

}  // namespace huijian::recorder
