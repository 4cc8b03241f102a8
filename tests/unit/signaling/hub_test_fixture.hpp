#pragma once
// A SignalingHub with everything around it in memory: an in-memory SQLite
// store, a fake relay, recording connection sinks, and manual time.

#include <catch2/catch.hpp>

#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "signaling/access_control.hpp"
#include "signaling/audit_trail.hpp"
#include "signaling/errors.hpp"
#include "signaling/signaling_hub.hpp"
#include "signaling/sqlite_meeting_repository.hpp"
#include "signaling/sqlite_supervision_repository.hpp"
#include "manual_timers.hpp"

namespace huijian::signaling::testing {

using nlohmann::json;

struct RecordingSink : ConnectionSink {
  std::deque<json> messages;
  std::optional<std::uint16_t> closed;
  void send_text(std::string text) override { messages.push_back(json::parse(text)); }
  void close(std::uint16_t code, std::string) override { closed = code; }
  std::string peer() const override { return "127.0.0.1:40000"; }
  json pop() {
    REQUIRE_FALSE(messages.empty());
    json j = messages.front();
    messages.pop_front();
    return j;
  }
  // Pops messages until one of `type` (skipping "meetings" pushes and others); fails if none.
  json pop_type(const std::string& type) {
    while (!messages.empty()) {
      json j = pop();
      if (j["type"] == type) return j;
    }
    FAIL("no message of type " << type);
    return {};
  }
  bool has_type(const std::string& type) const {
    for (const auto& m : messages)
      if (m["type"] == type) return true;
    return false;
  }
};

struct FakeMedia : MediaPort {
  std::vector<std::string> calls;
  std::map<std::string, std::shared_ptr<huijian::media::PeerEvents>> peers;
  std::string open_peer(const std::string& peer, const std::string& meeting, const std::string& sdp,
                        std::shared_ptr<huijian::media::PeerEvents> events) override {
    if (sdp.find("m=") == std::string::npos) throw huijian::media::OfferError("the offer has no m= line");
    calls.push_back("open " + peer + " " + meeting);
    peers[peer] = events;
    return "v=0\r\nanswer-for-" + peer;
  }
  void add_remote_candidate(const std::string& peer, const std::string&, const std::string& mid) override {
    calls.push_back("candidate " + peer + " " + mid);
  }
  void link(const std::string& a, const std::string& b) override { calls.push_back("link " + a + " " + b); }
  void unlink(const std::string& p) override { calls.push_back("unlink " + p); }
  void close_peer(const std::string& p) override { calls.push_back("close " + p); }
  huijian::media::Relay::OfficerAnswer open_officer_peer(const std::string& peer, const std::string& meeting,
                                                         const std::string& sdp,
                                                         std::shared_ptr<huijian::media::PeerEvents> events) override {
    if (sdp.find("m=video") == std::string::npos)
      throw huijian::media::OfferError("an officer's offer needs exactly two recvonly video m-lines");
    calls.push_back("open_officer " + peer + " " + meeting);
    peers[peer] = events;
    return {"v=0\r\nanswer-for-" + peer, "0", "1"};
  }
  bool watch(const std::string& officer, const std::string& lawyer, const std::string& detainee) override {
    calls.push_back("watch " + officer + " " + lawyer + " " + detainee);
    return true;
  }
  void set_officer_voice(const std::string& officer, bool open) override {
    calls.push_back(std::string("voice ") + officer + (open ? " open" : " closed"));
  }
};

inline const char* kOfficerPassword = "officer-password-1";
inline const char* kAdminPassword = "admin-password-1";

inline Config test_config() {
  Config c;
  c.devices = {{"lawyer-1", "律师会见室 1", DeviceRole::LawyerTerminal, "lawyer-secret"},
               {"lawyer-2", "律师会见室 2", DeviceRole::LawyerTerminal, "lawyer2-secret"},
               {"detainee-1", "会见室 A", DeviceRole::DetaineeTerminal, "detainee-secret"}};
  c.meetings = {{"m-1", "lawyer-1", "detainee-1", "(2026)京0105刑初123号", std::nullopt}};
  c.supervision.default_minutes = 30;
  c.supervision.session_minutes = 60;
  c.officers = {{"wang", "王警官", AccountRole::Officer, "", kOfficerPassword},
                {"li", "李警官", AccountRole::Officer, "", kOfficerPassword},
                {"root", "管理员", AccountRole::Admin, "", kAdminPassword}};
  return c;
}

inline const char* kOffer =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:a0\r\nm=video 9 UDP/TLS/RTP/SAVPF "
    "96\r\na=mid:v1\r\n";

// Few PBKDF2 iterations keep unit tests fast; accounts in service use the default.
inline constexpr unsigned kTestIterations = 1000;

struct Fixture {
  using Conn = std::pair<ConnectionId, std::shared_ptr<RecordingSink>>;

  Config config = test_config();
  ManualClock clock;
  ManualTimers timers{clock};
  SqliteMeetingRepository store{":memory:"};
  SqliteSupervisionRepository supervision{store};
  AuditTrail audit{supervision, clock.wall()};
  AccessControl access{supervision, audit, clock.wall(), std::chrono::minutes(config.supervision.session_minutes),
                       kTestIterations};
  FakeMedia media;
  std::vector<std::function<void()>> posted;
  SignalingHub hub{config, HubServices{store, supervision, access, audit, timers}, &media,
                   [this](std::function<void()> f) { posted.push_back(std::move(f)); }, clock.wall()};

  Fixture() {
    access.load_accounts(config.officers);
    hub.load_meetings();
  }

  Conn connect() {
    auto sink = std::make_shared<RecordingSink>();
    return {hub.open_connection(sink), sink};
  }
  Conn login(const std::string& device, const std::string& secret) {
    auto [id, sink] = connect();
    hub.on_text(id, json{{"type", "hello"}, {"device", device}, {"secret", secret}}.dump());
    REQUIRE(sink->pop()["type"] == "welcome");
    REQUIRE(sink->pop()["type"] == "state");
    return {id, sink};
  }
  std::string officer_token(const std::string& username = "wang", const std::string& password = kOfficerPassword) {
    return access.login(username, password, Actor{}).token;
  }
  // An officer console signed in; its welcome and first meetings list are consumed.
  Conn officer(const std::string& username = "wang", const std::string& password = kOfficerPassword) {
    auto [id, sink] = connect();
    hub.on_text(id, json{{"type", "officer_hello"}, {"token", officer_token(username, password)}}.dump());
    REQUIRE(sink->pop()["type"] == "officer_welcome");
    REQUIRE(sink->pop()["type"] == "meetings");
    return {id, sink};
  }
  void send(ConnectionId id, const json& j) { hub.on_text(id, j.dump()); }

  // Lawyer and detainee logged in, offered, ready and connected; their queues emptied.
  std::pair<Conn, Conn> connected_meeting() {
    auto lawyer = login("lawyer-1", "lawyer-secret");
    auto detainee = login("detainee-1", "detainee-secret");
    send(lawyer.first, json{{"type", "offer"}, {"sdp", kOffer}});
    send(detainee.first, json{{"type", "offer"}, {"sdp", kOffer}});
    send(detainee.first, json{{"type", "ready"}});
    send(lawyer.first, json{{"type", "connect"}});
    REQUIRE(store.find("m-1")->state == MeetingState::Connected);
    return {lawyer, detainee};
  }
};

}  // namespace huijian::signaling::testing
