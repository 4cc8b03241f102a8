#include <catch2/catch.hpp>

#include <deque>
#include <nlohmann/json.hpp>

#include "signaling/errors.hpp"
#include "signaling/signaling_hub.hpp"
#include "signaling/sqlite_meeting_repository.hpp"

using namespace huijian::signaling;
using nlohmann::json;

namespace {

struct RecordingSink : ConnectionSink {
  std::deque<json> messages;
  std::optional<std::uint16_t> closed;
  void send_text(std::string text) override { messages.push_back(json::parse(text)); }
  void close(std::uint16_t code, std::string) override { closed = code; }
  json pop() {
    REQUIRE_FALSE(messages.empty());
    json j = messages.front();
    messages.pop_front();
    return j;
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
  void add_remote_candidate(const std::string& peer, const std::string& c, const std::string& mid) override {
    calls.push_back("candidate " + peer + " " + mid);
  }
  void link(const std::string& a, const std::string& b) override { calls.push_back("link " + a + " " + b); }
  void unlink(const std::string& p) override { calls.push_back("unlink " + p); }
  void close_peer(const std::string& p) override { calls.push_back("close " + p); }
};

Config test_config() {
  Config c;
  c.devices = {{"lawyer-1", "律师会见室 1", DeviceRole::LawyerTerminal, "lawyer-secret"},
               {"lawyer-2", "律师会见室 2", DeviceRole::LawyerTerminal, "lawyer2-secret"},
               {"detainee-1", "会见室 A", DeviceRole::DetaineeTerminal, "detainee-secret"}};
  c.meetings = {{"m-1", "lawyer-1", "detainee-1", "(2026)京0105刑初123号"}};
  return c;
}

const char* kOffer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:a0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:v1\r\n";

struct Fixture {
  Config config = test_config();
  SqliteMeetingRepository store{":memory:"};
  FakeMedia media;
  std::vector<std::function<void()>> posted;
  int tick = 0;
  SignalingHub hub{config, store, &media, [this](std::function<void()> f) { posted.push_back(std::move(f)); },
                   [this] {
                     return std::chrono::system_clock::time_point{} + std::chrono::hours(24 * 20000) +
                            std::chrono::milliseconds(++tick);
                   }};
  Fixture() { hub.load_meetings(); }

