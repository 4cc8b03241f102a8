#include "terminals/signaling_messages.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace huijian::terminals;
using nlohmann::json;

TEST_CASE("SignalingMessages: hello carries device and secret") {
  auto j = json::parse(make_hello("lawyer-1", "pw"));
  CHECK(j == json{{"type", "hello"}, {"device", "lawyer-1"}, {"secret", "pw"}});
}

TEST_CASE("SignalingMessages: candidate maps to the browser field names and back") {
  IceCandidate c{"candidate:1 1 UDP 2015363327 127.0.0.1 40001 typ host", "video0", 0};
  auto text = make_candidate(c);
  auto j = json::parse(text);
  CHECK(j["type"] == "candidate");
  CHECK(j["candidate"] == c.candidate);
  CHECK(j["sdpMid"] == "video0");
  CHECK(j["sdpMLineIndex"] == 0);
  // the same JSON as the server would relay it parses back to the same candidate
  auto back = std::get<CandidateMessage>(parse_server_message(text)).candidate;
  CHECK(back.candidate == c.candidate);
  CHECK(back.sdp_mid == c.sdp_mid);
  CHECK(back.mline_index == c.mline_index);
}

TEST_CASE("SignalingMessages: an empty candidate is end-of-candidates") {
  auto m = parse_server_message(R"({"type":"candidate","candidate":"","sdpMid":"0","sdpMLineIndex":0})");
  CHECK(std::get<CandidateMessage>(m).candidate.candidate.empty());
  CHECK(json::parse(make_candidate(IceCandidate{"", "0", 0}))["candidate"] == "");
}

TEST_CASE("SignalingMessages: a=candidate lines are accepted without the a=") {
  auto m = parse_server_message(R"({"type":"candidate","candidate":"a=candidate:1 1 udp 1 127.0.0.1 5 typ host","sdpMLineIndex":1})");
  auto c = std::get<CandidateMessage>(m).candidate;
  CHECK(c.candidate == "candidate:1 1 udp 1 127.0.0.1 5 typ host");
  CHECK(c.mline_index == 1);
}

TEST_CASE("SignalingMessages: welcome is read with its meeting and peer") {
  auto m = parse_server_message(R"({"type":"welcome","device":"lawyer-1","name":"律师终端1","role":"lawyer-terminal",
    "meeting":{"id":"m-1","state":"waiting","case_id":"C-9","peer":{"device":"det-1","name":"会见室1"}}})");
  auto w = std::get<WelcomeMessage>(m);
  CHECK(w.device == "lawyer-1");
  CHECK(w.name == "律师终端1");
  CHECK(w.role == "lawyer-terminal");
  CHECK(w.meeting_id == "m-1");
  CHECK(w.meeting_state == "waiting");
  CHECK(w.case_id == "C-9");
  CHECK(w.peer.device == "det-1");
  CHECK(w.peer.name == "会见室1");
}

TEST_CASE("SignalingMessages: state, peer_ready, ended, media and error are told apart") {
  auto s = std::get<StateMessage>(parse_server_message(
      R"({"type":"state","meeting":"m-1","state":"connected","at":"2024-05-01T10:00:00Z","by":"lawyer-1"})"));
  CHECK(s.state == "connected");
  CHECK(s.at == "2024-05-01T10:00:00Z");
  CHECK(s.by == "lawyer-1");
  auto p = std::get<PeerReadyMessage>(
      parse_server_message(R"({"type":"peer_ready","text":"对方已就位","action":"请按此键接通"})"));
  CHECK(p.text == "对方已就位");
  CHECK(p.action == "请按此键接通");
  auto e = std::get<EndedMessage>(parse_server_message(R"({"type":"ended","by":"det-1","reason":"done"})"));
  CHECK(e.by == "det-1");
  CHECK(e.reason == "done");
  CHECK(std::get<MediaStateMessage>(parse_server_message(R"({"type":"media","state":"secure"})")).state == "secure");
  auto err = std::get<ErrorMessage>(parse_server_message(R"({"type":"error","code":401,"message":"bad secret"})"));
  CHECK(err.code == "401");
  CHECK(err.message == "bad secret");
  auto other = std::get<OtherMessage>(parse_server_message(R"({"type":"something_new","text":"新消息"})"));
  CHECK(other.type == "something_new");
  CHECK(other.text == "新消息");
}

TEST_CASE("SignalingMessages: hostile or malformed input is a ProtocolError, never a crash") {
  CHECK_THROWS_AS(parse_server_message("not json"), ProtocolError);
  CHECK_THROWS_AS(parse_server_message("[1,2]"), ProtocolError);
  CHECK_THROWS_AS(parse_server_message(R"({"kind":"welcome"})"), ProtocolError);
  CHECK_THROWS_AS(parse_server_message(R"({"type":7})"), ProtocolError);
  CHECK_THROWS_AS(parse_server_message(R"({"type":"answer"})"), ProtocolError);
  CHECK_THROWS_AS(parse_server_message(R"({"type":"answer","sdp":"hello"})"), ProtocolError);
  CHECK_THROWS_AS(parse_server_message(R"({"type":"state","state":5})"), ProtocolError);
  CHECK_THROWS_AS(parse_server_message(R"({"type":"welcome","device":"d","meeting":"m-1"})"), ProtocolError);
  CHECK_THROWS_AS(parse_server_message(R"({"type":"candidate","candidate":"candidate:1","sdpMLineIndex":-1})"),
                  ProtocolError);
  CHECK_THROWS_AS(parse_server_message(R"({"type":"candidate","candidate":"candidate:1","sdpMLineIndex":64})"),
                  ProtocolError);
  CHECK_THROWS_AS(parse_server_message(R"({"type":"candidate","candidate":"candidate:1\r\na=x"})"), ProtocolError);
  CHECK_THROWS_AS(parse_server_message(R"({"type":"candidate","candidate":"typ host"})"), ProtocolError);
  std::string big = R"({"type":"notice","text":")" + std::string(kMaxSignalingMessageBytes, 'x') + "\"}";
  CHECK_THROWS_AS(parse_server_message(big), ProtocolError);
  std::string long_candidate =
      R"({"type":"candidate","candidate":"candidate:)" + std::string(kMaxCandidateBytes, '1') + "\"}";
  CHECK_THROWS_AS(parse_server_message(long_candidate), ProtocolError);
  CHECK_THROWS_AS(parse_server_message("{\"type\":\"notice\",\"text\":\"\xff\xfe\"}"), ProtocolError);
}

