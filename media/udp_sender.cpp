#include "media/udp_sender.hpp"

#include <liburing.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "media/context_registry.hpp"

namespace huijian::media {

namespace {

// Room in the submission queue for every slot; completions get twice that.
constexpr unsigned kRingEntries = 2 * UdpSender::kSlots;
constexpr int kSendFlags = MSG_DONTWAIT | MSG_NOSIGNAL;

}  // namespace

std::shared_ptr<UdpSender> UdpSender::for_context(GMainContext* context) {
  static ContextRegistry<UdpSender> registry;
  return registry.get(context, [] { return std::make_shared<UdpSender>(); });
}

UdpSender::UdpSender(bool batching) {
  if (!batching) return;
  auto ring = std::make_unique<io_uring>();
  // Go on past a request that fails to start (SUBMIT_ALL), and run no
  // completion work behind the thread's back (COOP_TASKRUN); an older kernel
  // gets a plain ring.
  int error = io_uring_queue_init(kRingEntries, ring.get(), IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN);
  if (error == -EINVAL) error = io_uring_queue_init(kRingEntries, ring.get(), 0);
  if (error < 0) {
    static bool told = false;
    if (!told) {
      told = true;
      spdlog::warn("[media] io_uring is not available ({}): each datagram is sent by its own sendto()",
                   std::strerror(-error));
    }
    return;
  }
  ring_ = std::move(ring);
  slots_ = std::make_unique<Slot[]>(kSlots);
  free_.reserve(kSlots);
  for (std::uint32_t i = kSlots; i > 0; --i) free_.push_back(i - 1);
}

UdpSender::~UdpSender() {
  if (!ring_) return;
  flush();
  // Anything still in the kernel's hands is cancelled with the ring.
  io_uring_queue_exit(ring_.get());
}

bool UdpSender::send(int fd, const sockaddr* to, socklen_t to_length,
                     std::span<const std::uint8_t> datagram) noexcept {
  if (depth_ > 0 && ring_ && datagram.size() <= kMaxDatagram && to_length <= sizeof(sockaddr_storage)) {
    if (free_.empty()) flush();
    if (!free_.empty() && queue(fd, to, to_length, datagram)) return true;
  }
  const ssize_t sent = ::sendto(fd, datagram.data(), datagram.size(), kSendFlags, to, to_length);
  if (sent == static_cast<ssize_t>(datagram.size())) {
    bump_relaxed(counters_.sent_at_once);
    return true;
  }
  bump_relaxed(counters_.failed);
  return false;
}

bool UdpSender::queue(int fd, const sockaddr* to, socklen_t to_length,
                      std::span<const std::uint8_t> datagram) noexcept {
  io_uring_sqe* request = io_uring_get_sqe(ring_.get());
  if (!request) return false;  // not reached: the queue has room for every slot
  const std::uint32_t index = free_.back();
  free_.pop_back();
  Slot& slot = slots_[index];
  std::memcpy(slot.bytes.data(), datagram.data(), datagram.size());
  std::memcpy(&slot.to, to, to_length);
  slot.length = static_cast<std::uint32_t>(datagram.size());
  slot.vector = iovec{slot.bytes.data(), datagram.size()};
  slot.header = msghdr{};
  slot.header.msg_name = &slot.to;
  slot.header.msg_namelen = to_length;
  slot.header.msg_iov = &slot.vector;
  slot.header.msg_iovlen = 1;
  io_uring_prep_sendmsg(request, fd, &slot.header, kSendFlags);
  io_uring_sqe_set_data64(request, index);
  ++queued_;
  return true;
}

void UdpSender::end_batch() noexcept {
  if (depth_ == 0) return;
  if (--depth_ == 0) flush();
}

void UdpSender::flush() noexcept {
  if (!ring_) return;
  // A ring without SUBMIT_ALL stops at a request that fails to start; the
  // rest go in the next round. What four rounds leave waits for the next flush.
  for (int round = 0; queued_ > 0 && round < 4; ++round) {
    const int submitted = io_uring_submit(ring_.get());
    if (submitted < 0) {
      // Busy (completions not yet read) or interrupted: read them and try again.
      reap();
      continue;
    }
    bump_relaxed(counters_.flushes);
    queued_ -= std::min(static_cast<unsigned>(submitted), queued_);
    reap();
  }
}

void UdpSender::reap() noexcept {
  io_uring_cqe* completion = nullptr;
  unsigned head = 0;
  unsigned seen = 0;
  io_uring_for_each_cqe(ring_.get(), head, completion) {
    const auto index = static_cast<std::uint32_t>(io_uring_cqe_get_data64(completion));
    ++seen;
    if (index >= kSlots) continue;
    if (completion->res == static_cast<int>(slots_[index].length))
      bump_relaxed(counters_.sent_batched);
    else
      bump_relaxed(counters_.failed);
    free_.push_back(index);
  }
  io_uring_cq_advance(ring_.get(), seen);
}

}  // namespace huijian::media
