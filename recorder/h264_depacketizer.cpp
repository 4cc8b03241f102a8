#include "recorder/h264_depacketizer.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

#include "media/rtp_packet.hpp"
#include "media/wire_bytes.hpp"

namespace huijian::recorder {

namespace {

constexpr std::uint8_t kStartCode[] = {0, 0, 0, 1};
constexpr std::int64_t kNsPerMs = 1'000'000;
constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::max();

// NAL unit types (H.264 table 7-1, RFC 6184 table 1).
constexpr std::uint8_t kSlice = 1;
constexpr std::uint8_t kPartitionA = 2;
constexpr std::uint8_t kIdr = 5;
constexpr std::uint8_t kSei = 6;
constexpr std::uint8_t kSps = 7;
constexpr std::uint8_t kPps = 8;
constexpr std::uint8_t kAud = 9;
constexpr std::uint8_t kStapA = 24;
constexpr std::uint8_t kFuA = 28;

struct RtpPacket {
  std::uint16_t seq = 0;
  std::uint32_t timestamp = 0;
  std::uint32_t ssrc = 0;
  bool marker = false;
  std::span<const std::uint8_t> payload;
};

// The fields the depacketizer uses; nullopt for a bad header or an empty payload.
std::optional<RtpPacket> parse_rtp(std::span<const std::uint8_t> packet) {
  const auto layout = media::rtp_layout(packet);
  if (!layout || layout->payload_size == 0) return std::nullopt;
  RtpPacket out;
  out.marker = (packet[1] & 0x80) != 0;
  out.seq = media::wire::load_u16(&packet[2]);
  out.timestamp = media::wire::load_u32(&packet[4]);
  out.ssrc = media::wire::load_u32(&packet[8]);
  out.payload = packet.subspan(layout->header_size, layout->payload_size);
  return out;
}

// Whether a NAL unit may be the first of an AU (H.264 7.4.1.2.3). `rest` is
// what follows its header. A slice begins one only as the picture's first
// slice: first_mb_in_slice, ue(v), is 0 exactly when its first bit is 1.
// After a loss this tells an AU that starts whole from the tail of one whose
// beginning was lost.
bool may_begin_au(std::uint8_t type, std::span<const std::uint8_t> rest) {
  switch (type) {
    case kSei:
    case kSps:
    case kPps:
    case kAud:
    case 13:
    case 14:
    case 15:
    case 16:
    case 17:
    case 18:
      return true;
    case kSlice:
    case kPartitionA:
    case kIdr:
      return !rest.empty() && (rest[0] & 0x80) != 0;
    default:
      return false;
  }
}

// What the archive keeps of a NAL unit, by type. Only what a picture needs
// reaches h264parse: slices and parameter sets. SEI, access unit delimiters,
// end of sequence or stream, filler and the SVC/MVC extension types carry
// nothing the archive shows, and GStreamer's parser has not been safe with
// every malformed one (a damaged subset SPS, type 15, crashed it), so they are
// left out. Data partitions (2-4, extended profile, never negotiated) are
// part of a picture: the picture is broken without them.
enum class NalFate { Keep, LeaveOut, Break };

NalFate fate_of(std::uint8_t type) {
  switch (type) {
    case kSlice:
    case kIdr:
    case kSps:
    case kPps:
      return NalFate::Keep;
    case kPartitionA:
    case kPartitionA + 1:
    case kPartitionA + 2:
      return NalFate::Break;
    default:
      return NalFate::LeaveOut;
  }
}

// Whether the NAL unit's bytes after its header hold 00 00 00, 00 00 01 or
// 00 00 02, which H.264 (7.4.1) forbids inside a NAL unit: in the Annex-B
// stream handed to h264parse a 00 00 01 would begin a NAL unit the sender
// never sent.
bool holds_start_code(const std::uint8_t* p, std::size_t n) {
  std::size_t i = 0;
  while (i + 2 < n) {
    const void* zero = std::memchr(p + i, 0, n - 2 - i);
    if (!zero) return false;
    i = static_cast<std::size_t>(static_cast<const std::uint8_t*>(zero) - p);
    if (p[i + 1] != 0) {
      i += 2;  // no run of two zeros starts at i or i + 1
    } else if (p[i + 2] <= 2) {
      return true;
    } else {
      i += 3;  // 00 00 03 (the escape) or 00 00 x, x > 3: no run starts before i + 3
    }
  }
  return false;
}

std::int64_t index_of(std::int64_t seq) {
  return ((seq % H264Depacketizer::kReorderWindow) + H264Depacketizer::kReorderWindow) %
         H264Depacketizer::kReorderWindow;
}

}  // namespace

H264Depacketizer::H264Depacketizer(Sink sink) : sink_(std::move(sink)), held_(kReorderWindow) {}

// ---------------------------------------------------------------------------
// Reordering

void H264Depacketizer::push(std::span<const std::uint8_t> packet, std::int64_t arrival_ns) {
  if (finished_) return;
  ++stats_.packets;
  last_arrival_ns_ = std::max(last_arrival_ns_, arrival_ns);
  const auto rtp = parse_rtp(packet);
  if (!rtp || rtp->payload.size() > kMaxPayload) {
    ++stats_.malformed;
    return;
  }

  if (!have_ssrc_) {
    have_ssrc_ = true;
    ssrc_ = rtp->ssrc;
  } else if (rtp->ssrc != ssrc_) {
    // Only a run of one other SSRC is a sender that started over; stray packets
    // (or random bytes) are not.
    if (candidate_count_ > 0 && rtp->ssrc == candidate_ssrc_) {
      ++candidate_count_;
    } else {
      candidate_ssrc_ = rtp->ssrc;
      candidate_count_ = 1;
    }
    if (candidate_count_ < kSsrcSwitchPackets) {
      ++stats_.foreign;
      return;
    }
    restart_sequence();
    ssrc_ = rtp->ssrc;
  }
  candidate_count_ = 0;

  auto extend = [this](std::uint16_t seq) {
    if (!have_seq_) {
      have_seq_ = true;
      next_ = highest_ = seq;
      return std::int64_t{seq};
    }
    return highest_ + static_cast<std::int16_t>(static_cast<std::uint16_t>(seq - static_cast<std::uint16_t>(highest_)));
  };
  std::int64_t seq = extend(rtp->seq);
  const bool far_behind = next_ - seq > kMaxMisorder;
  const bool far_ahead = seq - highest_ > kMaxDropout;
  if (far_behind || far_ahead) {
    // A sender that numbers anew, or a stray packet: only the next packet following it tells.
    if (!probing_restart_ || rtp->seq != restart_probe_) {
      probing_restart_ = true;
      restart_probe_ = static_cast<std::uint16_t>(rtp->seq + 1);
      ++(far_behind ? stats_.late : stats_.foreign);
      return;
    }
    restart_sequence();
    seq = extend(rtp->seq);
  } else if (seq < next_) {
    probing_restart_ = false;
    ++stats_.late;  // late, or a duplicate
    return;
  }
  probing_restart_ = false;

  if (seq >= next_ + kReorderWindow) release_until(seq - kReorderWindow + 1);
  Held& slot = held_[index_of(seq)];
  if (slot.seq == seq) {
    ++stats_.late;
    return;
  }
  highest_ = std::max(highest_, seq);
  if (seq == next_ && held_count_ == 0) {
    // In order with nothing waiting, the usual case: no copy.
    ++next_;
    depayload(rtp->payload, rtp->timestamp, rtp->marker, arrival_ns);
    return;
  }
  slot.seq = seq;
  slot.arrival_ns = arrival_ns;
  slot.timestamp = rtp->timestamp;
  slot.marker = rtp->marker;
  slot.length = static_cast<std::uint16_t>(rtp->payload.size());
  std::copy(rtp->payload.begin(), rtp->payload.end(), slot.payload.begin());
  ++held_count_;
  release_ready();
  if (held_count_ > 0) release_by_time(arrival_ns);
}

void H264Depacketizer::advance(std::int64_t now_ns) {
  if (finished_) return;
  release_ready();
  if (held_count_ > 0) release_by_time(now_ns);
}

void H264Depacketizer::finish() {
  if (finished_) return;
  if (have_seq_) release_until(highest_ + 1);
  if (in_au_) {
    // Its end never came: not footage lost, the stream simply stopped here.
    in_au_ = false;
    ++stats_.dropped_frames;
  }
  if (loss_open_) {
    losses_.push_back({loss_from_ns_ / kNsPerMs, std::max(loss_from_ns_, last_arrival_ns_) / kNsPerMs});
    loss_open_ = false;
  }
  finished_ = true;
}

std::vector<H264Depacketizer::Loss> H264Depacketizer::take_losses() { return std::exchange(losses_, {}); }

bool H264Depacketizer::take_keyframe_wanted() noexcept { return std::exchange(keyframe_wanted_, false); }

// A new stream (another SSRC, or numbers started over): what waits of the old
// one goes out, and its RTP times say nothing about the new one's.
void H264Depacketizer::restart_sequence() {
  if (have_seq_) release_until(highest_ + 1);
  have_seq_ = false;
  probing_restart_ = false;
  break_au();
  have_timestamp_ = false;
  anchored_ = false;
}

void H264Depacketizer::release_ready() {
  while (held_count_ > 0) {
    Held& slot = held_[index_of(next_)];
    if (slot.seq != next_) return;
    slot.seq = -1;  // the payload stays readable until the next push()
    --held_count_;
    ++next_;
    depayload({slot.payload.data(), slot.length}, slot.timestamp, slot.marker, slot.arrival_ns);
  }
}

// Everything below `limit` goes out: held packets in order, the holes as lost.
void H264Depacketizer::release_until(std::int64_t limit) {
  release_ready();
  while (next_ < limit) {
    give_up(std::min(lowest_held(), limit) - next_);
    release_ready();
  }
}

void H264Depacketizer::give_up(std::int64_t count) {
  stats_.lost += static_cast<std::uint64_t>(count);
  next_ += count;
  break_au();
}

void H264Depacketizer::release_by_time(std::int64_t now_ns) {
  while (held_count_ > 0) {
    // The hole is at next_; every held packet is behind it, the earliest
    // arrival among them is when the hole showed.
    std::int64_t first_arrival = kNone;
    for (const Held& h : held_)
      if (h.seq >= 0) first_arrival = std::min(first_arrival, h.arrival_ns);
    if (now_ns - first_arrival < kLossAfterNs) return;
    give_up(lowest_held() - next_);
    release_ready();
  }
}

std::int64_t H264Depacketizer::lowest_held() const noexcept {
  std::int64_t low = kNone;
  if (held_count_ == 0) return low;
  for (const Held& h : held_)
    if (h.seq >= 0) low = std::min(low, h.seq);
  return low;
}

// ---------------------------------------------------------------------------
// Depayloading (RFC 6184, non-interleaved mode)

void H264Depacketizer::depayload(std::span<const std::uint8_t> payload, std::uint32_t timestamp, bool marker,
                                 std::int64_t arrival_ns) {
  if (in_au_ && timestamp != au_timestamp_) end_au();  // a sender that does not mark an AU's last packet
  if (!in_au_) begin_au(timestamp, arrival_ns);
  const std::uint8_t header = payload[0];
  const std::uint8_t type = header & 0x1f;
  if (header & 0x80) {
    // forbidden_zero_bit: the NAL unit is known to be damaged.
    ++stats_.malformed;
    break_au();
  } else if (type >= 1 && type <= 23) {
    whole_nal(payload);
  } else if (type == kStapA) {
    depayload_stap_a(payload);
  } else if (type == kFuA) {
    depayload_fu_a(payload);
  } else {
    ++stats_.unsupported;
    // 0, 30 and 31 are to be ignored; STAP-B, MTAP and FU-B belong to the
    // interleaved mode, never negotiated: the picture they carry is missing.
    if (type != 0 && type < 30) break_au();
  }
  if (marker) end_au();
}

void H264Depacketizer::depayload_stap_a(std::span<const std::uint8_t> payload) {
  // Every length is checked before anything is taken: a bad one spoils the packet.
  std::size_t offset = 1;
  int units = 0;
  bool bad = false;
  while (offset < payload.size() && !bad) {
    if (payload.size() - offset < 2) {
      bad = true;
      break;
    }
    const std::size_t size = media::wire::load_u16(&payload[offset]);
    offset += 2;
    if (size == 0 || size > payload.size() - offset) {
      bad = true;
      break;
    }
    const std::uint8_t type = payload[offset] & 0x1f;
    if ((payload[offset] & 0x80) || type == 0 || type > 23) bad = true;
    offset += size;
    ++units;
  }
  if (bad || units == 0) {
    ++stats_.malformed;
    break_au();
    return;
  }
  offset = 1;
  while (offset < payload.size()) {
    const std::size_t size = media::wire::load_u16(&payload[offset]);
    offset += 2;
    whole_nal(payload.subspan(offset, size));
    offset += size;
  }
}

void H264Depacketizer::depayload_fu_a(std::span<const std::uint8_t> payload) {
  if (payload.size() < 2) {
    ++stats_.malformed;
    break_au();
    return;
  }
  const std::uint8_t indicator = payload[0];
  const std::uint8_t fu = payload[1];
  const bool first = (fu & 0x80) != 0;
  const bool last = (fu & 0x40) != 0;
  const std::uint8_t type = fu & 0x1f;
  if (type == 0 || type > 23) {
    ++stats_.malformed;
    fu_open_ = false;
    break_au();
    return;
  }
  const auto rest = payload.subspan(2);
  if (first) {
    const bool keep = open_nal(type, rest);
    const std::size_t start = au_.size() + sizeof kStartCode;
    if (keep) start_nal(static_cast<std::uint8_t>((indicator & 0xe0) | type), rest);
    fu_open_ = true;
    fu_keep_ = keep;
    fu_type_ = type;
    fu_start_ = start;
  } else {
    // Without its start (lost, or never sent) a fragment is of no use.
    if (!fu_open_ || type != fu_type_) {
      ++stats_.malformed;
      fu_open_ = false;
      break_au();
      return;
    }
    if (fu_keep_) append(rest);
  }
  if (last) {
    fu_open_ = false;
    if (fu_keep_) nal_done(fu_start_);
  }
}

// A NAL unit that came whole (single NAL unit packet, STAP-A).
void H264Depacketizer::whole_nal(std::span<const std::uint8_t> nal) {
  const std::uint8_t type = nal[0] & 0x1f;
  if (!open_nal(type, nal.subspan(1))) return;
  if (au_has_slice_ && (type == kSps || type == kPps)) {
    // A sender that repeats SPS and PPS before every IDR slice (rtph264pay
    // config-interval=-1 does) puts them between the slices of one picture.
    // To h264parse an SPS after a slice begins a new AU: it would cut the
    // picture in two and give the second half a guessed time, which may lie
    // past the next frame's. An exact repeat says nothing new; it is left out.
    const auto& known = type == kSps ? sps_ : pps_;
    if (std::equal(nal.begin(), nal.end(), known.begin(), known.end())) {
      ++stats_.repeated_parameter_sets;
      return;
    }
  }
  const std::size_t start = au_.size() + sizeof kStartCode;
  start_nal(nal[0], nal.subspan(1));
  nal_done(start);
}

// A NAL unit begins (whole, or an FU-A's first fragment): whether it is kept.
// The AU's first NAL unit tells whether the AU starts whole, kept or not.
bool H264Depacketizer::open_nal(std::uint8_t type, std::span<const std::uint8_t> rest) {
  if (fu_open_) {
    // A fragmented NAL unit that never got its end.
    ++stats_.malformed;
    fu_open_ = false;
    break_au();
  }
  if (!au_nal_seen_) {
    au_nal_seen_ = true;
    au_clean_start_ = may_begin_au(type, rest);
  }
  const NalFate fate = fate_of(type);
  if (fate == NalFate::Keep) return true;
  ++stats_.left_out;
  if (fate == NalFate::Break) break_au();
  return false;
}

void H264Depacketizer::start_nal(std::uint8_t header, std::span<const std::uint8_t> rest) {
  const std::uint8_t type = header & 0x1f;
  if (type >= kSlice && type <= kIdr) au_has_slice_ = true;
  if (type == kIdr) au_has_idr_ = true;
  if (type == kSps) au_has_sps_ = true;
  if (type == kPps) au_has_pps_ = true;
  if (type != kAud && !au_params_at_) au_params_at_ = au_.size();
  append(kStartCode);
  append({&header, 1});
  append(rest);
}

void H264Depacketizer::append(std::span<const std::uint8_t> bytes) {
  if (au_oversized_) return;
  const std::size_t need = au_.size() + bytes.size();
  if (need > kMaxAccessUnit) {
    au_oversized_ = true;
    ++stats_.oversized;
    au_.clear();
    break_au();
    return;
  }
  if (need > au_.capacity()) au_.reserve(std::min(std::max(need, 2 * au_.capacity()), kMaxAccessUnit));
  au_.insert(au_.end(), bytes.begin(), bytes.end());
}

// A whole NAL unit now sits at au_[start, end): parameter sets are kept for the first AU written.
void H264Depacketizer::nal_done(std::size_t start) {
  if (au_oversized_ || start >= au_.size()) return;
  if (holds_start_code(au_.data() + start + 1, au_.size() - start - 1)) {
    ++stats_.start_codes_inside;
    break_au();
    return;
  }
  const std::uint8_t type = au_[start] & 0x1f;
  if (type != kSps && type != kPps) return;
  const std::size_t size = au_.size() - start;
  if (size > kMaxParameterSet) return;
  auto& keep = type == kSps ? sps_ : pps_;
  keep.assign(au_.begin() + static_cast<std::ptrdiff_t>(start), au_.end());
}

void H264Depacketizer::begin_au(std::uint32_t timestamp, std::int64_t arrival_ns) {
  in_au_ = true;
  au_.clear();
  au_timestamp_ = timestamp;
  au_arrival_ns_ = arrival_ns;
  au_nal_seen_ = false;
  au_clean_start_ = false;
  au_broken_ = false;
  au_oversized_ = false;
  au_has_slice_ = false;
  au_has_idr_ = false;
  au_has_sps_ = false;
  au_has_pps_ = false;
  au_params_at_.reset();
  fu_open_ = false;
}

void H264Depacketizer::end_au() {
  if (!in_au_) return;
  if (fu_open_ && !au_broken_) {
    ++stats_.malformed;  // the fragmented NAL unit never got its end
    break_au();
  }
  fu_open_ = false;
  in_au_ = false;
  if (au_broken_) {
    ++stats_.dropped_frames;
    return;
  }
  if (au_.empty()) return;  // only NAL units to be ignored
  if (!au_clean_start_) {
    // Its beginning is missing: at the stream's start, after a loss, or the sender's fault.
    ++stats_.dropped_frames;
    broken();
    return;
  }
  const std::int64_t time_ns = au_time();
  if (waiting_for_keyframe_) {
    // h264parse cannot start without the parameter sets; later they are known to it.
    const bool params = written_any_ || ((au_has_sps_ || !sps_.empty()) && (au_has_pps_ || !pps_.empty()));
    if (!au_has_idr_ || !params) {
      ++stats_.dropped_frames;
      keyframe_wanted_ = true;
      return;
    }
  }
  emit(time_ns);
}

// The AU being assembled (if any) is spoilt, and the stream needs a keyframe.
void H264Depacketizer::break_au() {
  if (in_au_) au_broken_ = true;
  broken();
}

void H264Depacketizer::broken() {
  keyframe_wanted_ = true;
  if (waiting_for_keyframe_) return;
  waiting_for_keyframe_ = true;
  loss_open_ = true;
  loss_from_ns_ = last_time_ns_;
}

// anchor + (RTP time - anchor's RTP time) / 90 kHz; re-anchored on the arrival
// when that is over kReanchorNs away: the sender paused, or its clock jumped.
std::int64_t H264Depacketizer::au_time() {
  if (!have_timestamp_) {
    have_timestamp_ = true;
    last_timestamp_ = au_timestamp_;
  } else {
    last_timestamp_ += static_cast<std::int32_t>(au_timestamp_ - static_cast<std::uint32_t>(last_timestamp_));
  }
  if (anchored_) {
    const std::int64_t time_ns = anchor_ns_ + (last_timestamp_ - anchor_timestamp_) * 100'000 / 9;
    if (std::abs(time_ns - au_arrival_ns_) <= kReanchorNs) return time_ns;
  }
  anchored_ = true;
  anchor_ns_ = au_arrival_ns_;
  anchor_timestamp_ = last_timestamp_;
  return au_arrival_ns_;
}

void H264Depacketizer::emit(std::int64_t time_ns) {
  time_ns = std::max<std::int64_t>(time_ns, 0);
  // The muxer needs times that rise.
  if (written_any_ && time_ns <= last_time_ns_) time_ns = last_time_ns_ + kNsPerMs;
  if (waiting_for_keyframe_) {
    waiting_for_keyframe_ = false;
    if (loss_open_) {
      losses_.push_back({loss_from_ns_ / kNsPerMs, time_ns / kNsPerMs});
      loss_open_ = false;
    }
  }
  if (!written_any_ && (!au_has_sps_ || !au_has_pps_)) {
    // The first AU carries the parameter sets an earlier, dropped AU brought
    // (after an access unit delimiter, which must come first).
    std::vector<std::uint8_t> params;
    for (const auto* set : {au_has_sps_ ? nullptr : &sps_, au_has_pps_ ? nullptr : &pps_}) {
      if (!set) continue;
      params.insert(params.end(), std::begin(kStartCode), std::end(kStartCode));
      params.insert(params.end(), set->begin(), set->end());
    }
    au_.insert(au_.begin() + static_cast<std::ptrdiff_t>(au_params_at_.value_or(0)), params.begin(), params.end());
  }
  written_any_ = true;
  last_time_ns_ = time_ns;
  ++stats_.frames;
  sink_(AccessUnit{au_, time_ns, au_has_idr_});
}

}  // namespace huijian::recorder
