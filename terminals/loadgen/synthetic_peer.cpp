#include "terminals/loadgen/synthetic_peer.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <sstream>

#include "media/packet_kind.hpp"
#include "media/rtcp_packet.hpp"
#include "media/rtp_packet.hpp"
#include "media/sdp.hpp"
#include "terminals/loadgen/packet_stamp.hpp"

namespace huijian::terminals::loadgen {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint8_t kOpusPayloadType = 111;
constexpr std::uint8_t kH264PayloadType = 102;
constexpr std::size_t kMaxPendingDtls = 16;
constexpr int kMaxPacketsPerTick = 256;  // per sender and tick: a bound, not a pace
constexpr auto kLateReset = std::chrono::milliseconds(500);
constexpr auto kRestartHoldOff = std::chrono::milliseconds(500);

std::uint32_t random_u32() {
  std::uint32_t value = 0;
  while (value == 0) RAND_bytes(reinterpret_cast<unsigned char*>(&value), sizeof value);
  return value;
}

void put_u16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
void put_u32(std::uint8_t* p, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}

}  // namespace

std::uint64_t nanoseconds_since(Clock::time_point origin) noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - origin).count());
}

SyntheticPeer::SyntheticPeer(GMainContext* context, Params params, Failed on_failed)
    : context_(context), params_(std::move(params)), on_failed_(std::move(on_failed)) {
  if (!params_.clip || !params_.certificate || !params_.totals) throw PeerSetupError("synthetic peer without clip, certificate or totals");
  audio_.track = &params_.clip->audio;
  video_.track = &params_.clip->video;
  audio_.payload_type = kOpusPayloadType;
  video_.payload_type = kH264PayloadType;
  for (Sender* s : {&audio_, &video_}) {
    s->ssrc = random_u32();
    s->sequence = static_cast<std::uint16_t>(random_u32());
    s->timestamp_base = random_u32();
  }
  audio_in_.payload_type = kOpusPayloadType;
  video_in_.payload_type = kH264PayloadType;
}

SyntheticPeer::~SyntheticPeer() = default;

void SyntheticPeer::fail(const std::string& reason) {
  if (failed_) return;
  failed_ = true;
  if (on_failed_) on_failed_(params_.label + ": " + reason);
}

void SyntheticPeer::start_ice(media::IceAgent::Role role) {
  try {
    ice_ = std::make_unique<media::IceAgent>(context_, params_.addresses, 0, 0,
                                             static_cast<media::IceAgent::Listener&>(*this), role);
  } catch (const media::IceError& e) {
    throw PeerSetupError(params_.label + ": " + e.what());
  }
}

void SyntheticPeer::create_offer(DescriptionReady ready) {
  if (ice_) throw PeerSetupError(params_.label + ": already negotiating");
  offering_ = true;
  on_description_ = std::move(ready);
  start_ice(media::IceAgent::Role::Controlling);
  try {
    ice_->gather();
  } catch (const media::IceError& e) {
    throw PeerSetupError(params_.label + ": " + e.what());
  }
}

void SyntheticPeer::answer_offer(const std::string& sdp, DescriptionReady ready) {
  if (ice_) throw PeerSetupError(params_.label + ": already negotiating");
  offering_ = false;
  on_description_ = std::move(ready);
  start_ice(media::IceAgent::Role::Controlled);
  use_remote(sdp, false);
  try {
    ice_->gather();
  } catch (const media::IceError& e) {
    throw PeerSetupError(params_.label + ": " + e.what());
  }
}

void SyntheticPeer::accept_answer(const std::string& sdp) {
  if (!ice_ || !offering_) throw PeerSetupError(params_.label + ": an answer without an offer");
  if (dtls_) throw PeerSetupError(params_.label + ": a second answer");
  use_remote(sdp, true);
}

