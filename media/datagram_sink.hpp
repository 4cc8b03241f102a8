#pragma once
// Where a MediaLeg sends its datagrams: the selected ICE pair in the relay,
// an in-memory queue in tests, a plain UDP socket in benchmarks.

#include <cstdint>
#include <span>

namespace huijian::media {

class DatagramSink {
 public:
  virtual ~DatagramSink() = default;
  // Sends one datagram; false if it could not be handed on. Called on the
  // per-packet path: must not throw, block, lock or allocate.
  virtual bool send(std::span<const std::uint8_t> datagram) noexcept = 0;
};

}  // namespace huijian::media
