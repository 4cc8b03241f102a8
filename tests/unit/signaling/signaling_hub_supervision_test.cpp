// SignalingHub with officer consoles: call time, notices, interjections,
// termination, the meetings list, and who may do what.
#include <catch2/catch.hpp>

#include "hub_test_fixture.hpp"

using namespace huijian::signaling;
using namespace huijian::signaling::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// What a console offers (FakeMedia only looks for a video m-line).
const char* kWatchOffer =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=recvonly\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=recvonly\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:2\r\n"
    "a=sendonly\r\n";

// Every officer action, for the role checks.
std::vector<json> officer_actions() {
  return {json{{"type", "set_time"}, {"meeting", "m-1"}, {"remaining_seconds", 5}},
          json{{"type", "set_time"}, {"meeting", "m-1"}, {"minutes", 1}},
          json{{"type", "notice"}, {"meeting", "m-1"}, {"text", "请勿出示手机"}},
          json{{"type", "interjection_start"}, {"meeting", "m-1"}},
          json{{"type", "interjection_stop"}, {"meeting", "m-1"}},
          json{{"type", "terminate"}, {"meeting", "m-1"}, {"code", "violation_phone"}},
          json{{"type", "watch"}, {"meeting", "m-1"}, {"sdp", kWatchOffer}},
          json{{"type", "watch_candidate"}, {"meeting", "m-1"}, {"candidate", ""}, {"sdpMid", "0"}},
          json{{"type", "unwatch"}, {"meeting", "m-1"}}};
}

std::size_t audit_count(Fixture& f, const std::string& outcome) {
  std::size_t n = 0;
  for (const auto& e : f.supervision.audit(0, 1000)) n += e.outcome == outcome;
  return n;
}

}  // namespace

TEST_CASE("SignalingHub: connect tells both parties the end time; warnings and the automatic end follow the clock") {
  Fixture f;
  auto [lawyer, detainee] = f.connected_meeting();
  auto connected_at = f.clock.base;
  auto time = lawyer.second->pop_type("time");
  CHECK(time["meeting"] == "m-1");
  CHECK(time["remaining_seconds"] == 1800);  // default_minutes = 30
  CHECK(time["length_seconds"] == 1800);
  CHECK(time["by"] == "server");
  auto span = parse_utc_ms(time["ends_at"].get<std::string>()).value() - parse_utc_ms(time["now"].get<std::string>()).value();
  CHECK(span > 1800s - 100ms);  // the test clock moves 1 ms per reading
  CHECK(span <= 1800s);
  CHECK(detainee.second->pop_type("time")["ends_at"] == time["ends_at"]);
  auto stored = f.store.find("m-1");
  CHECK(stored->ends_at == time["ends_at"]);
  CHECK_FALSE(stored->connected_at.empty());

  // The test clock moves 1 ms per reading, so each step goes a second past the moment.
  f.timers.advance(25min + 1s);
  for (auto* sink : {lawyer.second.get(), detainee.second.get()}) {
    auto w = sink->pop_type("time_warning");
    CHECK(w["remaining_seconds"] == 300);
    CHECK(w["text"] == "会见时间还剩 5 分钟");
    CHECK(w["text_en"] == "5 minutes left");
    CHECK(w["ends_at"] == time["ends_at"]);
  }
  f.timers.advance(4min);
  CHECK(lawyer.second->pop_type("time_warning")["remaining_seconds"] == 60);
  CHECK(detainee.second->pop_type("time_warning")["text"] == "会见时间还剩 1 分钟");
  CHECK(f.store.find("m-1")->state == MeetingState::Connected);

  f.timers.advance(1min);
  for (auto* sink : {lawyer.second.get(), detainee.second.get()}) {
    auto state = sink->pop_type("state");
    CHECK(state["state"] == "ended");
    CHECK(state["by"] == "server");
    auto ended = sink->pop_type("ended");
    CHECK(ended["code"] == "time_over");
    CHECK(ended["text_zh"] == "会见时间已到");
    CHECK(ended["text_en"] == "The meeting time is over");
    CHECK(ended["reason"] == "会见时间已到 · The meeting time is over");
    CHECK(ended["by"] == "server");
  }
  auto ended = f.store.find("m-1");
  CHECK(ended->state == MeetingState::Ended);
  CHECK(ended->ended_by == "server");
  // Ended at the end time to the millisecond tick of the test clock.
  CHECK(parse_utc_ms(ended->ended_at).value() - connected_at < 30min + 1s);
  CHECK(parse_utc_ms(ended->ended_at).value() >= parse_utc_ms(ended->ends_at).value());
  CHECK(f.media.calls.back() == "unlink detainee-1");
  CHECK(f.timers.pending() == 0);  // no meeting timer is left behind
}

