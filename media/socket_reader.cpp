#include "media/socket_reader.hpp"

#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include "media/context_registry.hpp"
#include "media/udp_sender.hpp"

namespace huijian::media {

namespace {

struct ReaderSource {
  GSource base;
  SocketReader* reader;
};

// The reader that polls for GLib on this thread (the first one made here).
thread_local std::weak_ptr<SocketReader> t_poller;

// The epoll token of the context's wake-up descriptor; client tokens count up from 1.
constexpr std::uint64_t kWakeupToken = ~std::uint64_t{0};

bool is_eventfd(int fd) {
  char target[64] = {};
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
  return n > 0 && std::strcmp(target, "anon_inode:[eventfd]") == 0;
}

}  // namespace

std::shared_ptr<SocketReader> SocketReader::for_context(GMainContext* context) {
  static ContextRegistry<SocketReader> registry;
  bool fresh = false;
  auto reader = registry.get(context, [&] {
    fresh = true;
    return std::shared_ptr<SocketReader>(new SocketReader(context));
  });
  // The first reader made on this thread polls for GLib here (for_context is called on the context's thread).
  if (fresh && !t_poller.lock()) {
    t_poller = reader;
    g_main_context_set_poll_func(context, &SocketReader::poll_context);
  }
  return reader;
}

SocketReader::SocketReader(GMainContext* context)
    : sender_(UdpSender::for_context(context)),
      buffers_(std::make_unique<std::array<std::array<std::uint8_t, kMaxDatagram>, kBatch>>()),
      messages_(std::make_unique<mmsghdr[]>(kBatch)) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  static GSourceFuncs funcs = {nullptr, nullptr, &SocketReader::dispatch, nullptr, nullptr, nullptr};
  source_ = g_source_new(&funcs, sizeof(ReaderSource));
  reinterpret_cast<ReaderSource*>(source_)->reader = this;
  g_source_set_name(source_, "huijian media sockets");
  g_source_add_unix_fd(source_, epoll_fd_, G_IO_IN);
  // Not blocked around its own dispatch: GLib would otherwise remove and
  // re-add the descriptor each time, and wake the context twice to say so.
  g_source_set_can_recurse(source_, TRUE);
  g_source_attach(source_, context);
  // recvmmsg() writes only msg_len, msg_namelen and msg_flags; the rest stays.
  for (unsigned i = 0; i < kBatch; ++i) {
    vectors_[i] = {(*buffers_)[i].data(), kMaxDatagram};
    msghdr& h = messages_[i].msg_hdr;
    h = msghdr{};
    h.msg_name = &sources_[i];
    h.msg_iov = &vectors_[i];
    h.msg_iovlen = 1;
  }
}

SocketReader::~SocketReader() {
  if (source_) {
    g_source_destroy(source_);
    g_source_unref(source_);
  }
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

std::uint64_t SocketReader::add(int fd, Client& client) {
  const std::uint64_t token = next_token_++;
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = token;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0)
    throw std::system_error(errno, std::generic_category(), "epoll_ctl(ADD)");
  entries_[token] = Entry{fd, &client};
  return token;
}

void SocketReader::remove(std::uint64_t token) noexcept {
  auto it = entries_.find(token);
  if (it == entries_.end()) return;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second.fd, nullptr);
  entries_.erase(it);
  if (token == reading_) reading_removed_ = true;
}

gboolean SocketReader::dispatch(GSource* source, GSourceFunc, gpointer) {
  // A client may drop the last reference from inside its callback.
  const auto keep = reinterpret_cast<ReaderSource*>(source)->reader->weak_from_this().lock();
  if (keep) keep->read_ready();
  return G_SOURCE_CONTINUE;
}

gint SocketReader::poll_context(GPollFD* fds, guint count, gint timeout) {
  if (const auto reader = t_poller.lock()) {
    const int n = reader->poll_for_glib(fds, count, timeout);
    if (n >= 0) return n;
    ++reader->glib_polls_;
    // What an earlier epoll_wait() found and no dispatch took is out of date
    // now: the dispatch after this poll looks at the set afresh.
    reader->ready_count_ = 0;
  }
  return g_poll(fds, count, timeout);
}

