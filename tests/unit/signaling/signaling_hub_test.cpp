#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "hub_test_fixture.hpp"

using namespace huijian::signaling;
using namespace huijian::signaling::testing;
using nlohmann::json;

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
  CHECK(ls->pop()["type"] == "time");
  CHECK(ds->pop()["type"] == "time");
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
    f.hub.create_meeting({"m-2", "lawyer-2", "detainee-1", "", std::nullopt}, "admin");
    FAIL("accepted");
  } catch (const ProtocolError& e) {
    CHECK(e.code() == "meeting_taken");
  }
  f.hub.end_meeting("m-1", "admin", "cancelled");
  auto created = f.hub.create_meeting({"m-2", "lawyer-2", "detainee-1", "c", std::nullopt}, "admin");
  CHECK(created.state == MeetingState::Waiting);
  CHECK_THROWS_AS(f.hub.create_meeting({"m-2", "lawyer-1", "detainee-1", "", std::nullopt}, "admin"), ProtocolError);
}