TEST_CASE("SignalingHub: a meeting's own minutes replace the default call time") {
  Fixture f;
  f.config.meetings[0].minutes = 20;
  f.hub.load_meetings();
  auto [lawyer, detainee] = f.connected_meeting();
  CHECK(lawyer.second->pop_type("time")["remaining_seconds"] == 1200);
}

TEST_CASE("SignalingHub: an officer moves the end of a running meeting; both parties get the new time") {
  Fixture f;
  auto [lawyer, detainee] = f.connected_meeting();
  auto [officer, os] = f.officer();
  lawyer.second->messages.clear();
  detainee.second->messages.clear();
  f.timers.advance(2min);
  f.send(officer, json{{"type", "set_time"}, {"meeting", "m-1"}, {"remaining_seconds", 90}});
  auto ok = os->pop_type("ok");
  CHECK(ok["ref"] == "set_time");
  CHECK(ok["remaining_seconds"] == 90);
  for (auto* sink : {lawyer.second.get(), detainee.second.get()}) {
    auto t = sink->pop_type("time");
    CHECK(t["remaining_seconds"] == 90);
    CHECK(t["by"] == "officer");
    CHECK(t["text"] == "会见时间已调整，还剩 1 分 30 秒 · The meeting time was changed: 1 min 30 s left");
    CHECK(t["length_seconds"] == 210);
  }
  auto events = f.store.events("m-1");
  CHECK(events.back().kind == "time");
  CHECK(events.back().actor == "officer:wang");
  // The 1-minute warning is still ahead, the 5-minute one is not.
  f.timers.advance(31s);
  CHECK(lawyer.second->pop_type("time_warning")["remaining_seconds"] == 60);
  CHECK_FALSE(lawyer.second->has_type("time_warning"));
  f.timers.advance(60s);
  CHECK(f.store.find("m-1")->state == MeetingState::Ended);
  CHECK(lawyer.second->pop_type("ended")["code"] == "time_over");

  // minutes counts from connected; a length that is already over is refused.
  Fixture g;
  auto parties = g.connected_meeting();
  auto [o2, os2] = g.officer();
  g.timers.advance(12min);
  g.send(o2, json{{"type", "set_time"}, {"meeting", "m-1"}, {"minutes", 10}});
  auto e = os2->pop_type("error");
  CHECK(e["code"] == "bad_field");
  CHECK(e["message"].get<std::string>().find("already run 12 min") != std::string::npos);
  g.send(o2, json{{"type", "set_time"}, {"meeting", "m-1"}, {"minutes", 45}});
  CHECK(os2->pop_type("ok")["remaining_seconds"] == 33 * 60);
  CHECK(g.store.find("m-1")->minutes == std::optional<int>(45));
}

TEST_CASE("SignalingHub: minutes set before connect become the call time at connect") {
  Fixture f;
  auto [officer, os] = f.officer();
  f.send(officer, json{{"type", "set_time"}, {"meeting", "m-1"}, {"minutes", 15}});
  CHECK(os->pop_type("ok")["minutes"] == 15);
  f.send(officer, json{{"type", "set_time"}, {"meeting", "m-1"}, {"remaining_seconds", 60}});
  CHECK(os->pop_type("error")["code"] == "bad_state");
  auto [lawyer, detainee] = f.connected_meeting();
  CHECK(lawyer.second->pop_type("time")["remaining_seconds"] == 900);
}