TEST_CASE("SignalingMessages: sdp_mids lists a=mid per m-line") {
  const char* sdp =
      "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE video0 audio1\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 102\r\nc=IN IP4 0.0.0.0\r\na=mid:video0\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:audio1\r\n"
      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";
  auto mids = sdp_mids(sdp);
  REQUIRE(mids.size() == 3);
  CHECK(mids[0] == "video0");
  CHECK(mids[1] == "audio1");
  CHECK(mids[2].empty());
}

TEST_CASE("SignalingMessages: ready, connect and end have the protocol shape") {
  CHECK(json::parse(make_ready()) == json{{"type", "ready"}});
  CHECK(json::parse(make_connect()) == json{{"type", "connect"}});
  CHECK(json::parse(make_end("时间到")) == json{{"type", "end"}, {"reason", "时间到"}});
  CHECK(json::parse(make_offer("v=0\r\n"))["sdp"] == "v=0\r\n");
  // invalid UTF-8 from a command line is replaced, not thrown
  CHECK_NOTHROW(json::parse(make_hello("dev\xff", "x")));
}

TEST_CASE("SignalingMessages: supervision messages (time, warnings, notices, officer speaking) are read") {
  auto t = std::get<TimeMessage>(parse_server_message(
      R"({"type":"time","meeting":"m-1","ends_at":"2026-11-23T09:30:00.000Z","now":"2026-11-23T09:00:00.000Z",)"
      R"("remaining_seconds":1800,"length_seconds":1800,"by":"server"})"));
  CHECK(t.ends_at == "2026-11-23T09:30:00.000Z");
  CHECK(t.remaining_seconds == 1800);
  CHECK(t.length_seconds == std::optional<long long>(1800));
  CHECK(t.by == "server");
  auto w = std::get<TimeWarningMessage>(parse_server_message(
      R"({"type":"time_warning","meeting":"m-1","remaining_seconds":300,"text":"会见时间还剩 5 分钟","text_en":"5 minutes left"})"));
  CHECK(w.remaining_seconds == 300);
  CHECK(w.text == "会见时间还剩 5 分钟");
  CHECK(w.text_en == "5 minutes left");
  auto n = std::get<NoticeMessage>(parse_server_message(
      R"({"type":"notice","meeting":"m-1","text":"请勿出示手机","from":"监管民警","at":"2026-11-23T09:01:00.000Z"})"));
  CHECK(n.text == "请勿出示手机");
  CHECK(n.from == "监管民警");
  auto sp = std::get<OfficerSpeakingMessage>(
      parse_server_message(R"({"type":"officer_speaking","meeting":"m-1","speaking":true,"text":"监管民警插话"})"));
  CHECK(sp.speaking);
  auto e = std::get<EndedMessage>(parse_server_message(
      R"({"type":"ended","by":"officer","reason":"违规：出示手机 · Violation: a phone was shown","code":"violation_phone",)"
      R"("text_zh":"违规：出示手机","text_en":"Violation: a phone was shown"})"));
  CHECK(e.code == "violation_phone");
  CHECK(e.text_zh == "违规：出示手机");
  CHECK(e.detail.empty());
}

TEST_CASE("SignalingMessages: malformed supervision messages are ProtocolErrors") {
  CHECK_THROWS_AS(parse_server_message(R"({"type":"time","ends_at":"tomorrow","remaining_seconds":5})"), ProtocolError);
  CHECK_THROWS_AS(parse_server_message(R"({"type":"time","ends_at":"2026-11-23T09:30:00.000Z"})"), ProtocolError);
  CHECK_THROWS_AS(parse_server_message(R"({"type":"time","ends_at":"2026-11-23T09:30:00.000Z","remaining_seconds":-1})"),
                  ProtocolError);
  CHECK_THROWS_AS(parse_server_message(R"({"type":"time_warning","remaining_seconds":"5"})"), ProtocolError);
  CHECK_THROWS_AS(parse_server_message(R"({"type":"notice"})"), ProtocolError);
  CHECK_THROWS_AS(parse_server_message(R"({"type":"officer_speaking","speaking":"yes"})"), ProtocolError);
}

TEST_CASE("SignalingMessages: unix_ms_of_iso reads the server's times") {
  CHECK(unix_ms_of_iso("1970-01-01T00:00:01.500Z") == std::optional<long long>(1500));
  CHECK(unix_ms_of_iso("2026-11-23T09:30:00Z").has_value());
  CHECK(*unix_ms_of_iso("2026-11-23T09:30:00.250Z") - *unix_ms_of_iso("2026-11-23T09:00:00.000Z") == 1800250);
  CHECK_FALSE(unix_ms_of_iso("2026-11-23 09:30:00Z"));
  CHECK_FALSE(unix_ms_of_iso("2026-02-30T00:00:00Z"));
  CHECK_FALSE(unix_ms_of_iso(""));
}
