// UdpSender with real UDP sockets on 127.0.0.1: outside a batch a datagram
// leaves at once; inside one nothing leaves before the batch ends, then
// everything does, in order per socket, more than the slots hold included;
// a request the kernel refuses is counted and the rest of the batch still
// goes; batches nest; a datagram too long for a slot leaves at once.
#include "media/udp_sender.hpp"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <unistd.h>

#include <glib.h>

#include <optional>
#include <string>
#include <vector>

using huijian::media::UdpSendBatch;
using huijian::media::UdpSender;

namespace {

struct Socket {
  int fd = -1;
  sockaddr_in address{};
  Socket() {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    int size = 4 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    socklen_t length = sizeof address;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  }
  ~Socket() { ::close(fd); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  const sockaddr* to() const { return reinterpret_cast<const sockaddr*>(&address); }

  // The next datagram waiting, without waiting.
  std::optional<std::string> take() const {
    char buffer[4096];
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n < 0) return std::nullopt;
    return std::string(buffer, static_cast<std::size_t>(n));
  }
  std::vector<std::string> drain() const {
    std::vector<std::string> all;
    while (auto d = take()) all.push_back(*d);
    return all;
  }
};

bool send_text(UdpSender& sender, const Socket& from, const Socket& to, const std::string& text) {
  return sender.send(from.fd, to.to(), sizeof(sockaddr_in),
                     std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

std::uint64_t value(const std::atomic<std::uint64_t>& c) { return c.load(); }

}  // namespace

TEST_CASE("udp sender: outside a batch each datagram leaves at once") {
  UdpSender sender;
  Socket a, b;
  REQUIRE(send_text(sender, a, b, "one"));
  CHECK(b.take() == std::optional<std::string>("one"));
  CHECK(value(sender.counters().sent_at_once) == 1);
  CHECK(value(sender.counters().sent_batched) == 0);
}

TEST_CASE("udp sender: a batch leaves when it ends, in order per socket, beyond the slots it has") {
  UdpSender sender;
  if (!sender.batching()) WARN("this kernel gives no io_uring: the sender sends each datagram at once");
  Socket from1, from2, to1, to2;
  constexpr int kEach = static_cast<int>(UdpSender::kSlots) + 60;  // more than the slots: early flushes
  std::vector<std::string> got1, got2;
  {
    const UdpSendBatch batch(sender);
    for (int i = 0; i < kEach; ++i) {
      REQUIRE(send_text(sender, from1, to1, "a" + std::to_string(i)));
      REQUIRE(send_text(sender, from2, to2, "b" + std::to_string(i)));
    }
    got1 = to1.drain();
    got2 = to2.drain();
    if (sender.batching()) {
      // Full slots went early; the last of them are still queued.
      const auto early = got1.size() + got2.size();
      CHECK(early > 0);
      CHECK(early < 2u * kEach);
    }
  }
  for (auto& d : to1.drain()) got1.push_back(d);
  for (auto& d : to2.drain()) got2.push_back(d);
  REQUIRE(got1.size() == static_cast<std::size_t>(kEach));
  REQUIRE(got2.size() == static_cast<std::size_t>(kEach));
  for (int i = 0; i < kEach; ++i) {
    CHECK(got1[static_cast<std::size_t>(i)] == "a" + std::to_string(i));
    CHECK(got2[static_cast<std::size_t>(i)] == "b" + std::to_string(i));
  }
  CHECK(value(sender.counters().failed) == 0);
  if (sender.batching()) {
    CHECK(value(sender.counters().sent_batched) == 2u * kEach);
    CHECK(value(sender.counters().sent_at_once) == 0);
    CHECK(value(sender.counters().flushes) >= 3);
  } else {
    CHECK(value(sender.counters().sent_at_once) == 2u * kEach);
  }
}

TEST_CASE("udp sender: the order of one socket's datagrams is kept and nothing leaves before the batch ends") {
  UdpSender sender;
  Socket from, to;
  {
    const UdpSendBatch batch(sender);
    for (int i = 0; i < 50; ++i) REQUIRE(send_text(sender, from, to, std::to_string(i)));
    if (sender.batching()) CHECK_FALSE(to.take().has_value());
  }
  const auto got = to.drain();
  REQUIRE(got.size() == 50);
  for (int i = 0; i < 50; ++i) CHECK(got[static_cast<std::size_t>(i)] == std::to_string(i));
}

TEST_CASE("udp sender: a refused request is counted and the rest of the batch still goes") {
  UdpSender sender;
  Socket from, to;
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const std::string text = "x";
  const auto bytes = std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
  {
    const UdpSendBatch batch(sender);
    REQUIRE(send_text(sender, from, to, "before"));
    // A pipe is not a socket: the kernel refuses this one (ENOTSOCK).
    const bool queued = sender.send(pipe_fds[1], to.to(), sizeof(sockaddr_in), bytes);
    CHECK(queued == sender.batching());  // without io_uring it fails at once
    REQUIRE(send_text(sender, from, to, "after"));
  }
  CHECK(to.drain() == std::vector<std::string>{"before", "after"});
  CHECK(value(sender.counters().failed) == 1);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

TEST_CASE("udp sender: batches nest, and only the outermost end sends") {
  UdpSender sender;
  if (!sender.batching()) return;
  Socket from, to;
  {
    const UdpSendBatch outer(sender);
    {
      const UdpSendBatch inner(sender);
      REQUIRE(send_text(sender, from, to, "inner"));
    }
    CHECK_FALSE(to.take().has_value());
    REQUIRE(send_text(sender, from, to, "outer"));
  }
  CHECK(to.drain() == std::vector<std::string>{"inner", "outer"});
  sender.end_batch();  // one end too many is ignored
  REQUIRE(send_text(sender, from, to, "later"));
  CHECK(to.take() == std::optional<std::string>("later"));
}

TEST_CASE("udp sender: a datagram longer than a slot leaves at once, inside a batch too") {
  UdpSender sender;
  Socket from, to;
  const std::string big(UdpSender::kMaxDatagram + 100, 'z');
  const UdpSendBatch batch(sender);
  REQUIRE(send_text(sender, from, to, big));
  CHECK(to.take() == std::optional<std::string>(big));
  CHECK(value(sender.counters().sent_at_once) == 1);
}

TEST_CASE("udp sender: without batching every datagram is sent at once") {
  UdpSender sender(false);
  CHECK_FALSE(sender.batching());
  Socket from, to;
  const UdpSendBatch batch(sender);
  REQUIRE(send_text(sender, from, to, "now"));
  CHECK(to.take() == std::optional<std::string>("now"));
}

TEST_CASE("udp sender: one sender per context") {
  GMainContext* context = g_main_context_new();
  auto first = UdpSender::for_context(context);
  auto second = UdpSender::for_context(context);
  CHECK(first.get() == second.get());
  first.reset();
  second.reset();
  g_main_context_unref(context);
}