TEST_CASE("SignalingHub: officer actions from a lawyer or a detainee terminal are refused with not_officer, "
          "audited, and change nothing") {
  Fixture f;
  auto [lawyer, detainee] = f.connected_meeting();
  auto ends_before = f.hub.end_of("m-1");
  auto events_before = f.store.events("m-1").size();
  for (auto* party : {&lawyer, &detainee}) {
    party->second->messages.clear();
    for (const auto& action : officer_actions()) {
      f.send(party->first, action);
      auto e = party->second->pop();
      CHECK(e["type"] == "error");
      CHECK(e["code"] == "not_officer");
      CHECK(e["ref"] == action["type"]);
      CHECK(e["message"].get<std::string>().find("supervising officer") != std::string::npos);
      CHECK_FALSE(party->second->closed);
    }
  }
  CHECK(lawyer.second->messages.empty());
  CHECK(detainee.second->messages.empty());
  CHECK(f.store.find("m-1")->state == MeetingState::Connected);
  CHECK(f.hub.end_of("m-1") == ends_before);
  CHECK(f.store.events("m-1").size() == events_before);
  CHECK(f.supervision.notices("m-1").empty());
  CHECK(f.supervision.violations({}).empty());
  CHECK(audit_count(f, "refused:not_officer") == 2 * officer_actions().size());
  auto trail = f.supervision.audit(0, 1000);
  CHECK(trail.back().actor == "detainee-1");
  CHECK(trail.back().actor_kind == "detainee-terminal");
  CHECK(trail.back().target == "m-1");
}

TEST_CASE("SignalingHub: officer actions without a login are refused with not_authenticated and audited") {
  Fixture f;
  f.connected_meeting();
  auto [anon, as] = f.connect();
  for (const auto& action : officer_actions()) {
    f.send(anon, action);
    auto e = as->pop();
    CHECK(e["code"] == "not_authenticated");
    CHECK(e["message"].get<std::string>().find("officer_hello") != std::string::npos);
  }
  CHECK(audit_count(f, "refused:not_authenticated") == officer_actions().size());
  CHECK(f.store.find("m-1")->state == MeetingState::Connected);
}

TEST_CASE("SignalingHub: officer_hello with a bad, logged-out or expired token is refused and the connection closed") {
  Fixture f;
  auto token = f.officer_token();
  f.access.logout(token);
  for (const std::string& bad : {std::string("garbage"), std::string(64, 'a'), token}) {
    auto [id, sink] = f.connect();
    f.send(id, json{{"type", "officer_hello"}, {"token", bad}});
    auto e = sink->pop();
    CHECK(e["code"] == "bad_token");
    CHECK(sink->closed == std::optional<std::uint16_t>(kClosePolicy));
  }
  auto expiring = f.officer_token("li");
  f.timers.advance(61min);
  auto [id, sink] = f.connect();
  f.send(id, json{{"type", "officer_hello"}, {"token", expiring}});
  CHECK(sink->pop()["code"] == "bad_token");
  CHECK(audit_count(f, "refused:bad_token") == 4);
  // A device secret is not an officer token either.
  auto [id2, sink2] = f.connect();
  f.send(id2, json{{"type", "officer_hello"}, {"token", "lawyer-secret"}});
  CHECK(sink2->pop()["code"] == "bad_token");
}

TEST_CASE("SignalingHub: an officer console whose session expires is told so and closed; its actions are refused") {
  Fixture f;
  auto [lawyer, detainee] = f.connected_meeting();
  auto [officer, os] = f.officer();
  f.timers.advance(60min + 1s);  // session_minutes = 60; the meeting (30 min) ended on the way
  auto e = os->pop_type("error");
  CHECK(e["code"] == "session_expired");
  CHECK(os->closed == std::optional<std::uint16_t>(kClosePolicy));

  Fixture g;
  g.connected_meeting();
  auto [o2, os2] = g.officer();
  g.clock.base += 61min;  // expired without the timer having run yet
  g.send(o2, json{{"type", "notice"}, {"meeting", "m-1"}, {"text", "hello"}});
  CHECK(os2->pop_type("error")["code"] == "session_expired");
  CHECK(g.supervision.notices("m-1").empty());
}

