#pragma once
// Counters of one media worker. Only that worker's thread writes them
// (relaxed atomics, so other threads may read a consistent-enough snapshot).

#include <atomic>
#include <cstdint>

#include "media/ice_agent.hpp"
#include "media/relaxed_counter.hpp"
#include "media/relay.hpp"
#include "media/udp_sender.hpp"

namespace huijian::media {

struct RelayCounterSet {
  using Counter = std::atomic<std::uint64_t>;
  Counter rtp_forwarded{0}, rtcp_forwarded{0}, audio_forwarded{0}, video_forwarded{0};
  Counter nacks_answered{0}, keyframe_requests{0};
  Counter dropped_unknown{0}, dropped_srtp{0}, dropped_unrouted{0}, dropped_malformed{0};
  Counter dropped_payload_type{0};
  Counter dropped_dtls{0};
  Counter officer_video_forwarded{0}, officer_audio_sent{0}, officer_voice_forwarded{0}, officer_voice_held{0};
  IceCounters ice;  // the worker's agents, once they read their selected sockets themselves

  static void bump(Counter& c) noexcept { bump_relaxed(c); }
  // Adds these and the worker's sender's counters to `out`.
  void add_to(RelayCounters& out, const UdpSender::Counters& sent) const noexcept;
};

}  // namespace huijian::media