int SocketReader::poll_for_glib(GPollFD* fds, guint count, gint timeout) noexcept {
  // GLib polls its wake-up descriptor at the default priority, as this
  // source's: when this set is polled, so is the wake-up descriptor, and a
  // set of two is the pair.
  if (count != 2 || wakeup_refused_) return -1;
  const int mine = fds[0].fd == epoll_fd_ ? 0 : (fds[1].fd == epoll_fd_ ? 1 : -1);
  if (mine < 0) return -1;
  GPollFD& set = fds[mine];
  GPollFD& other = fds[1 - mine];
  if (other.events != G_IO_IN) return -1;
  if (other.fd != wakeup_fd_) {
    if (wakeup_fd_ >= 0 || !adopt_wakeup(other.fd)) return -1;
  }
  const int n = ::epoll_wait(epoll_fd_, ready_.data(), kEvents, timeout);
  if (n < 0) {
    ready_count_ = 0;
    if (errno != EINTR) return -1;
    set.revents = other.revents = 0;
    return 0;
  }
  ++epoll_waits_;
  int sockets = 0;
  bool woken = false;
  for (int i = 0; i < n; ++i) {
    if (ready_[i].data.u64 == kWakeupToken)
      woken = true;
    else
      ready_[sockets++] = ready_[i];
  }
  ready_count_ = sockets;
  set.revents = sockets > 0 ? G_IO_IN : 0;
  other.revents = woken ? G_IO_IN : 0;
  return (sockets > 0 ? 1 : 0) + (woken ? 1 : 0);
}

bool SocketReader::adopt_wakeup(int fd) noexcept {
  if (!is_eventfd(fd)) {
    wakeup_refused_ = true;
    return false;
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kWakeupToken;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
    wakeup_refused_ = true;
    return false;
  }
  wakeup_fd_ = fd;
  return true;
}

void SocketReader::read_ready() noexcept {
  // What the poll found, or (when g_poll() did it) a look at the set now;
  // both are level-triggered, so a socket left unread is reported again.
  epoll_event events[kEvents];
  const UdpSendBatch batch(*sender_);
  int n = ready_count_;
  if (n > 0) {
    std::memcpy(events, ready_.data(), sizeof(epoll_event) * static_cast<std::size_t>(n));
    ready_count_ = 0;
  } else {
    n = ::epoll_wait(epoll_fd_, events, kEvents, 0);
  }
  for (int i = 0; i < n; ++i)
    if (events[i].data.u64 != kWakeupToken) read_socket(events[i].data.u64);
}

void SocketReader::read_socket(std::uint64_t token) noexcept {
  for (unsigned round = 0; round < kMaxBatchesPerWakeup; ++round) {
    auto it = entries_.find(token);
    if (it == entries_.end()) return;
    const int fd = it->second.fd;
    Client* client = it->second.client;
    for (unsigned i = 0; i < kBatch; ++i) messages_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    const int got = ::recvmmsg(fd, messages_.get(), kBatch, MSG_DONTWAIT, nullptr);
    if (got <= 0) return;  // EAGAIN: drained; an error is the socket owner's to see
    reading_ = token;
    reading_removed_ = false;
    for (int i = 0; i < got; ++i) {
      const msghdr& h = messages_[i].msg_hdr;
      if (h.msg_flags & MSG_TRUNC) {
        ++truncated_;
        continue;
      }
      client->on_socket_datagram(std::span<const std::uint8_t>((*buffers_)[i].data(), messages_[i].msg_len),
                                 sources_[i], h.msg_namelen);
      if (reading_removed_) break;
    }
    reading_ = 0;
    if (reading_removed_ || static_cast<unsigned>(got) < kBatch) return;
  }
}

}  // namespace huijian::media