TEST_CASE("SignalingHub: an officer console cannot act as a terminal, nor a terminal sign in as an officer") {
  Fixture f;
  auto [officer, os] = f.officer();
  for (const char* type : {"ready", "connect", "end"}) {
    f.send(officer, json{{"type", type}});
    auto e = os->pop();
    CHECK(e["code"] == "wrong_role");
  }
  f.send(officer, json{{"type", "hello"}, {"device", "lawyer-1"}, {"secret", "lawyer-secret"}});
  CHECK(os->pop()["code"] == "already_authenticated");
  auto [lawyer, ls] = f.login("lawyer-1", "lawyer-secret");
  f.send(lawyer, json{{"type", "officer_hello"}, {"token", f.officer_token()}});
  CHECK(ls->pop()["code"] == "already_authenticated");
}

TEST_CASE("SignalingHub: terminate with a violation ends the meeting for both parties, unlinks media and records it") {
  Fixture f;
  auto [lawyer, detainee] = f.connected_meeting();
  auto [officer, os] = f.officer();
  f.send(officer, json{{"type", "terminate"}, {"meeting", "m-1"}, {"code", "violation_other"}, {"text", "传递纸条"}});
  for (auto* sink : {lawyer.second.get(), detainee.second.get()}) {
    auto ended = sink->pop_type("ended");
    CHECK(ended["by"] == "officer");
    CHECK(ended["code"] == "violation_other");
    CHECK(ended["text_zh"] == "违规：其他");
    CHECK(ended["text_en"] == "Violation: other");
    CHECK(ended["detail"] == "传递纸条");
    CHECK(ended["reason"] == "违规：其他 · Violation: other：传递纸条");
  }
  CHECK(f.media.calls[f.media.calls.size() - 2] == "unlink lawyer-1");
  CHECK(f.media.calls.back() == "unlink detainee-1");
  auto ok = os->pop_type("ok");
  CHECK(ok["ref"] == "terminate");
  auto m = f.store.find("m-1");
  CHECK(m->state == MeetingState::Ended);
  CHECK(m->ended_by == "officer:wang");
  auto v = f.supervision.violations({});
  REQUIRE(v.size() == 1);
  CHECK(ok["violation"] == v[0].id);
  CHECK(v[0].meeting_id == "m-1");
  CHECK(v[0].lawyer_device == "lawyer-1");
  CHECK(v[0].detainee_device == "detainee-1");
  CHECK(v[0].code == "violation_other");
  CHECK(v[0].text == "传递纸条");
  CHECK(v[0].officer == "wang");
  CHECK_FALSE(f.hub.end_of("m-1"));
  // Ended is final.
  f.send(officer, json{{"type", "terminate"}, {"meeting", "m-1"}, {"code", "technical_fault"}});
  CHECK(os->pop_type("error")["code"] == "bad_state");
  CHECK(f.supervision.violations({}).size() == 1);
}

TEST_CASE("SignalingHub: a technical fault ends a meeting without a violation record") {
  Fixture f;
  auto [lawyer, detainee] = f.connected_meeting();
  auto [officer, os] = f.officer();
  f.send(officer, json{{"type", "terminate"}, {"meeting", "m-1"}, {"code", "technical_fault"}});
  CHECK(lawyer.second->pop_type("ended")["code"] == "technical_fault");
  CHECK_FALSE(os->pop_type("ok").contains("violation"));
  CHECK(f.supervision.violations({}).empty());
  f.send(officer, json{{"type", "terminate"}, {"meeting", "nope"}, {"code", "technical_fault"}});
  CHECK(os->pop_type("error")["code"] == "no_meeting");
}

