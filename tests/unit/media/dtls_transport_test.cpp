#include "media/dtls_transport.hpp"

#include <catch2/catch.hpp>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <deque>
#include <functional>
#include <random>
#include <thread>

using huijian::media::Certificate;
using huijian::media::DtlsError;
using huijian::media::DtlsTransport;
using huijian::media::SrtpKeyMaterial;
using huijian::media::SrtpProfile;
using huijian::media::SrtpSession;
using Clock = DtlsTransport::Clock;

namespace {

struct Endpoint : DtlsTransport::Listener {
  std::deque<std::vector<std::uint8_t>> outbox;
  std::size_t largest_datagram = 0;
  std::size_t sent = 0;
  std::optional<SrtpKeyMaterial> keys;
  std::vector<std::string> failures;
  int connected_calls = 0;
  int closed_calls = 0;

  void on_dtls_send(std::span<const std::uint8_t> datagram) override {
    outbox.emplace_back(datagram.begin(), datagram.end());
    largest_datagram = std::max(largest_datagram, datagram.size());
    ++sent;
  }
  void on_dtls_connected(const SrtpKeyMaterial& material) override {
    keys = material;
    ++connected_calls;
  }
  void on_dtls_failed(const std::string& reason) override { failures.push_back(reason); }
  void on_dtls_closed() override { ++closed_calls; }
};

// A filter sees (from_client, index of the datagram sent by that side) and returns true to drop it.
using DropFilter = std::function<bool(bool from_client, std::size_t index)>;

struct Link {
  Link(const Certificate& client_cert, const Certificate& server_cert, std::string client_expects,
       std::string server_expects)
      : client(client_cert, DtlsTransport::Role::Client, std::move(client_expects), client_side),
        server(server_cert, DtlsTransport::Role::Server, std::move(server_expects), server_side) {}

  Endpoint client_side;
  Endpoint server_side;
  DtlsTransport client;
  DtlsTransport server;
  std::size_t client_index = 0;
  std::size_t server_index = 0;
  DropFilter drop = [](bool, std::size_t) { return false; };

  // Delivers queued datagrams both ways until both outboxes are empty (bounded).
  void pump() {
    for (int round = 0; round < 1000 && (!client_side.outbox.empty() || !server_side.outbox.empty()); ++round) {
      if (!client_side.outbox.empty()) {
        auto datagram = std::move(client_side.outbox.front());
        client_side.outbox.pop_front();
        if (!drop(true, client_index++)) server.receive(datagram, Clock::now());
      }
      if (!server_side.outbox.empty()) {
        auto datagram = std::move(server_side.outbox.front());
        server_side.outbox.pop_front();
        if (!drop(false, server_index++)) client.receive(datagram, Clock::now());
      }
    }
  }

  bool settled() const {
    auto done = [](DtlsTransport::State s) { return s != DtlsTransport::State::Handshaking && s != DtlsTransport::State::New; };
    return done(client.state()) && done(server.state());
  }

  // Runs the handshake to its end, firing retransmission timers on the real clock as OpenSSL requires.
  void run(std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    server.start(Clock::now());
    client.start(Clock::now());
    const auto deadline = Clock::now() + limit;
    for (int step = 0; step < 200 && Clock::now() < deadline; ++step) {
      pump();
      if (settled()) return;
      std::optional<Clock::time_point> next;
      for (auto* t : {&client, &server}) {
        if (auto at = t->next_timeout()) next = next ? std::min(*next, *at) : *at;
      }
      if (!next) return;  // nothing pending and not settled: stuck
      std::this_thread::sleep_until(std::min(*next, deadline) + std::chrono::milliseconds(1));
      client.handle_timeout(Clock::now());
      server.handle_timeout(Clock::now());
    }
  }
};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// A self-signed RSA-2048 certificate, like the one GStreamer's webrtcbin generates.
Certificate rsa_certificate() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  REQUIRE(key != nullptr);
  X509* x = X509_new();
  REQUIRE(x != nullptr);
  X509_set_version(x, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 42);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("webrtcbin"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509_set_pubkey(x, key);
  REQUIRE(X509_sign(x, key, EVP_sha256()) > 0);
  // Through PEM, the way a Certificate is built from outside material.
  auto to_pem = [](auto write) {
    BIO* bio = BIO_new(BIO_s_mem());
    write(bio);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    return pem;
  };
  const std::string cert_pem = to_pem([&](BIO* bio) { PEM_write_bio_X509(bio, x); });
  const std::string key_pem =
      to_pem([&](BIO* bio) { PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr); });
  X509_free(x);
  EVP_PKEY_free(key);
  return Certificate::load_pem(cert_pem, key_pem);
}

