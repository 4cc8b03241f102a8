// SocketReader on a context of its own, in a thread of its own: UDP datagrams
// on 127.0.0.1 reach the client whether the context waits with one
// epoll_wait() (only the reader's set and GLib's wake-up descriptor to watch)
// or with g_poll() (a pipe watched as well); a wake-up from another thread
// ends a blocking wait; a timer still fires; bursts on many sockets come
// whole and in order, and a client that removes its socket gets no more.
#include "media/socket_reader.hpp"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <glib-unix.h>
#include <netinet/in.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <string>
#include <thread>
#include <vector>

using huijian::media::SocketReader;

namespace {

struct Collector : SocketReader::Client {
  std::vector<std::string> got;
  void on_socket_datagram(std::span<const std::uint8_t> d, const sockaddr_storage&, socklen_t) noexcept override {
    got.emplace_back(d.begin(), d.end());
  }
};

int loopback_socket(sockaddr_in& bound) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  bound = {};
  bound.sin_family = AF_INET;
  bound.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&bound), sizeof bound) == 0);
  socklen_t length = sizeof bound;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) == 0);
  return fd;
}

void send_to(int fd, const sockaddr_in& to, const std::string& text) {
  REQUIRE(::sendto(fd, text.data(), text.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) ==
          static_cast<ssize_t>(text.size()));
}

// Blocking iterations until `done`, at most `limit` (a 20 ms timer keeps a wait from lasting).
template <class Done>
bool iterate_until(GMainContext* context, Done done, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    g_main_context_iteration(context, TRUE);
  }
  return true;
}

gboolean keep_going(gpointer) { return G_SOURCE_CONTINUE; }

// A 20 ms timer on `context`: no blocking iteration lasts longer.
GSource* attach_tick(GMainContext* context) {
  GSource* tick = g_timeout_source_new(20);
  g_source_set_callback(tick, &keep_going, nullptr, nullptr);
  g_source_attach(tick, context);
  return tick;
}