// Reads the remote description: ICE credentials and candidates, the DTLS
// fingerprint and role, and (for an offer) the payload types to send with.
void SyntheticPeer::use_remote(const std::string& sdp, bool answer) {
  media::SessionDescription remote;
  try {
    remote = media::parse_sdp(sdp);
  } catch (const media::SdpError& e) {
    throw PeerSetupError(params_.label + ": the remote description does not parse: " + e.what());
  }
  const media::MediaSection* first = nullptr;
  for (const auto& section : remote.media)
    if (!first && section.kind != media::MediaKind::Other && !section.rejected) first = &section;
  if (!answer) {
    // Send with the offer's payload types; that is what its author expects.
    std::vector<media::AcceptedSection> accepted;
    try {
      accepted = media::choose_sections(remote);
    } catch (const media::SdpError& e) {
      throw PeerSetupError(params_.label + ": cannot answer the offer: " + e.what());
    }
    for (const auto& a : accepted) {
      if (a.kind == media::MediaKind::Audio) audio_.payload_type = audio_in_.payload_type = a.codec.payload_type;
      if (a.kind == media::MediaKind::Video) video_.payload_type = video_in_.payload_type = a.codec.payload_type;
    }
    remote_offer_ = sdp;  // kept to build the answer from
  }
  if (!first) throw PeerSetupError(params_.label + ": the remote description has no audio or video");
  if (first->fingerprint.empty() || first->fingerprint_algorithm != "sha-256")
    throw PeerSetupError(params_.label + ": the remote description has no sha-256 fingerprint");
  if (answer) {
    if (first->setup == "passive") {
      dtls_client_ = true;
    } else if (first->setup == "active") {
      dtls_client_ = false;
    } else {
      throw PeerSetupError(params_.label + ": the answer's a=setup:" + first->setup + " is neither active nor passive");
    }
  } else {
    if (first->setup != "actpass" && first->setup != "passive")
      throw PeerSetupError(params_.label + ": the offer's a=setup:" + first->setup + " leaves us no DTLS role");
    dtls_client_ = true;  // we answer a=setup:active
  }
  try {
    ice_->set_remote_credentials(first->ice_ufrag, first->ice_pwd);
    dtls_ = std::make_unique<media::DtlsTransport>(
        *params_.certificate, dtls_client_ ? media::DtlsTransport::Role::Client : media::DtlsTransport::Role::Server,
        first->fingerprint, static_cast<media::DtlsTransport::Listener&>(*this));
  } catch (const std::exception& e) {
    throw PeerSetupError(params_.label + ": " + e.what());
  }
  if (!dtls_client_) {
    dtls_started_ = true;
    dtls_->start(Clock::now());
  } else if (ice_connected_) {
    dtls_started_ = true;
    dtls_->start(Clock::now());
  }
  for (const auto& candidate : first->candidates) {
    try {
      ice_->add_remote_candidate(candidate);
    } catch (const media::IceError&) {
      // One unusable candidate is not fatal; ICE fails later if none works.
    }
  }
}

void SyntheticPeer::add_remote_candidate(const std::string& candidate) {
  if (!ice_) throw PeerSetupError(params_.label + ": a candidate before the descriptions");
  try {
    ice_->add_remote_candidate(candidate);
  } catch (const media::IceError& e) {
    throw PeerSetupError(params_.label + ": " + e.what());
  }
}