const Certificate& client_certificate() {
  static const Certificate cert = Certificate::generate("client");
  return cert;
}
const Certificate& server_certificate() {
  static const Certificate cert = Certificate::generate("server");
  return cert;
}

void check_connected_pair(Link& link) {
  REQUIRE(link.client.state() == DtlsTransport::State::Connected);
  REQUIRE(link.server.state() == DtlsTransport::State::Connected);
  REQUIRE(link.client_side.keys);
  REQUIRE(link.server_side.keys);
  const SrtpKeyMaterial& c = *link.client_side.keys;
  const SrtpKeyMaterial& s = *link.server_side.keys;
  CHECK(c.profile == s.profile);
  CHECK(c.local_key_salt.size() == huijian::media::srtp_master_key_length(c.profile));
  CHECK(c.local_key_salt == s.remote_key_salt);
  CHECK(c.remote_key_salt == s.local_key_salt);
  CHECK(c.local_key_salt != c.remote_key_salt);
  CHECK(link.client_side.connected_calls == 1);
  CHECK(link.server_side.connected_calls == 1);
  CHECK(link.client_side.failures.empty());
  CHECK(link.server_side.failures.empty());
  CHECK(link.client_side.largest_datagram <= DtlsTransport::kMtu);
  CHECK(link.server_side.largest_datagram <= DtlsTransport::kMtu);
}

}  // namespace

TEST_CASE("DtlsTransport: client and server complete the handshake and export mirrored SRTP keys", "[dtls]") {
  Link link(client_certificate(), server_certificate(), server_certificate().fingerprint_sha256(),
            client_certificate().fingerprint_sha256());
  CHECK(link.client.state() == DtlsTransport::State::New);
  link.run();
  check_connected_pair(link);
  CHECK(link.client_side.keys->profile == SrtpProfile::AeadAes128Gcm);  // preferred profile
  CHECK(link.client.remote_fingerprint() == server_certificate().fingerprint_sha256());
  CHECK(link.server.remote_fingerprint() == client_certificate().fingerprint_sha256());
  CHECK(link.client_side.largest_datagram <= DtlsTransport::kMtu);
  CHECK(link.server_side.largest_datagram <= DtlsTransport::kMtu);
  CHECK(link.client.counters().retransmissions == 0);
  CHECK_FALSE(link.client.next_timeout());
  CHECK_FALSE(link.server.next_timeout());

  // The exported keys drive SRTP in both directions.
  SrtpSession client_srtp(link.client_side.keys->profile, link.client_side.keys->local_key_salt,
                          link.client_side.keys->remote_key_salt);
  SrtpSession server_srtp(link.server_side.keys->profile, link.server_side.keys->local_key_salt,
                          link.server_side.keys->remote_key_salt);
  std::array<std::uint8_t, 64 + huijian::media::kSrtpMaxTrailer> packet{
      0x80, 0x60, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0xaa, 0xbb, 0xcc, 0xdd,  // RTP header, PT 96, seq 1
      'h',  'e',  'l',  'l',  'o'};
  auto n = client_srtp.protect_rtp(packet, 17);
  REQUIRE(n);
  CHECK(server_srtp.unprotect_rtp(packet, *n) == std::optional<std::size_t>(17));
  n = server_srtp.protect_rtcp(packet, 17);  // not valid RTCP content, but a valid header: V=2
  REQUIRE(n);
  CHECK(client_srtp.unprotect_rtcp(packet, *n) == std::optional<std::size_t>(17));
}

TEST_CASE("DtlsTransport: accepts the SDP fingerprint in lower case with the sha-256 prefix", "[dtls]") {
  Link link(client_certificate(), server_certificate(), "sha-256 " + lower(server_certificate().fingerprint_sha256()),
            lower(client_certificate().fingerprint_sha256()));
  link.run();
  check_connected_pair(link);
}

