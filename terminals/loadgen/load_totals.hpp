#pragma once
// What all synthetic terminals of one run counted. Written on the load
// generator's media thread only; read there too (the run reads it through
// MediaWorker::call).

#include <cstdint>
#include <limits>

#include "terminals/loadgen/latency_histogram.hpp"

namespace huijian::terminals::loadgen {

// The measurement window on the load generator's clock (ns since its start).
struct MeasureWindow {
  std::uint64_t start_ns = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t end_ns = std::numeric_limits<std::uint64_t>::max();
  bool contains(std::uint64_t ns) const noexcept { return ns >= start_ns && ns < end_ns; }
};

struct LoadTotals {
  MeasureWindow window;
  // Whole run.
  std::uint64_t rtp_sent = 0;
  std::uint64_t rtp_received = 0;
  std::uint64_t video_received = 0;
  std::uint64_t audio_received = 0;
  std::uint64_t misrouted = 0;          // a stamp from a terminal other than the partner
  std::uint64_t undecryptable = 0;      // SRTP/SRTCP that failed to unprotect
  std::uint64_t keyframe_requests = 0;  // PLI/FIR received by senders
  std::uint64_t keyframe_restarts = 0;  // senders that jumped back to a keyframe
  std::uint64_t nacks_received = 0;
  std::uint64_t late_resets = 0;        // a sender fell over 500 ms behind (the load generator is saturated)
  // Window: packets stamped with a send time inside it, sent and received;
  // packets that arrived inside it (all RTP), and their bytes.
  std::uint64_t stamped_sent = 0;
  std::uint64_t stamped_received = 0;
  std::uint64_t arrived_in_window = 0;
  std::uint64_t bytes_in_window = 0;
  std::uint64_t sequence_gaps = 0;  // missing sequence numbers seen by receivers inside the window
  LatencyHistogram latency;         // send -> receive, µs, of stamped packets sent inside the window
};

}  // namespace huijian::terminals::loadgen