std::string SyntheticPeer::local_description(bool offer) const {
  std::ostringstream candidates;
  for (const auto& c : local_candidates_) candidates << "a=" << c << "\r\n";
  candidates << "a=end-of-candidates\r\n";
  const std::string fingerprint = params_.certificate->fingerprint_sha256();
  const std::string stream = "hjlg-" + std::to_string(params_.id);
  if (!offer) {
    // Answer with the relay's own answer writer, then add our candidates to the first section.
    auto remote = media::parse_sdp(remote_offer_);
    auto accepted = media::choose_sections(remote);
    media::AnswerParams params;
    params.ice_ufrag = ice_->local_ufrag();
    params.ice_pwd = ice_->local_password();
    params.fingerprint_sha256 = fingerprint;
    params.setup = "active";
    params.cname = stream;
    params.stream_id = stream;
    for (const auto& a : accepted)
      params.outgoing.push_back({a.mid, a.kind == media::MediaKind::Audio ? audio_.ssrc : video_.ssrc,
                                 media::Direction::SendRecv});
    std::string text = media::build_answer(remote, accepted, params);
    const std::string mid_line = "a=mid:" + accepted.front().mid + "\r\n";
    const auto at = text.find(mid_line);
    if (at != std::string::npos) text.insert(at + mid_line.size(), candidates.str());
    return text;
  }
  std::ostringstream s;
  s << "v=0\r\no=- " << (static_cast<std::uint64_t>(audio_.ssrc) << 20 | params_.id) << " 2 IN IP4 127.0.0.1\r\n"
    << "s=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\na=msid-semantic: WMS " << stream << "\r\n";
  auto common = [&](const char* mid) {
    s << "c=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
      << "a=ice-ufrag:" << ice_->local_ufrag() << "\r\na=ice-pwd:" << ice_->local_password() << "\r\n"
      << "a=fingerprint:sha-256 " << fingerprint << "\r\na=setup:actpass\r\na=mid:" << mid << "\r\n";
  };
  s << "m=audio 9 UDP/TLS/RTP/SAVPF " << int{kOpusPayloadType} << "\r\n";
  common("0");
  s << candidates.str();
  s << "a=sendrecv\r\na=msid:" << stream << " audio\r\na=rtcp-mux\r\n"
    << "a=rtpmap:" << int{kOpusPayloadType} << " opus/48000/2\r\n"
    << "a=fmtp:" << int{kOpusPayloadType} << " minptime=10;useinbandfec=1\r\n"
    << "a=ssrc:" << audio_.ssrc << " cname:" << stream << "\r\n"
    << "a=ssrc:" << audio_.ssrc << " msid:" << stream << " audio\r\n";
  s << "m=video 9 UDP/TLS/RTP/SAVPF " << int{kH264PayloadType} << "\r\n";
  common("1");
  s << "a=sendrecv\r\na=msid:" << stream << " video\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
    << "a=rtpmap:" << int{kH264PayloadType} << " H264/90000\r\n"
    << "a=rtcp-fb:" << int{kH264PayloadType} << " nack\r\n"
    << "a=rtcp-fb:" << int{kH264PayloadType} << " nack pli\r\n"
    << "a=rtcp-fb:" << int{kH264PayloadType} << " ccm fir\r\n"
    << "a=fmtp:" << int{kH264PayloadType}
    << " level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    << "a=ssrc:" << video_.ssrc << " cname:" << stream << "\r\n"
    << "a=ssrc:" << video_.ssrc << " msid:" << stream << " video\r\n";
  return s.str();
}

void SyntheticPeer::on_ice_candidate(const std::string& candidate) {
  if (!candidate.empty()) {
    local_candidates_.push_back(candidate);
    return;
  }
  if (gathered_) return;
  gathered_ = true;
  if (local_candidates_.empty()) {
    fail("ICE gathered no candidate on the given addresses");
    return;
  }
  if (on_description_) {
    std::string sdp;
    try {
      sdp = local_description(offering_);
    } catch (const std::exception& e) {
      fail(std::string("cannot write the local description: ") + e.what());
      return;
    }
    auto ready = std::move(on_description_);
    on_description_ = nullptr;
    ready(std::move(sdp));
  }
}

void SyntheticPeer::on_ice_state(media::IceState state) {
  if (state == media::IceState::Failed) {
    fail("ICE failed");
    return;
  }
  if (state != media::IceState::Connected || ice_connected_) return;
  ice_connected_ = true;
  for (const auto& datagram : pending_dtls_) ice_->send(datagram);
  pending_dtls_.clear();
  if (dtls_ && dtls_client_ && !dtls_started_) {
    dtls_started_ = true;
    dtls_->start(Clock::now());
  }
}

void SyntheticPeer::on_dtls_send(std::span<const std::uint8_t> datagram) {
  if (!ice_) return;
  if (ice_->send(datagram) || ice_connected_) return;
  if (pending_dtls_.size() < kMaxPendingDtls) pending_dtls_.emplace_back(datagram.begin(), datagram.end());
}

