#include "media/socket_reader.hpp"

#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <mutex>
#include <system_error>

namespace huijian::media {

namespace {

struct ReaderSource {
  GSource base;
  SocketReader* reader;
};

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}

std::map<GMainContext*, std::weak_ptr<SocketReader>>& registry() {
  static std::map<GMainContext*, std::weak_ptr<SocketReader>> r;
  return r;
}

}  // namespace

std::shared_ptr<SocketReader> SocketReader::for_context(GMainContext* context) {
  std::lock_guard lock(registry_mutex());
  auto& slot = registry()[context];
  if (auto existing = slot.lock()) return existing;
  std::shared_ptr<SocketReader> made(new SocketReader(context));
  slot = made;
  return made;
}

SocketReader::SocketReader(GMainContext* context)
    : buffers_(std::make_unique<std::array<std::array<std::uint8_t, kMaxDatagram>, kBatch>>()),
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

void SocketReader::read_ready() noexcept {
  constexpr int kEvents = 64;
  epoll_event events[kEvents];
  const int n = ::epoll_wait(epoll_fd_, events, kEvents, 0);
  for (int i = 0; i < n; ++i) read_socket(events[i].data.u64);
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