TEST_CASE("SignalingHub: a notice reaches both parties and is stored with officer, time and text") {
  Fixture f;
  auto [lawyer, detainee] = f.connected_meeting();
  auto [officer, os] = f.officer();
  f.send(officer, json{{"type", "notice"}, {"meeting", "m-1"}, {"text", "请将手机放在桌外"}});
  for (auto* sink : {lawyer.second.get(), detainee.second.get()}) {
    auto n = sink->pop_type("notice");
    CHECK(n["text"] == "请将手机放在桌外");
    CHECK(n["from"] == "监管民警 · Supervising officer");
    CHECK(parse_utc_ms(n["at"].get<std::string>()).has_value());
  }
  auto ok = os->pop_type("ok");
  auto stored = f.supervision.notices("m-1");
  REQUIRE(stored.size() == 1);
  CHECK(ok["id"] == stored[0].id);
  CHECK(stored[0].officer == "wang");
  CHECK(stored[0].text == "请将手机放在桌外");
  CHECK(ok["at"] == stored[0].at);
}

TEST_CASE("SignalingHub: interjection start and stop tell both parties and store the duration") {
  Fixture f;
  auto [lawyer, detainee] = f.connected_meeting();
  auto [officer, os] = f.officer();
  auto [other, others] = f.officer("li");
  f.send(officer, json{{"type", "interjection_start"}, {"meeting", "m-1"}});
  for (auto* sink : {lawyer.second.get(), detainee.second.get()}) {
    auto s = sink->pop_type("officer_speaking");
    CHECK(s["speaking"] == true);
    CHECK(s["text"] == "监管民警插话 · Officer speaking");
  }
  CHECK(os->pop_type("ok")["ref"] == "interjection_start");
  auto overview = others->pop_type("meetings");
  CHECK(overview["meetings"][0]["officer_speaking"]["name"] == "王警官");
  // Nobody else may talk over it, and it cannot be started twice.
  f.send(other, json{{"type", "interjection_start"}, {"meeting", "m-1"}});
  CHECK(others->pop_type("error")["message"] == "officer 王警官 is already speaking in meeting m-1");
  f.send(other, json{{"type", "interjection_stop"}, {"meeting", "m-1"}});
  CHECK(others->pop_type("error")["code"] == "bad_state");
  f.send(officer, json{{"type", "interjection_start"}, {"meeting", "m-1"}});
  CHECK(os->pop_type("error")["code"] == "bad_state");

  f.timers.advance(7s);
  f.send(officer, json{{"type", "interjection_stop"}, {"meeting", "m-1"}});
  for (auto* sink : {lawyer.second.get(), detainee.second.get()}) CHECK(sink->pop_type("officer_speaking")["speaking"] == false);
  auto ok = os->pop_type("ok");
  CHECK(ok["duration_ms"].get<long long>() >= 7000);
  auto stored = f.supervision.interjections("m-1");
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].officer == "wang");
  CHECK(stored[0].duration_ms >= 7000);
  CHECK(stored[0].duration_ms < 7100);
  CHECK(stored[0].started_at < stored[0].stopped_at);
  CHECK(ok["duration_ms"] == stored[0].duration_ms);
}

TEST_CASE("SignalingHub: an interjection ends when the officer's console disconnects or the meeting ends") {
  Fixture f;
  auto [lawyer, detainee] = f.connected_meeting();
  auto [officer, os] = f.officer();
  f.send(officer, json{{"type", "interjection_start"}, {"meeting", "m-1"}});
  lawyer.second->messages.clear();
  f.hub.on_closed(officer);
  CHECK(lawyer.second->pop_type("officer_speaking")["speaking"] == false);
  CHECK(f.supervision.interjections("m-1").size() == 1);

  auto [o2, os2] = f.officer("li");
  f.send(o2, json{{"type", "interjection_start"}, {"meeting", "m-1"}});
  f.send(lawyer.first, json{{"type", "end"}});
  CHECK(f.supervision.interjections("m-1").size() == 2);
  f.send(o2, json{{"type", "interjection_start"}, {"meeting", "m-1"}});
  CHECK(os2->pop_type("error")["code"] == "bad_state");
}