void SyntheticPeer::on_dtls_connected(const media::SrtpKeyMaterial& keys) {
  try {
    srtp_ = std::make_unique<media::SrtpSession>(keys.profile, keys.local_key_salt, keys.remote_key_salt);
  } catch (const std::exception& e) {
    fail(std::string("SRTP setup failed: ") + e.what());
    return;
  }
  // Start both tracks now, at a keyframe chosen by id (so that meetings do not
  // send their keyframes in step), with a phase offset inside the frame grid.
  const auto now = Clock::now();
  const auto& frames = video_.track->frames;
  std::size_t keyframes = 0;
  for (const auto& f : frames) keyframes += f.keyframe ? 1 : 0;
  std::size_t wanted = keyframes ? params_.id % keyframes : 0;
  video_.frame = 0;
  for (std::size_t i = 0; i < frames.size(); ++i)
    if (frames[i].keyframe && wanted-- == 0) {
      video_.frame = i;
      break;
    }
  for (Sender* s : {&audio_, &video_}) {
    s->frame_due = now + params_.start_offset % s->track->frame_interval;
    s->packet = 0;
    s->frames_sent = 0;
    s->gap = packet_gap(*s->track, s->frame);
  }
}

std::chrono::microseconds SyntheticPeer::packet_gap(const ClipTrack& track, std::size_t frame) const noexcept {
  const auto pace = std::chrono::microseconds(kRtpMtu * 8 * 1000 / std::max<std::uint32_t>(params_.pace_kbps, 1));
  return std::min<std::chrono::microseconds>(pace,
                                             track.frame_interval / static_cast<long>(track.frames[frame].count + 1));
}

void SyntheticPeer::on_dtls_failed(const std::string& reason) { fail("DTLS failed: " + reason); }

void SyntheticPeer::service_dtls(Clock::time_point now) noexcept {
  if (!dtls_ || srtp_ || failed_) return;
  auto next = dtls_->next_timeout();
  if (next && now >= *next) dtls_->handle_timeout(now);
}

void SyntheticPeer::tick(Clock::time_point now) noexcept {
  if (!srtp_ || !sending_ || failed_) return;
  send_due(audio_, now);
  send_due(video_, now);
}

void SyntheticPeer::send_due(Sender& s, Clock::time_point now) noexcept {
  const ClipTrack& track = *s.track;
  LoadTotals& totals = *params_.totals;
  if (now - s.frame_due > kLateReset) {
    // The load generator fell behind (its core is saturated): do not burst to catch up.
    totals.late_resets++;
    s.frame_due = now;
    s.packet = 0;
  }
  for (int budget = kMaxPacketsPerTick; budget > 0; --budget) {
    const ClipFrame& frame = track.frames[s.frame];
    if (s.frame_due + s.gap * static_cast<long>(s.packet) > now) return;
    const ClipPacket& clip_packet = track.packets[frame.first + s.packet];
    const std::size_t length = media::RtpPacket::kFixedHeaderSize + clip_packet.payload.size();
    if (length + media::kSrtpMaxTrailer > buffer_.size()) {
      s.packet++;
    } else {
      std::uint8_t* p = buffer_.data();
      p[0] = 0x80;
      p[1] = static_cast<std::uint8_t>((clip_packet.marker ? 0x80 : 0) | (s.payload_type & 0x7F));
      put_u16(p + 2, s.sequence++);
      const auto elapsed = static_cast<std::uint64_t>(s.frames_sent) * static_cast<std::uint64_t>(track.frame_interval.count());
      put_u32(p + 4, s.timestamp_base + static_cast<std::uint32_t>(elapsed * track.clock_rate / 1'000'000));
      put_u32(p + 8, s.ssrc);
      std::memcpy(p + media::RtpPacket::kFixedHeaderSize, clip_packet.payload.data(), clip_packet.payload.size());
      const std::uint64_t sent_ns = nanoseconds_since(params_.origin);
      const bool stamped = write_stamp(std::span<std::uint8_t>(p + media::RtpPacket::kFixedHeaderSize,
                                                               clip_packet.payload.size()),
                                       PacketStamp{sent_ns, params_.id});
      auto protected_length = srtp_->protect_rtp(buffer_, length);
      if (protected_length && ice_->send(std::span<const std::uint8_t>(buffer_.data(), *protected_length))) {
        totals.rtp_sent++;
        if (stamped && totals.window.contains(sent_ns)) totals.stamped_sent++;
      }
      s.packet++;
    }
    if (s.packet < frame.count) continue;
    // Next frame; a pending keyframe request sends the last keyframe again.
    s.packet = 0;
    s.frames_sent++;
    s.frame_due += track.frame_interval;
    s.frame = (s.frame + 1) % track.frames.size();
    if (s.restart_pending) {
      s.restart_pending = false;
      const std::size_t keyframe = track.keyframe_at_or_before(s.frame);
      if (keyframe != s.frame) {
        s.frame = keyframe;
        totals.keyframe_restarts++;
      }
    }
    s.gap = packet_gap(track, s.frame);
  }
}

