#pragma once
// The synthetic terminals of one run: a media thread (one GMainContext) that
// owns every SyntheticPeer, paces their senders from a 1 ms timer, and keeps
// the run's totals. Server adapters create peers here and drive their
// signalling; the run measures.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "media/certificate.hpp"
#include "media/media_worker.hpp"
#include "terminals/loadgen/clip_packets.hpp"
#include "terminals/loadgen/load_totals.hpp"
#include "terminals/loadgen/synthetic_peer.hpp"

namespace huijian::terminals::loadgen {

enum class Party { Lawyer, Detainee };
const char* to_string(Party party) noexcept;

class LoadRun {
 public:
  LoadRun(const Clip& clip, std::uint32_t pace_kbps);
  ~LoadRun();
  LoadRun(const LoadRun&) = delete;
  LoadRun& operator=(const LoadRun&) = delete;

  media::MediaWorker& worker() noexcept { return *worker_; }
  std::chrono::steady_clock::time_point origin() const noexcept { return origin_; }

  // On the media thread: the synthetic terminal of `party` in meeting `index`
  // (created on first use; owned by the run). Its id is 2*index (+1 for the
  // detainee) and its partner is the other party of the same meeting.
  SyntheticPeer& peer(std::size_t index, Party party);

  // Any thread. The first failure a peer reported, if any.
  std::string first_failure() const;
  std::size_t failures() const;

  // Media thread: how many peers receive their partner's video.
  std::size_t receiving_peers() const;

  // Media thread: the totals (and their window) of all peers.
  LoadTotals& totals() noexcept { return *totals_; }
  void stop_sending();
  // Media thread: destroys every peer.
  void close_peers();

 private:
  void tick();

  const Clip& clip_;
  std::uint32_t pace_kbps_;
  std::chrono::steady_clock::time_point origin_;
  media::Certificate certificate_;
  std::unique_ptr<LoadTotals> totals_;
  std::map<std::uint32_t, std::unique_ptr<SyntheticPeer>> peers_;  // media thread only
  mutable std::mutex failure_mutex_;
  std::vector<std::string> failures_;
  GSource* timer_ = nullptr;
  std::unique_ptr<media::MediaWorker> worker_;  // last member: its thread stops first
};

}  // namespace huijian::terminals::loadgen
