#pragma once
// The relay's end of one party's recording: a VideoTap that copies each
// video RTP packet into a queue for the recorder's thread, and keeps an
// account of what came in (SSRC, payload type, count), so a test or an
// operator can see exactly which streams ever entered the recorder.

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

#include "media/video_tap.hpp"
#include "recorder/video_packet_queue.hpp"

namespace huijian::recorder {

struct TapInput {
  std::uint32_t ssrc = 0;
  std::uint8_t payload_type = 0;
  std::uint64_t packets = 0;
};

class PartyTap final : public media::VideoTap {
 public:
  static constexpr std::size_t kQueuePackets = 2048;  // ~4 s of 1080p video at 4 Mbit/s
  static constexpr std::size_t kWatchedStreams = 8;

  PartyTap() : queue_(kQueuePackets) {}

  void on_video_rtp(const media::VideoRtpPacket& packet) noexcept override;

  VideoPacketQueue& queue() noexcept { return queue_; }
  std::uint64_t packets() const noexcept { return packets_.load(std::memory_order_relaxed); }
  std::uint64_t bytes() const noexcept { return bytes_.load(std::memory_order_relaxed); }
  // Distinct (SSRC, payload type) pairs seen, with their counts; more than
  // kWatchedStreams distinct pairs are summed in other_packets().
  std::vector<TapInput> inputs() const;
  std::uint64_t other_packets() const noexcept { return other_.load(std::memory_order_relaxed); }

 private:
  struct Watched {
    std::atomic<std::uint64_t> key{0};  // 1 << 40 | pt << 32 | ssrc; 0 = free
    std::atomic<std::uint64_t> packets{0};
  };
  VideoPacketQueue queue_;
  std::atomic<std::uint64_t> packets_{0};
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::uint64_t> other_{0};
  std::array<Watched, kWatchedStreams> watched_{};
};

}  // namespace huijian::recorder
