#pragma once
// Sends the UDP datagrams of one media worker, in batches where it can.
//
// Each datagram the relay forwards left by its own sendto(): one system call
// per packet, and on a virtual machine a system call costs about a
// microsecond before any work is done. The socket reader drains every ready
// socket in one wake-up, and what that wake-up forwards goes to many sockets
// (one per peer), so sendmmsg(), which takes one socket, does not batch it.
// io_uring does: inside a batch (the reader opens one around each wake-up)
// a datagram is copied into a slot of this sender and queued as a sendmsg
// request, and the end of the batch hands all of them to the kernel with one
// io_uring_enter(). Requests carry MSG_DONTWAIT, so the kernel finishes each
// one during that call: a datagram the socket cannot take is dropped (and
// counted), as sendto() with MSG_DONTWAIT would, never held back.
//
// Outside a batch, or when the kernel gives no io_uring (too old, or a
// seccomp filter refuses it), a datagram leaves at once by sendto().
//
// The socket of a queued datagram must stay open until the batch ends: its
// owner calls flush() before it closes or gives up the socket.
//
// Used on the worker's thread only (the relay makes and drops a worker's
// sender on its own thread, while the worker has no peers).

#include <glib.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "media/relaxed_counter.hpp"

struct io_uring;

namespace huijian::media {

class UdpSender {
 public:
  // The one sender of `context`, made on first use; it lives while some user holds it.
  static std::shared_ptr<UdpSender> for_context(GMainContext* context);
  // A sender of its own (tests); `batching` false never sets up io_uring.
  explicit UdpSender(bool batching = true);
  ~UdpSender();
  UdpSender(const UdpSender&) = delete;
  UdpSender& operator=(const UdpSender&) = delete;

  // Sends `datagram` from socket `fd` to `to`, or queues it inside a batch
  // (one longer than kMaxDatagram is sent at once there too). False when it
  // could be neither sent nor queued.
  bool send(int fd, const sockaddr* to, socklen_t to_length, std::span<const std::uint8_t> datagram) noexcept;

  // Batches nest; the outermost end_batch() flushes.
  void begin_batch() noexcept { ++depth_; }
  void end_batch() noexcept;
  // Hands every queued datagram to the kernel now.
  void flush() noexcept;

  bool batching() const noexcept { return ring_ != nullptr; }

  static constexpr std::size_t kMaxDatagram = 2048;
  // Datagrams queued at most before a batch is flushed early.
  static constexpr unsigned kSlots = 128;

  // Written by the worker's thread only (relaxed atomics, so others may read them).
  struct Counters {
    RelaxedCounter sent_at_once{0};  // sendto(), outside a batch or without io_uring
    RelaxedCounter sent_batched{0};  // io_uring requests that sent the whole datagram
    RelaxedCounter flushes{0};       // io_uring_enter() calls that submitted requests
    RelaxedCounter failed{0};        // datagrams the kernel refused (full socket buffer, gone peer)
  };
  const Counters& counters() const noexcept { return counters_; }

 private:
  struct Slot {
    std::array<std::uint8_t, kMaxDatagram> bytes;
    sockaddr_storage to;
    iovec vector;
    msghdr header;
    std::uint32_t length;
  };
  bool queue(int fd, const sockaddr* to, socklen_t to_length, std::span<const std::uint8_t> datagram) noexcept;
  void reap() noexcept;

  std::unique_ptr<io_uring> ring_;
  std::unique_ptr<Slot[]> slots_;
  std::vector<std::uint32_t> free_;  // indices of slots not in the kernel's hands
  unsigned queued_ = 0;              // requests prepared and not yet submitted
  unsigned depth_ = 0;
  Counters counters_;
};

// Opens a batch of `sender` for the scope.
class UdpSendBatch {
 public:
  explicit UdpSendBatch(UdpSender& sender) noexcept : sender_(sender) { sender_.begin_batch(); }
  ~UdpSendBatch() { sender_.end_batch(); }
  UdpSendBatch(const UdpSendBatch&) = delete;
  UdpSendBatch& operator=(const UdpSendBatch&) = delete;

 private:
  UdpSender& sender_;
};

}  // namespace huijian::media