TEST_CASE("DtlsTransport: fails when the remote fingerprint does not match the SDP", "[dtls]") {
  const Certificate stranger = Certificate::generate("stranger");
  SECTION("the client checks the server") {
    Link link(client_certificate(), server_certificate(), stranger.fingerprint_sha256(),
              client_certificate().fingerprint_sha256());
    link.run();
    CHECK(link.client.state() == DtlsTransport::State::Failed);
    REQUIRE(link.client_side.failures.size() == 1);
    CHECK(link.client_side.failures[0] == "remote certificate fingerprint does not match the SDP");
    CHECK_FALSE(link.client_side.keys);
    CHECK_FALSE(link.server_side.keys);  // the server got an alert instead of a Finished
    CHECK(link.server.state() == DtlsTransport::State::Failed);
    CHECK(link.server_side.failures.size() == 1);
  }
  SECTION("the server checks the client") {
    Link link(client_certificate(), server_certificate(), server_certificate().fingerprint_sha256(),
              stranger.fingerprint_sha256());
    link.run();
    CHECK(link.server.state() == DtlsTransport::State::Failed);
    REQUIRE(link.server_side.failures.size() == 1);
    CHECK(link.server_side.failures[0] == "remote certificate fingerprint does not match the SDP");
    CHECK_FALSE(link.server_side.keys);
    CHECK_FALSE(link.client_side.keys);
    CHECK(link.client.state() == DtlsTransport::State::Failed);
  }
}

TEST_CASE("DtlsTransport: the handshake survives dropped flights through handle_timeout", "[dtls]") {
  Link link(client_certificate(), server_certificate(), server_certificate().fingerprint_sha256(),
            client_certificate().fingerprint_sha256());
  link.client.set_initial_retransmission_timeout(std::chrono::milliseconds(20));
  link.server.set_initial_retransmission_timeout(std::chrono::milliseconds(20));
  std::size_t dropped = 0;
  SECTION("the ClientHello is lost once") {
    link.drop = [&](bool from_client, std::size_t index) {
      const bool lose = from_client && index == 0;
      dropped += lose;
      return lose;
    };
  }
  SECTION("the server's first flight is lost once") {
    link.drop = [&](bool from_client, std::size_t index) {
      const bool lose = !from_client && index == 0;
      dropped += lose;
      return lose;
    };
  }
  SECTION("the client's Finished flight is lost once") {
    // Client flights: [0] ClientHello, then Certificate..Finished (one or more datagrams).
    link.drop = [&](bool from_client, std::size_t index) {
      const bool lose = from_client && index >= 1 && dropped < 1;
      dropped += lose;
      return lose;
    };
  }
  SECTION("the server's last flight is lost once") {
    link.drop = [&](bool from_client, std::size_t) {
      // The server's last flight (ChangeCipherSpec, Finished) is what it sends once it is connected.
      const bool lose = !from_client && link.server.state() == DtlsTransport::State::Connected && dropped == 0;
      dropped += lose;
      return lose;
    };
  }
  link.run();
  CHECK(dropped == 1);
  check_connected_pair(link);
  CHECK(link.client.counters().retransmissions + link.server.counters().retransmissions >= 1);
}

TEST_CASE("DtlsTransport: next_timeout is relative to the caller's clock", "[dtls]") {
  Link link(client_certificate(), server_certificate(), server_certificate().fingerprint_sha256(),
            client_certificate().fingerprint_sha256());
  const Clock::time_point fake_now{std::chrono::hours(1000)};
  CHECK_FALSE(link.client.next_timeout());
  link.client.start(fake_now);
  const auto at = link.client.next_timeout();
  REQUIRE(at);
  CHECK(*at > fake_now);
  CHECK(*at <= fake_now + std::chrono::seconds(1));  // default initial timeout
  // Called early, nothing is retransmitted.
  link.client_side.outbox.clear();
  link.client.handle_timeout(fake_now);
  CHECK(link.client_side.outbox.empty());
  CHECK(link.client.counters().retransmissions == 0);
}

