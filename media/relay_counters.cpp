#include "media/relay_counters.hpp"

namespace huijian::media {

void RelayCounterSet::add_to(RelayCounters& out, const UdpSender::Counters& sent) const noexcept {
  auto get = [](const Counter& c) { return c.load(std::memory_order_relaxed); };
  out.rtp_forwarded += get(rtp_forwarded);
  out.rtcp_forwarded += get(rtcp_forwarded);
  out.audio_forwarded += get(audio_forwarded);
  out.video_forwarded += get(video_forwarded);
  out.nacks_answered += get(nacks_answered);
  out.keyframe_requests += get(keyframe_requests);
  out.dropped_unknown += get(dropped_unknown);
  out.dropped_srtp += get(dropped_srtp);
  out.dropped_unrouted += get(dropped_unrouted);
  out.dropped_malformed += get(dropped_malformed);
  out.dropped_payload_type += get(dropped_payload_type);
  out.dropped_dtls += get(dropped_dtls);
  out.officer_video_forwarded += get(officer_video_forwarded);
  out.officer_audio_sent += get(officer_audio_sent);
  out.officer_voice_forwarded += get(officer_voice_forwarded);
  out.officer_voice_held += get(officer_voice_held);
  out.ice_sockets_taken_over += get(ice.sockets_taken_over);
  out.ice_consent_answered += get(ice.consent_answered);
  out.ice_stun_ignored += get(ice.stun_ignored);
  out.ice_foreign_dropped += get(ice.foreign_dropped);
  out.ice_consent_sent += get(ice.consent_sent);
  out.ice_silent_failed += get(ice.silent_failed);
  out.udp_sent_at_once += get(sent.sent_at_once);
  out.udp_sent_batched += get(sent.sent_batched);
  out.udp_send_batches += get(sent.flushes);
  out.udp_send_failed += get(sent.failed);
}

}  // namespace huijian::media
