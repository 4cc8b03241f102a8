// Two real libnice agents on 127.0.0.1 in one GMainContext: after ICE, each
// takes its selected socket from libnice (SocketReader), still delivers the
// other's datagrams, answers a consent check with a valid STUN response, and
// ignores checks with the wrong password and datagrams from strangers.
#include "media/ice_agent.hpp"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <poll.h>
#include <stun/usages/ice.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using huijian::media::IceAgent;
using huijian::media::IceState;

namespace {

struct Side : IceAgent::Listener {
  std::vector<std::string> candidates;
  bool gathered = false;
  IceState state = IceState::Gathering;
  std::vector<std::string> received;
  void on_ice_candidate(const std::string& c) override {
    if (c.empty())
      gathered = true;
    else
      candidates.push_back(c);
  }
  void on_ice_state(IceState s) override { state = s; }
  void on_ice_datagram(std::span<const std::uint8_t> d) noexcept override {
    received.emplace_back(d.begin(), d.end());
  }
};

bool spin(GMainContext* context, const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    g_main_context_iteration(context, FALSE);
    ::usleep(200);
  }
  return true;
}

std::uint16_t candidate_port(const std::string& candidate) {
  // candidate:<foundation> <component> UDP <priority> <address> <port> typ host
  std::istringstream in(candidate);
  std::string word;
  for (int i = 0; i < 6 && in >> word; ++i) {
  }
  return static_cast<std::uint16_t>(std::stoi(word));
}

// No consent check of their own within a test, unless a test asks for them.
constexpr IceAgent::Liveness kQuiet{std::chrono::seconds(60), std::chrono::seconds(120)};

struct Pair {
  GMainContext* context = g_main_context_new();
  Side a_side, b_side;
  std::unique_ptr<IceAgent> a_owner =
      std::make_unique<IceAgent>(context, std::vector<std::string>{"127.0.0.1"}, 0, 0, a_side,
                                 IceAgent::Role::Controlling);
  std::unique_ptr<IceAgent> b_owner =
      std::make_unique<IceAgent>(context, std::vector<std::string>{"127.0.0.1"}, 0, 0, b_side,
                                 IceAgent::Role::Controlled);
  IceAgent& a = *a_owner;
  IceAgent& b = *b_owner;

  explicit Pair(IceAgent::Liveness a_liveness = kQuiet, IceAgent::Liveness b_liveness = kQuiet) {
    a.set_liveness(a_liveness);
    b.set_liveness(b_liveness);
    a.set_remote_credentials(b.local_ufrag(), b.local_password());
    b.set_remote_credentials(a.local_ufrag(), a.local_password());
    a.gather();
    b.gather();
    REQUIRE(spin(context, [&] { return a_side.gathered && b_side.gathered; }, std::chrono::seconds(5)));
    for (const auto& c : a_side.candidates) b.add_remote_candidate(c);
    for (const auto& c : b_side.candidates) a.add_remote_candidate(c);
    b.add_remote_candidate("");
    a.add_remote_candidate("");
    REQUIRE(spin(context, [&] { return a.reads_own_socket() && b.reads_own_socket(); }, std::chrono::seconds(10)));
  }
  ~Pair() {
    a_owner.reset();
    b_owner.reset();
    g_main_context_unref(context);
  }
};

struct RawSocket {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  explicit RawSocket(std::uint16_t port) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0);
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(port);
  }
  ~RawSocket() { ::close(fd); }
  void send(const std::uint8_t* data, std::size_t length) {
    REQUIRE(::sendto(fd, data, length, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) == static_cast<ssize_t>(length));
  }
  // Iterates the agents' context while waiting for an answer.
  std::vector<std::uint8_t> receive(GMainContext* context, std::chrono::milliseconds limit) {
    std::vector<std::uint8_t> out(2048);
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      g_main_context_iteration(context, FALSE);
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 1) == 1) {
        const ssize_t n = ::recv(fd, out.data(), out.size(), 0);
        if (n > 0) {
          out.resize(static_cast<std::size_t>(n));
          return out;
        }
      }
    }
    return {};
  }
};