TEST_CASE("SignalingHub: officers see the meetings that have not ended, pushed on every change") {
  Fixture f;
  auto [officer, os] = f.officer();
  auto [lawyer, ls] = f.login("lawyer-1", "lawyer-secret");
  auto list = os->pop_type("meetings");
  REQUIRE(list["meetings"].size() == 1);
  auto m = list["meetings"][0];
  CHECK(m["id"] == "m-1");
  CHECK(m["state"] == "waiting");
  CHECK(m["lawyer"] == json{{"device", "lawyer-1"}, {"name", "律师会见室 1"}, {"online", true}});
  CHECK(m["detainee"] == json{{"device", "detainee-1"}, {"name", "会见室 A"}, {"online", false}});
  CHECK(m["minutes"] == 30);
  CHECK(m["ends_at"].is_null());

  auto [detainee, ds] = f.login("detainee-1", "detainee-secret");
  f.send(detainee, json{{"type", "ready"}});
  f.send(lawyer, json{{"type", "connect"}});
  json last;
  while (!os->messages.empty()) last = os->pop();
  CHECK(last["type"] == "meetings");
  m = last["meetings"][0];
  CHECK(m["state"] == "connected");
  CHECK(m["remaining_seconds"] == 1800);
  CHECK(m["connected_at"].is_string());
  CHECK(m["ends_at"].is_string());

  f.send(lawyer, json{{"type", "end"}});
  CHECK(os->pop_type("meetings")["meetings"].empty());
  // Reading the list over REST needs no console.
  CHECK(f.hub.meetings_overview()["meetings"].empty());
}

TEST_CASE("SignalingHub: officer actions are audited with who, what, target and outcome") {
  Fixture f;
  f.connected_meeting();
  auto [officer, os] = f.officer();
  f.send(officer, json{{"type", "notice"}, {"meeting", "m-1"}, {"text", "注意"}});
  f.send(officer, json{{"type", "set_time"}, {"meeting", "m-1"}, {"remaining_seconds", 600}});
  f.send(officer, json{{"type", "notice"}, {"meeting", "m-1"}, {"text", ""}});
  f.send(officer, json{{"type", "terminate"}, {"meeting", "m-1"}, {"code", "violation_phone"}});
  std::vector<std::string> seen;
  for (const auto& e : f.supervision.audit(0, 1000))
    if (e.actor == "wang") seen.push_back(e.action + " " + e.target + " " + e.outcome);
  // A message that does not parse has no target.
  CHECK(seen == std::vector<std::string>{"login wang ok", "officer_hello  ok", "notice m-1 ok", "set_time m-1 ok",
                                         "notice  refused:bad_field", "terminate m-1 ok"});
}