  std::pair<ConnectionId, std::shared_ptr<RecordingSink>> connect() {
    auto sink = std::make_shared<RecordingSink>();
    return {hub.open_connection(sink), sink};
  }
  std::pair<ConnectionId, std::shared_ptr<RecordingSink>> login(const std::string& device, const std::string& secret) {
    auto [id, sink] = connect();
    hub.on_text(id, json{{"type", "hello"}, {"device", device}, {"secret", secret}}.dump());
    REQUIRE(sink->pop()["type"] == "welcome");
    REQUIRE(sink->pop()["type"] == "state");
    return {id, sink};
  }
};

}  // namespace

TEST_CASE("SignalingHub: hello is answered with welcome and the meeting's current state") {
  Fixture f;
  auto [id, sink] = f.connect();
  f.hub.on_text(id, R"({"type":"hello","device":"lawyer-1","secret":"lawyer-secret"})");
  auto welcome = sink->pop();
  CHECK(welcome["type"] == "welcome");
  CHECK(welcome["name"] == "律师会见室 1");
  CHECK(welcome["role"] == "lawyer-terminal");
  CHECK(welcome["meeting"]["id"] == "m-1");
  CHECK(welcome["meeting"]["state"] == "waiting");
  CHECK(welcome["meeting"]["peer"]["device"] == "detainee-1");
  CHECK(welcome["meeting"]["peer"]["name"] == "会见室 A");
  auto state = sink->pop();
  CHECK(state["type"] == "state");
  CHECK(state["state"] == "waiting");
  CHECK(state["by"] == "config");
}

TEST_CASE("SignalingHub: the handshake ready, connect reaches both parties and links the media") {
  Fixture f;
  auto [lawyer, ls] = f.login("lawyer-1", "lawyer-secret");
  auto [detainee, ds] = f.login("detainee-1", "detainee-secret");
  f.hub.on_text(lawyer, json{{"type", "offer"}, {"sdp", kOffer}}.dump());
  CHECK(ls->pop() == json{{"type", "answer"}, {"sdp", "v=0\r\nanswer-for-lawyer-1"}});
  f.hub.on_text(detainee, json{{"type", "offer"}, {"sdp", kOffer}}.dump());
  CHECK(ds->pop()["type"] == "answer");

  f.hub.on_text(detainee, R"({"type":"ready"})");
  auto d_state = ds->pop();
  CHECK(d_state["state"] == "detainee_ready");
  CHECK(d_state["by"] == "detainee-1");
  CHECK(d_state["text"] == "已就位，正在接通");
  auto l_state = ls->pop();
  CHECK(l_state["state"] == "detainee_ready");
  CHECK_FALSE(l_state.contains("text"));
  auto peer_ready = ls->pop();
  CHECK(peer_ready == json{{"type", "peer_ready"}, {"meeting", "m-1"}, {"text", "对方已就位"}, {"action", "请按此键接通"}});

  f.hub.on_text(lawyer, R"({"type":"connect"})");
  CHECK(ls->pop()["state"] == "connected");
  CHECK(ds->pop()["state"] == "connected");
  CHECK(f.media.calls.back() == "link lawyer-1 detainee-1");

  f.hub.on_text(detainee, R"({"type":"end","reason":"谈完了"})");
  CHECK(ls->pop()["state"] == "ended");
  CHECK(ls->pop() == json{{"type", "ended"}, {"meeting", "m-1"}, {"by", "detainee-1"}, {"reason", "谈完了"}});
  CHECK(f.store.find("m-1")->state == MeetingState::Ended);
  auto events = f.store.events("m-1");
  REQUIRE(events.size() == 4);
  CHECK(events[1].kind == "state:detainee_ready");
  CHECK(events[2].kind == "state:connected");
  CHECK(events[3].kind == "state:ended");
  CHECK(events[1].at < events[2].at);
}

TEST_CASE("SignalingHub: relay events are posted to the hub thread and sent to the terminal") {
  Fixture f;
  auto [lawyer, ls] = f.login("lawyer-1", "lawyer-secret");
  f.hub.on_text(lawyer, json{{"type", "offer"}, {"sdp", kOffer}}.dump());
  ls->pop();
  f.media.peers["lawyer-1"]->on_local_candidate("candidate:1 1 udp 1 127.0.0.1 40000 typ host", "v1");
  f.media.peers["lawyer-1"]->on_peer_state(huijian::media::PeerState::Secure, "dtls done");
  CHECK(ls->messages.empty());  // nothing is sent from the media thread itself
  REQUIRE(f.posted.size() == 2);
  for (auto& p : f.posted) p();
  CHECK(ls->pop() == json{{"type", "candidate"}, {"candidate", "candidate:1 1 udp 1 127.0.0.1 40000 typ host"},
                          {"sdpMid", "v1"}, {"sdpMLineIndex", 1}});
  CHECK(ls->pop() == json{{"type", "media"}, {"state", "secure"}, {"detail", "dtls done"}});
}

TEST_CASE("SignalingHub: bad credentials get the same answer for unknown device and wrong secret, then close") {
  Fixture f;
  for (auto hello : {R"({"type":"hello","device":"lawyer-1","secret":"wrong-secret"})",
                     R"({"type":"hello","device":"ghost","secret":"lawyer-secret"})"}) {
    auto [id, sink] = f.connect();
    f.hub.on_text(id, hello);
    auto e = sink->pop();
    CHECK(e["code"] == "bad_credentials");
    CHECK(e["message"] == "unknown device or wrong secret");
    CHECK(e["ref"] == "hello");
    CHECK(sink->closed == std::optional<std::uint16_t>(kClosePolicy));
  }
}

TEST_CASE("SignalingHub: refused messages change nothing and keep the connection open") {
  Fixture f;
  auto [lawyer, ls] = f.login("lawyer-1", "lawyer-secret");
  auto [detainee, ds] = f.login("detainee-1", "detainee-secret");

  auto expect_error = [](RecordingSink& s, const char* code) {
    auto e = s.pop();
    CHECK(e["type"] == "error");
    CHECK(e["code"] == code);
    CHECK_FALSE(s.closed);
  };
  f.hub.on_text(lawyer, R"({"type":"connect"})");
  expect_error(*ls, "bad_state");
  f.hub.on_text(lawyer, R"({"type":"ready"})");
  expect_error(*ls, "wrong_role");
  f.hub.on_text(detainee, R"({"type":"connect"})");
  expect_error(*ds, "wrong_role");
  f.hub.on_text(detainee, "not json");
  expect_error(*ds, "bad_json");
  f.hub.on_text(detainee, R"({"type":"hello","device":"detainee-1","secret":"detainee-secret"})");
  expect_error(*ds, "already_authenticated");
  f.hub.on_text(lawyer, R"({"type":"offer","sdp":"v=0\r\nno media"})");
  expect_error(*ls, "bad_sdp");
  f.hub.on_text(lawyer, R"({"type":"candidate","candidate":"candidate:1","sdpMid":"0"})");
  expect_error(*ls, "bad_candidate");

  auto [third, ts] = f.connect();
  f.hub.on_text(third, R"({"type":"ready"})");
  expect_error(*ts, "not_authenticated");
  f.hub.on_text(third, R"({"type":"hello","device":"lawyer-1","secret":"lawyer-secret"})");
  expect_error(*ts, "device_busy");
  f.hub.on_text(third, R"({"type":"hello","device":"lawyer-2","secret":"lawyer2-secret","meeting":"m-1"})");
  expect_error(*ts, "not_your_meeting");

  CHECK(f.store.find("m-1")->state == MeetingState::Waiting);
  CHECK(f.store.events("m-1").size() == 1);
  CHECK(ls->messages.empty());
  CHECK(ds->messages.empty());
}

TEST_CASE("SignalingHub: a party's connection closing ends a running meeting and closes its peer") {
  Fixture f;
  auto [lawyer, ls] = f.login("lawyer-1", "lawyer-secret");
  auto [detainee, ds] = f.login("detainee-1", "detainee-secret");
  f.hub.on_text(detainee, json{{"type", "offer"}, {"sdp", kOffer}}.dump());
  f.hub.on_text(detainee, R"({"type":"ready"})");
  ls->messages.clear();
  f.hub.on_closed(detainee);
  CHECK(ls->pop()["state"] == "ended");
  auto ended = ls->pop();
  CHECK(ended["by"] == "server");
  CHECK(ended["reason"] == "the connection of detainee-1 closed");
  CHECK(f.media.calls.back() == "close detainee-1");
  CHECK(f.hub.connection_count() == 1);
}

TEST_CASE("SignalingHub: shutdown ends running meetings only, with the reason stored") {
  Fixture f;
  auto [detainee, ds] = f.login("detainee-1", "detainee-secret");
  f.hub.on_text(detainee, R"({"type":"ready"})");
  f.hub.shutdown("server shutdown");
  auto m = f.store.find("m-1");
  CHECK(m->state == MeetingState::Ended);
  CHECK(m->end_reason == "server shutdown");
  CHECK(m->ended_by == "server");
}

TEST_CASE("SignalingHub: creating a meeting for a device with an open meeting is meeting_taken") {
  Fixture f;
  try {
    f.hub.create_meeting({"m-2", "lawyer-2", "detainee-1", ""}, "admin");
    FAIL("accepted");
  } catch (const ProtocolError& e) {
    CHECK(e.code() == "meeting_taken");
  }
  f.hub.end_meeting("m-1", "admin", "cancelled");
  auto created = f.hub.create_meeting({"m-2", "lawyer-2", "detainee-1", "c"}, "admin");
  CHECK(created.state == MeetingState::Waiting);
  CHECK_THROWS_AS(f.hub.create_meeting({"m-2", "lawyer-1", "detainee-1", ""}, "admin"), ProtocolError);
}