struct Check {
  StunAgent agent{};
  StunMessage message{};
  std::uint8_t buffer[STUN_MAX_MESSAGE_SIZE_IPV6];
  std::size_t length = 0;
  std::string password;
  Check(const std::string& username, const std::string& key) : password(key) {
    stun_agent_init(&agent, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                    static_cast<StunAgentUsageFlags>(STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS |
                                                     STUN_AGENT_USAGE_USE_FINGERPRINT));
    length = stun_usage_ice_conncheck_create(
        &agent, &message, buffer, sizeof buffer, reinterpret_cast<const std::uint8_t*>(username.data()),
        username.size(), reinterpret_cast<const std::uint8_t*>(key.data()), key.size(), false, true, 12345, 99,
        nullptr, STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
    REQUIRE(length > 0);
  }
  static bool key(StunAgent*, StunMessage*, std::uint8_t*, std::uint16_t, std::uint8_t** password,
                  std::size_t* length, void* self) {
    auto* c = static_cast<Check*>(self);
    *password = reinterpret_cast<std::uint8_t*>(c->password.data());
    *length = c->password.size();
    return true;
  }
  // True when `answer` is a binding success for this check, integrity and fingerprint valid.
  bool answered_by(std::vector<std::uint8_t>& answer, sockaddr_storage* mapped) {
    StunMessage response{};
    if (stun_agent_validate(&agent, &response, answer.data(), answer.size(), &Check::key, this) !=
        STUN_VALIDATION_SUCCESS)
      return false;
    if (stun_message_get_class(&response) != STUN_RESPONSE) return false;
    socklen_t length = sizeof *mapped;
    return stun_message_find_xor_addr(&response, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, mapped, &length) ==
           STUN_MESSAGE_RETURN_SUCCESS;
  }
};

}  // namespace

TEST_CASE("after ICE both agents read their own sockets and still carry datagrams both ways") {
  Pair p;
  const std::uint8_t to_b[] = {0x80, 0x60, 0x00, 0x01, 'b'};
  const std::uint8_t to_a[] = {0x80, 0x60, 0x00, 0x02, 'a'};
  for (int i = 0; i < 50; ++i) {
    REQUIRE(p.a.send(to_b));
    REQUIRE(p.b.send(to_a));
  }
  REQUIRE(spin(p.context, [&] { return p.a_side.received.size() == 50 && p.b_side.received.size() == 50; },
               std::chrono::seconds(5)));
  CHECK(p.b_side.received.front() == std::string(reinterpret_cast<const char*>(to_b), sizeof to_b));
  CHECK(p.a_side.received.front() == std::string(reinterpret_cast<const char*>(to_a), sizeof to_a));
  CHECK(p.a.connected());
  CHECK(p.b.connected());
}

TEST_CASE("a taken-over agent answers a consent check with a valid STUN success and ignores a wrong password") {
  Pair p;
  const std::uint16_t port = candidate_port(p.b_side.candidates.at(0));
  RawSocket raw(port);

  Check good(p.b.local_ufrag() + ":peer", p.b.local_password());
  raw.send(good.buffer, good.length);
  auto answer = raw.receive(p.context, std::chrono::seconds(2));
  REQUIRE_FALSE(answer.empty());
  sockaddr_storage mapped{};
  REQUIRE(good.answered_by(answer, &mapped));
  sockaddr_in own{};
  socklen_t own_length = sizeof own;
  ::getsockname(raw.fd, reinterpret_cast<sockaddr*>(&own), &own_length);
  CHECK(reinterpret_cast<sockaddr_in&>(mapped).sin_port == own.sin_port);
  CHECK(p.b.counters().consent_answered == 1);

  Check wrong_password(p.b.local_ufrag() + ":peer", "not-the-password-at-all");
  raw.send(wrong_password.buffer, wrong_password.length);
  CHECK(raw.receive(p.context, std::chrono::milliseconds(300)).empty());
  Check wrong_user("someone-else:peer", p.b.local_password());
  raw.send(wrong_user.buffer, wrong_user.length);
  CHECK(raw.receive(p.context, std::chrono::milliseconds(300)).empty());
  CHECK(p.b.counters().stun_ignored == 2);
  CHECK(p.b.counters().consent_answered == 1);
}