// Runs `body(context)` on a thread of its own, with a context of its own as
// that thread's default: the reader that polls for GLib is the first one
// made on a thread. A failed REQUIRE throws there; it is carried back and
// rethrown here, where Catch expects it.
template <class Body>
void on_own_context(Body body) {
  std::exception_ptr failure;
  std::thread([&failure, &body] {
    GMainContext* context = g_main_context_new();
    g_main_context_push_thread_default(context);
    try {
      body(context);
    } catch (...) {
      failure = std::current_exception();
    }
    g_main_context_pop_thread_default(context);
    g_main_context_unref(context);
  }).join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

TEST_CASE("socket reader: one epoll_wait serves as GLib's poll, and g_poll() takes over when more is watched") {
  on_own_context([](GMainContext* context) {
    GSource* tick = attach_tick(context);

    auto reader = SocketReader::for_context(context);
    sockaddr_in a_address{}, b_address{};
    const int a = loopback_socket(a_address);
    const int b = loopback_socket(b_address);
    Collector collector;
    const auto token = reader->add(b, collector);

    for (int i = 0; i < 3; ++i) send_to(a, b_address, "picture " + std::to_string(i));
    REQUIRE(iterate_until(context, [&] { return collector.got.size() == 3; }, std::chrono::seconds(5)));
    CHECK(collector.got[0] == "picture 0");
    CHECK(collector.got[2] == "picture 2");
    CHECK(reader->epoll_waits() > 0);
    CHECK(reader->glib_polls() == 0);

    // A task posted from another thread ends a wait that has no timer to end it.
    g_source_destroy(tick);
    g_source_unref(tick);
    std::atomic<bool> ran{false};
    const auto posted_at = std::chrono::steady_clock::now();
    std::thread poster([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      g_main_context_invoke(
          context,
          [](gpointer flag) -> gboolean {
            static_cast<std::atomic<bool>*>(flag)->store(true);
            return G_SOURCE_REMOVE;
          },
          &ran);
    });
    // A 5 s timer: were the wake-up lost, the wait would end there, and the check below fail.
    GSource* guard = g_timeout_source_new(5000);
    g_source_set_callback(guard, &keep_going, nullptr, nullptr);
    g_source_attach(guard, context);
    while (!ran.load()) g_main_context_iteration(context, TRUE);
    poster.join();
    CHECK(std::chrono::steady_clock::now() - posted_at < std::chrono::seconds(2));
    g_source_destroy(guard);
    g_source_unref(guard);

    // A pipe watched too: three descriptors, so g_poll(); datagrams still come.
    tick = attach_tick(context);
    int pipe_fds[2];
    REQUIRE(::pipe(pipe_fds) == 0);
    bool pipe_read = false;
    GSource* watch = g_unix_fd_source_new(pipe_fds[0], G_IO_IN);
    g_source_set_callback(
        watch,
        reinterpret_cast<GSourceFunc>(reinterpret_cast<void (*)()>(
            +[](gint fd, GIOCondition, gpointer flag) -> gboolean {
              char c;
              if (::read(fd, &c, 1) == 1) *static_cast<bool*>(flag) = true;
              return G_SOURCE_CONTINUE;
            })),
        &pipe_read, nullptr);
    g_source_attach(watch, context);
    const auto polls_before = reader->glib_polls();
    for (int i = 3; i < 6; ++i) send_to(a, b_address, "picture " + std::to_string(i));
    REQUIRE(::write(pipe_fds[1], "x", 1) == 1);
    REQUIRE(iterate_until(
        context, [&] { return collector.got.size() == 6 && pipe_read; }, std::chrono::seconds(5)));
    CHECK(collector.got[5] == "picture 5");
    CHECK(reader->glib_polls() > polls_before);

    // The pipe no longer watched: back to epoll_wait().
    g_source_destroy(watch);
    g_source_unref(watch);
    const auto waits_before = reader->epoll_waits();
    send_to(a, b_address, "picture 6");
    REQUIRE(iterate_until(context, [&] { return collector.got.size() == 7; }, std::chrono::seconds(5)));
    CHECK(reader->epoll_waits() > waits_before);

    reader->remove(token);
    g_source_destroy(tick);
    g_source_unref(tick);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    ::close(a);
    ::close(b);
  });
}

namespace {

struct Recorder : SocketReader::Client {
  struct Got {
    std::string text;
    std::uint16_t from_port;
    socklen_t from_length;
  };
  std::vector<Got> got;
  SocketReader* reader = nullptr;
  std::uint64_t remove_on_first = 0;  // a token to remove when the first datagram comes
  void on_socket_datagram(std::span<const std::uint8_t> d, const sockaddr_storage& from,
                          socklen_t from_length) noexcept override {
    const auto& in = reinterpret_cast<const sockaddr_in&>(from);
    got.push_back({std::string(d.begin(), d.end()), ntohs(in.sin_port), from_length});
    if (remove_on_first && reader) {
      reader->remove(remove_on_first);
      remove_on_first = 0;
    }
  }
};

}  // namespace

TEST_CASE("socket reader: bursts on many sockets arrive whole and in order, with their senders' addresses") {
  on_own_context([](GMainContext* context) {
    GSource* tick = attach_tick(context);
    auto reader = SocketReader::for_context(context);
    sockaddr_in a_address{};
    const int a = loopback_socket(a_address);

    constexpr int kSockets = 10;
    constexpr int kEach = 5;
    std::vector<int> fds;
    std::vector<sockaddr_in> addresses(kSockets);
    std::vector<Recorder> recorders(kSockets);
    std::vector<std::uint64_t> tokens;
    for (int i = 0; i < kSockets; ++i) {
      fds.push_back(loopback_socket(addresses[static_cast<std::size_t>(i)]));
      tokens.push_back(reader->add(fds.back(), recorders[static_cast<std::size_t>(i)]));
    }
    // The last client removes its own socket at its first datagram: the
    // rest of what that socket holds is not handed out.
    Recorder& quitter = recorders.back();
    quitter.reader = reader.get();
    quitter.remove_on_first = tokens.back();

    // Everything is queued before the context runs: one wake-up finds all of it.
    for (int k = 0; k < kEach; ++k)
      for (int i = 0; i < kSockets; ++i)
        send_to(a, addresses[static_cast<std::size_t>(i)], std::to_string(i) + ":" + std::to_string(k));
    // A datagram longer than the reader takes is dropped and counted; the one after it comes.
    send_to(a, addresses[0], std::string(SocketReader::kMaxDatagram + 1, 'x'));
    send_to(a, addresses[0], "0:after");

    auto done = [&] {
      for (int i = 0; i + 1 < kSockets; ++i)
        if (recorders[static_cast<std::size_t>(i)].got.size() < static_cast<std::size_t>(i == 0 ? kEach + 1 : kEach))
          return false;
      return !quitter.got.empty();
    };
    REQUIRE(iterate_until(context, done, std::chrono::seconds(5)));
    // Late datagrams of the quitter's socket would show in another round.
    for (int round = 0; round < 5; ++round) g_main_context_iteration(context, FALSE);

    for (int i = 0; i + 1 < kSockets; ++i) {
      const auto& got = recorders[static_cast<std::size_t>(i)].got;
      REQUIRE(got.size() == static_cast<std::size_t>(i == 0 ? kEach + 1 : kEach));
      for (int k = 0; k < kEach; ++k) {
        CHECK(got[static_cast<std::size_t>(k)].text == std::to_string(i) + ":" + std::to_string(k));
        CHECK(got[static_cast<std::size_t>(k)].from_port == ntohs(a_address.sin_port));
        CHECK(got[static_cast<std::size_t>(k)].from_length == sizeof(sockaddr_in));
      }
    }
    CHECK(recorders[0].got.back().text == "0:after");
    CHECK(reader->truncated() == 1);
    REQUIRE(quitter.got.size() == 1);
    CHECK(quitter.got[0].text == std::to_string(kSockets - 1) + ":0");

    for (int i = 0; i + 1 < kSockets; ++i) reader->remove(tokens[static_cast<std::size_t>(i)]);
    for (int fd : fds) ::close(fd);
    ::close(a);
    g_source_destroy(tick);
    g_source_unref(tick);
  });
}