TEST_CASE("DtlsTransport: garbage datagrams neither crash nor connect", "[dtls]") {
  Link link(client_certificate(), server_certificate(), server_certificate().fingerprint_sha256(),
            client_certificate().fingerprint_sha256());
  std::mt19937 random(1234);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> size(0, 1500);
  std::uint64_t not_dtls_shaped = 2;  // the oversized and the empty datagram below
  for (int i = 0; i < 2000; ++i) {
    std::vector<std::uint8_t> datagram(static_cast<std::size_t>(size(random)));
    for (auto& b : datagram) b = static_cast<std::uint8_t>(byte(random));
    if (!datagram.empty() && i % 2 == 0) datagram[0] = static_cast<std::uint8_t>(20 + i % 4);  // DTLS-shaped
    if (datagram.size() >= 3 && i % 4 == 0) {
      datagram[1] = 0xfe;  // DTLS 1.2 version bytes
      datagram[2] = 0xfd;
    }
    // RFC 7983: DTLS is 20..63 in the first byte; a record header is 13 bytes.
    not_dtls_shaped += datagram.size() < 13 || datagram[0] < 20 || datagram[0] > 63;
    link.server.receive(datagram, Clock::now());
    link.client.receive(datagram, Clock::now());
  }
  link.server.receive(std::vector<std::uint8_t>(70000, 22), Clock::now());  // oversized
  link.server.receive({}, Clock::now());
  CHECK(link.server.state() != DtlsTransport::State::Connected);
  CHECK(link.client.state() == DtlsTransport::State::New);  // a client ignores everything before start()
  CHECK_FALSE(link.server_side.keys);
  CHECK_FALSE(link.client_side.keys);
  CHECK(link.server.counters().datagrams_received == 2002);
  CHECK(not_dtls_shaped > 500);
  CHECK(link.server.counters().datagrams_ignored >= not_dtls_shaped);
  CHECK(link.client.counters().datagrams_ignored == 2000);
}

TEST_CASE("DtlsTransport: garbage after the handshake leaves the connection up", "[dtls]") {
  Link link(client_certificate(), server_certificate(), server_certificate().fingerprint_sha256(),
            client_certificate().fingerprint_sha256());
  link.run();
  check_connected_pair(link);
  std::mt19937 random(99);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 500; ++i) {
    std::vector<std::uint8_t> datagram(13 + static_cast<std::size_t>(i));
    for (auto& b : datagram) b = static_cast<std::uint8_t>(byte(random));
    datagram[0] = static_cast<std::uint8_t>(20 + i % 4);  // change_cipher_spec, alert, handshake, application_data
    datagram[1] = 0xfe;
    datagram[2] = 0xfd;
    link.server.receive(datagram, Clock::now());
    link.client.receive(datagram, Clock::now());
  }
  link.pump();
  CHECK(link.client.state() == DtlsTransport::State::Connected);
  CHECK(link.server.state() == DtlsTransport::State::Connected);
  CHECK(link.client_side.connected_calls == 1);
  CHECK(link.client_side.failures.empty());
}

TEST_CASE("DtlsTransport: well-formed forged records after the handshake leave the connection up", "[dtls]") {
  // Records with a consistent header (as an attacker who spoofs the peer's
  // address would send them): each content type, epochs 0, 1 and 2.
  const int type = GENERATE(20, 21, 22, 23, 24, 63);
  const int epoch = GENERATE(0, 1, 2);
  Link link(client_certificate(), server_certificate(), server_certificate().fingerprint_sha256(),
            client_certificate().fingerprint_sha256());
  link.run();
  check_connected_pair(link);
  std::mt19937 random(static_cast<unsigned>(type * 7 + epoch));
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 50; ++i) {
    const std::size_t body = 1 + static_cast<std::size_t>(i) * 7;  // also shorter than nonce + tag
    std::vector<std::uint8_t> datagram(13 + body);
    for (auto& b : datagram) b = static_cast<std::uint8_t>(byte(random));
    datagram[0] = static_cast<std::uint8_t>(type);
    datagram[1] = 0xfe;
    datagram[2] = 0xfd;
    datagram[3] = 0;
    datagram[4] = static_cast<std::uint8_t>(epoch);
    datagram[11] = static_cast<std::uint8_t>(body >> 8);
    datagram[12] = static_cast<std::uint8_t>(body);
    if (type == 22 && epoch == 0) datagram[13] = 1;  // a ClientHello
    link.server.receive(datagram, Clock::now());
    link.client.receive(datagram, Clock::now());
  }
  link.pump();
  INFO("content type " << type << ", epoch " << epoch);
  CHECK(link.client.state() == DtlsTransport::State::Connected);
  CHECK(link.server.state() == DtlsTransport::State::Connected);
  CHECK(link.client_side.failures.empty());
  CHECK(link.server_side.failures.empty());
  if (epoch != 0) CHECK(link.server.counters().datagrams_malformed > 0);  // the too-short ones
  // The real peer's records still work: a close_notify is understood.
  link.client.close();
  link.pump();
  CHECK(link.server.state() == DtlsTransport::State::Closed);
  CHECK(link.server_side.closed_calls == 1);
}