TEST_CASE("a taken-over agent drops datagrams from an address that is not the selected pair's") {
  Pair p;
  RawSocket raw(candidate_port(p.b_side.candidates.at(0)));
  const std::uint8_t rtp[] = {0x80, 0x60, 0x00, 0x03, 'x', 'y'};
  const std::uint8_t garbage[] = {0x00, 0x01};  // too short for STUN
  raw.send(rtp, sizeof rtp);
  raw.send(garbage, sizeof garbage);
  REQUIRE(spin(p.context, [&] { return p.b.counters().foreign_dropped == 2; }, std::chrono::seconds(2)));
  CHECK(p.b_side.received.empty());
  // The pair still works.
  REQUIRE(p.a.send(rtp));
  REQUIRE(spin(p.context, [&] { return p.b_side.received.size() == 1; }, std::chrono::seconds(2)));
}

TEST_CASE("a taken-over pair outlives libnice's own 50 s keepalive timeout and keeps consent both ways") {
  // libnice no longer hears the peer once the socket is taken over; its
  // keepalive timeout fails such a pair after 50 s unless the agent ignores it.
  const IceAgent::Liveness checks_every_second{std::chrono::seconds(30), std::chrono::seconds(1)};
  Pair p(checks_every_second, checks_every_second);
  const std::uint8_t to_b[] = {0x80, 0x60, 0x00, 0x01, 'b'};
  const std::uint8_t to_a[] = {0x80, 0x60, 0x00, 0x02, 'a'};
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(56);
  std::size_t sent = 0;
  while (std::chrono::steady_clock::now() < until) {
    REQUIRE(p.a.send(to_b));
    REQUIRE(p.b.send(to_a));
    ++sent;
    spin(p.context, [] { return false; }, std::chrono::milliseconds(100));
  }
  REQUIRE(spin(p.context, [&] { return p.a_side.received.size() == sent && p.b_side.received.size() == sent; },
               std::chrono::seconds(5)));
  CHECK(p.a_side.state == IceState::Connected);
  CHECK(p.b_side.state == IceState::Connected);
  CHECK(p.a.connected());
  CHECK(p.b.connected());
  // About one check a second each way, each answered by the other side.
  CHECK(p.a.counters().consent_sent >= 45);
  CHECK(p.b.counters().consent_sent >= 45);
  CHECK(p.b.counters().consent_answered + 2 >= p.a.counters().consent_sent);
  CHECK(p.a.counters().consent_answered + 2 >= p.b.counters().consent_sent);
  CHECK(p.a.counters().silent_failed == 0);
  CHECK(p.b.counters().silent_failed == 0);
}

TEST_CASE("a taken-over agent whose peer vanished reports Failed after its silence limit, not before") {
  const IceAgent::Liveness two_seconds{std::chrono::seconds(2), std::chrono::milliseconds(500)};
  Pair p(kQuiet, two_seconds);
  const std::uint8_t to_b[] = {0x80, 0x60, 0x00, 0x01, 'b'};
  SECTION("a peer that only answers consent checks is alive") {
    spin(p.context, [] { return false; }, std::chrono::seconds(4));
    CHECK(p.b_side.state == IceState::Connected);
    CHECK(p.a.counters().consent_answered >= 6);
  }
  SECTION("a peer that is gone") {
    // Media for 3 s keeps the pair up, then the peer goes without a word.
    for (int i = 0; i < 30; ++i) {
      REQUIRE(p.a.send(to_b));
      spin(p.context, [] { return false; }, std::chrono::milliseconds(100));
    }
    CHECK(p.b_side.state == IceState::Connected);
    const auto gone = std::chrono::steady_clock::now();
    p.a_owner.reset();
    REQUIRE(spin(p.context, [&] { return p.b_side.state == IceState::Failed; }, std::chrono::seconds(6)));
    const auto took = std::chrono::steady_clock::now() - gone;
    CHECK(took >= std::chrono::milliseconds(1900));
    CHECK(took <= std::chrono::milliseconds(3500));
    CHECK(p.b.counters().silent_failed == 1);
    CHECK_FALSE(p.b.connected());
  }
}