void SyntheticPeer::on_ice_datagram(std::span<const std::uint8_t> datagram) noexcept {
  switch (media::classify_datagram(datagram)) {
    case media::PacketKind::Dtls:
      if (dtls_) dtls_->receive(datagram, Clock::now());
      return;
    case media::PacketKind::Rtp:
    case media::PacketKind::Rtcp: {
      if (!srtp_ || datagram.size() > 1500) return;
      const bool rtp = media::classify_datagram(datagram) == media::PacketKind::Rtp;
      std::memcpy(buffer_.data(), datagram.data(), datagram.size());
      auto length = rtp ? srtp_->unprotect_rtp(buffer_, datagram.size()) : srtp_->unprotect_rtcp(buffer_, datagram.size());
      if (!length) {
        params_.totals->undecryptable++;
        return;
      }
      if (rtp)
        receive_rtp(*length);
      else
        receive_rtcp(*length);
      return;
    }
    default:
      return;
  }
}

void SyntheticPeer::receive_rtp(std::size_t length) noexcept {
  auto packet = media::RtpPacket::parse(std::span<std::uint8_t>(buffer_.data(), length));
  if (!packet) return;
  LoadTotals& totals = *params_.totals;
  const std::uint64_t now_ns = nanoseconds_since(params_.origin);
  const bool video = packet->payload_type() == video_in_.payload_type;
  Receiver& in = video ? video_in_ : audio_in_;
  totals.rtp_received++;
  (video ? totals.video_received : totals.audio_received)++;
  const bool arrived_in_window = totals.window.contains(now_ns);
  if (arrived_in_window) {
    totals.arrived_in_window++;
    totals.bytes_in_window += length;
  }
  if (in.started) {
    const auto ahead = static_cast<std::uint16_t>(packet->sequence() - in.highest);
    if (ahead != 0 && ahead < 0x8000) {
      if (arrived_in_window) totals.sequence_gaps += ahead - 1u;
      in.highest = packet->sequence();
    }
  } else {
    in.started = true;
    in.highest = packet->sequence();
  }
  auto stamp = read_stamp(packet->payload());
  if (!stamp) return;
  if (stamp->sender != params_.partner) {
    totals.misrouted++;
    return;
  }
  if (video) partner_video_seen_ = true;
  if (totals.window.contains(stamp->sent_ns)) {
    totals.stamped_received++;
    totals.latency.add(static_cast<std::int64_t>(now_ns - stamp->sent_ns) / 1000);
  }
}

void SyntheticPeer::receive_rtcp(std::size_t length) noexcept {
  LoadTotals& totals = *params_.totals;
  const auto now = Clock::now();
  media::rtcp::for_each_block(std::span<std::uint8_t>(buffer_.data(), length), [&](const media::rtcp::Block& block) {
    if (media::rtcp::is_nack(block)) {
      totals.nacks_received++;
    } else if (media::rtcp::is_keyframe_request(block)) {
      totals.keyframe_requests++;
      if (now - video_.last_restart > kRestartHoldOff) {
        video_.last_restart = now;
        video_.restart_pending = true;
      }
    }
  });
}

}  // namespace huijian::terminals::loadgen