TEST_CASE("DtlsTransport: close sends close_notify and the peer moves to Closed", "[dtls]") {
  Link link(client_certificate(), server_certificate(), server_certificate().fingerprint_sha256(),
            client_certificate().fingerprint_sha256());
  link.run();
  check_connected_pair(link);
  link.client.close();
  CHECK(link.client.state() == DtlsTransport::State::Closed);
  link.pump();
  CHECK(link.server.state() == DtlsTransport::State::Closed);
  CHECK(link.server_side.closed_calls == 1);
  CHECK(link.client_side.closed_calls == 0);  // local close is not reported back
  CHECK(link.server_side.failures.empty());
  CHECK(link.client_side.failures.empty());
}

TEST_CASE("DtlsTransport: interoperates with an RSA certificate on either side", "[dtls]") {
  const Certificate rsa = rsa_certificate();
  SECTION("RSA server (ECDHE-RSA)") {
    Link link(client_certificate(), rsa, rsa.fingerprint_sha256(), client_certificate().fingerprint_sha256());
    link.run();
    check_connected_pair(link);
  }
  SECTION("RSA client") {
    Link link(rsa, server_certificate(), server_certificate().fingerprint_sha256(), rsa.fingerprint_sha256());
    link.run();
    check_connected_pair(link);
  }
}

TEST_CASE("DtlsTransport: rejects a malformed SDP fingerprint", "[dtls]") {
  Endpoint endpoint;
  const Certificate& cert = client_certificate();
  using Role = DtlsTransport::Role;
  CHECK_THROWS_AS(DtlsTransport(cert, Role::Client, "", endpoint), DtlsError);
  CHECK_THROWS_AS(DtlsTransport(cert, Role::Client, "AB:CD", endpoint), DtlsError);
  std::string bad = cert.fingerprint_sha256();
  bad[0] = 'G';
  CHECK_THROWS_AS(DtlsTransport(cert, Role::Client, bad, endpoint), DtlsError);
  bad = cert.fingerprint_sha256();
  bad[2] = '-';
  CHECK_THROWS_AS(DtlsTransport(cert, Role::Client, bad, endpoint), DtlsError);
  CHECK_THROWS_AS(DtlsTransport(cert, Role::Client, "sha-1 " + cert.fingerprint_sha256(), endpoint), DtlsError);
  CHECK_NOTHROW(DtlsTransport(cert, Role::Client, " " + cert.fingerprint_sha256() + "\r\n", endpoint));
}

TEST_CASE("DtlsTransport: the retransmission timeout can only be set before start", "[dtls]") {
  Endpoint endpoint;
  DtlsTransport t(client_certificate(), DtlsTransport::Role::Client, server_certificate().fingerprint_sha256(),
                  endpoint);
  CHECK_THROWS_AS(t.set_initial_retransmission_timeout(std::chrono::milliseconds(0)), DtlsError);
  CHECK_THROWS_AS(t.set_initial_retransmission_timeout(std::chrono::minutes(2)), DtlsError);
  t.set_initial_retransmission_timeout(std::chrono::milliseconds(100));
  t.start(Clock::now());
  CHECK(endpoint.sent >= 1);  // the ClientHello
  CHECK(t.state() == DtlsTransport::State::Handshaking);
  CHECK_THROWS_AS(t.set_initial_retransmission_timeout(std::chrono::milliseconds(100)), DtlsError);
}