TEST_CASE("SignalingHub: an officer watches a connected meeting's pictures; its voice opens only while it interjects") {
  Fixture f;
  auto [lawyer, detainee] = f.connected_meeting();
  auto [officer, os] = f.officer();
  const std::string peer = "officer:" + std::to_string(officer) + ":m-1";
  f.media.calls.clear();
  f.send(officer, json{{"type", "watch"}, {"meeting", "m-1"}, {"sdp", kWatchOffer}});
  auto answer = os->pop_type("watch_answer");
  CHECK(answer["meeting"] == "m-1");
  CHECK(answer["sdp"] == "v=0\r\nanswer-for-" + peer);
  CHECK(answer["pictures"] == json{{"lawyer", "0"}, {"detainee", "1"}});
  CHECK(f.media.calls == std::vector<std::string>{"open_officer " + peer + " m-1",
                                                  "watch " + peer + " lawyer-1 detainee-1"});
  CHECK(audit_count(f, "ok") >= 1);
  CHECK(f.supervision.audit(0, 1000).back().action == "watch");

  // The relay's candidates and state reach the console, tagged with the meeting.
  f.media.peers[peer]->on_local_candidate("candidate:1 1 udp 1 127.0.0.1 5000 typ host", "0");
  f.media.peers[peer]->on_peer_state(huijian::media::PeerState::Secure, "AEAD_AES_128_GCM");
  for (auto& post : f.posted) post();
  f.posted.clear();
  auto candidate = os->pop_type("watch_candidate");
  CHECK(candidate["meeting"] == "m-1");
  CHECK(candidate["sdpMLineIndex"] == 0);
  CHECK(os->pop_type("watch_state")["state"] == "secure");
  f.send(officer, json{{"type", "watch_candidate"}, {"meeting", "m-1"}, {"candidate", ""}, {"sdpMLineIndex", 1}});
  CHECK(f.media.calls.back() == "candidate " + peer + " 1");

  f.send(officer, json{{"type", "interjection_start"}, {"meeting", "m-1"}});
  CHECK(f.media.calls.back() == "voice " + peer + " open");
  f.send(officer, json{{"type", "interjection_stop"}, {"meeting", "m-1"}});
  CHECK(f.media.calls.back() == "voice " + peer + " closed");

  SECTION("the meeting's end ends the watch and tells the console") {
    os->messages.clear();
    f.send(officer, json{{"type", "terminate"}, {"meeting", "m-1"}, {"code", "time_over"}});
    auto ended = os->pop_type("watch_ended");
    CHECK(ended["reason"] == "meeting_ended");
    CHECK(std::count(f.media.calls.begin(), f.media.calls.end(), "close " + peer) == 1);
  }
  SECTION("unwatch ends it without a watch_ended") {
    os->messages.clear();
    f.send(officer, json{{"type", "unwatch"}, {"meeting", "m-1"}});
    CHECK(os->pop()["ref"] == "unwatch");
    CHECK(f.media.calls.back() == "close " + peer);
    f.send(officer, json{{"type", "unwatch"}, {"meeting", "m-1"}});
    CHECK(os->pop()["message"] == "you do not watch meeting m-1");
  }
  SECTION("a console that disconnects closes its peers") {
    f.hub.on_closed(officer);
    CHECK(f.media.calls.back() == "close " + peer);
  }
  SECTION("the relay failing ends the watch with media_failed") {
    os->messages.clear();
    f.media.peers[peer]->on_peer_state(huijian::media::PeerState::Failed, "ICE failed");
    for (auto& post : f.posted) post();
    CHECK(os->pop_type("watch_ended")["reason"] == "media_failed");
    CHECK(f.media.calls.back() == "close " + peer);
  }
}

TEST_CASE("SignalingHub: watch is refused before connect, twice, beyond four consoles, and with a bad offer") {
  Fixture f;
  auto lawyer = f.login("lawyer-1", "lawyer-secret");
  auto [officer, os] = f.officer();
  f.send(officer, json{{"type", "watch"}, {"meeting", "m-1"}, {"sdp", kWatchOffer}});
  auto e = os->pop_type("error");
  CHECK(e["code"] == "bad_state");
  CHECK(e["message"] == "the picture of meeting m-1 can be watched once it is connected (it is waiting)");
  f.send(officer, json{{"type", "watch_candidate"}, {"meeting", "m-1"}, {"candidate", ""}, {"sdpMid", "0"}});
  CHECK(os->pop_type("error")["code"] == "bad_candidate");
  f.hub.on_closed(lawyer.first);

  f.connected_meeting();
  f.send(officer, json{{"type", "watch"},
                       {"meeting", "m-1"},
                       {"sdp", "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n"}});  // no picture
  e = os->pop_type("error");
  CHECK(e["code"] == "bad_sdp");
  f.send(officer, json{{"type", "watch"}, {"meeting", "m-1"}, {"sdp", kWatchOffer}});
  os->pop_type("watch_answer");
  f.send(officer, json{{"type", "watch"}, {"meeting", "m-1"}, {"sdp", kWatchOffer}});
  CHECK(os->pop_type("error")["message"] == "you already watch meeting m-1; send unwatch first");
  std::vector<Fixture::Conn> others;
  for (int i = 0; i < 3; ++i) {
    others.push_back(f.officer("li"));
    f.send(others.back().first, json{{"type", "watch"}, {"meeting", "m-1"}, {"sdp", kWatchOffer}});
    others.back().second->pop_type("watch_answer");
  }
  auto [fifth, fs] = f.officer("li");
  f.send(fifth, json{{"type", "watch"}, {"meeting", "m-1"}, {"sdp", kWatchOffer}});
  CHECK(fs->pop_type("error")["message"] ==
        "4 consoles already watch meeting m-1, the most there may be; close one of them first");
  CHECK(audit_count(f, "refused:bad_state") == 3);
}
