#include <catch2/catch.hpp>

#include "signaling/client_message.hpp"
#include "signaling/errors.hpp"

using namespace huijian::signaling;

namespace {

constexpr std::size_t kMax = 65536;

// The error code parse_client_message throws for `text`, and the ref it reports.
std::pair<std::string, std::string> refused(std::string_view text, std::size_t max = kMax) {
  std::string ref;
  try {
    parse_client_message(text, max, &ref);
  } catch (const ProtocolError& e) {
    return {e.code(), ref};
  }
  return {"accepted", ref};
}

}  // namespace

TEST_CASE("ClientMessage: hello carries device, secret and the optional meeting") {
  auto m = parse_client_message(R"({"type":"hello","device":"lawyer-1","secret":"s3cret!!","meeting":"m-1"})", kMax);
  auto& hello = std::get<HelloMessage>(m);
  CHECK(hello.device == "lawyer-1");
  CHECK(hello.secret == "s3cret!!");
  CHECK(hello.meeting == std::optional<std::string>("m-1"));
  auto without = std::get<HelloMessage>(parse_client_message(R"({"type":"hello","device":"d","secret":"x","meeting":null})", kMax));
  CHECK_FALSE(without.meeting);
}

TEST_CASE("ClientMessage: not JSON or not an object is bad_json") {
  CHECK(refused("{\"type\":").first == "bad_json");
  CHECK(refused("[1,2]").first == "bad_json");
  CHECK(refused("\"hello\"").first == "bad_json");
  CHECK(refused("").first == "bad_json");
  CHECK(refused("{\"type\":\"ping\",\"x\":\"\xff\"}").first == "bad_json");  // invalid UTF-8
}

TEST_CASE("ClientMessage: a missing or non-string type is refused, an unknown type named") {
  CHECK(refused("{}").first == "missing_field");
  CHECK(refused(R"({"type":5})").first == "bad_field");
  std::string ref;
  try {
    parse_client_message(R"({"type":"dance"})", kMax, &ref);
    FAIL("accepted");
  } catch (const ProtocolError& e) {
    CHECK(e.code() == "unknown_type");
    CHECK(std::string(e.what()).find("\"dance\"") != std::string::npos);
  }
  CHECK(ref == "dance");
}

TEST_CASE("ClientMessage: fields are checked and named, and the ref is the message type") {
  CHECK(refused(R"({"type":"hello","secret":"x"})") == std::pair<std::string, std::string>{"missing_field", "hello"});
  CHECK(refused(R"({"type":"hello","device":1,"secret":"x"})").first == "bad_field");
  CHECK(refused(R"({"type":"hello","device":"d","secret":"x","meeting":7})").first == "bad_field");
  CHECK(refused(R"({"type":"offer"})") == std::pair<std::string, std::string>{"missing_field", "offer"});
  CHECK(refused(R"({"type":"offer","sdp":{}})").first == "bad_field");
  CHECK(refused(R"({"type":"end","reason":3})").first == "bad_field");
}

TEST_CASE("ClientMessage: an offer must look like SDP") {
  CHECK(refused(R"({"type":"offer","sdp":"hello"})").first == "bad_sdp");
  CHECK(refused(R"({"type":"offer","sdp":""})").first == "bad_sdp");
  std::string big = R"({"type":"offer","sdp":"v=0)" + std::string(kMaxSdpBytes, 'a') + "\"}";
  CHECK(refused(big, 1 << 20).first == "bad_sdp");
  auto ok = parse_client_message(R"({"type":"offer","sdp":"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n"})", kMax);
  CHECK(std::get<OfferMessage>(ok).sdp.rfind("v=0\r\n", 0) == 0);
}

TEST_CASE("ClientMessage: candidates must start with candidate: or be empty") {
  auto c = std::get<CandidateMessage>(parse_client_message(
      R"({"type":"candidate","candidate":"candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host","sdpMid":"0","sdpMLineIndex":0})",
      kMax));
  CHECK(c.sdp_mid == "0");
  CHECK(c.mline_index == std::optional<unsigned>(0));
  auto end = std::get<CandidateMessage>(parse_client_message(R"({"type":"candidate","candidate":"","sdpMid":"0"})", kMax));
  CHECK(end.candidate.empty());
  CHECK(refused(R"({"type":"candidate","candidate":"a=candidate:1","sdpMid":"0"})").first == "bad_candidate");
  CHECK(refused(R"({"type":"candidate","candidate":"candidate:1\r\na=x","sdpMid":"0"})").first == "bad_candidate");
  CHECK(refused(R"({"type":"candidate","candidate":"candidate:1"})").first == "missing_field");
  CHECK(refused(R"({"type":"candidate","candidate":"candidate:1","sdpMLineIndex":-1})").first == "bad_field");
  CHECK(refused(R"({"type":"candidate","candidate":"candidate:1","sdpMLineIndex":64})").first == "bad_field");
}

TEST_CASE("ClientMessage: an end reason is limited to 200 characters, counted in characters") {
  std::string chinese_200;
  for (int i = 0; i < 200; ++i) chinese_200 += "会";  // 3 bytes each
  auto m = parse_client_message(R"({"type":"end","reason":")" + chinese_200 + "\"}", kMax);
  CHECK(utf8_length(std::get<EndMessage>(m).reason) == 200);
  CHECK(refused(R"({"type":"end","reason":")" + chinese_200 + "x\"}").first == "bad_field");
  CHECK(std::get<EndMessage>(parse_client_message(R"({"type":"end"})", kMax)).reason.empty());
}

TEST_CASE("ClientMessage: a message over the limit is too_large before it is parsed") {
  std::string text = R"({"type":"ping","pad":")" + std::string(100, 'x') + "\"}";
  CHECK(refused(text, 50).first == "too_large");
  CHECK(refused(text, text.size()).first == "accepted");
}

TEST_CASE("ClientMessage: the simple messages parse to their types") {
  CHECK(std::holds_alternative<ReadyMessage>(parse_client_message(R"({"type":"ready"})", kMax)));
  CHECK(std::holds_alternative<ConnectMessage>(parse_client_message(R"({"type":"connect","extra":1})", kMax)));
  CHECK(std::holds_alternative<PingMessage>(parse_client_message(R"({"type":"ping"})", kMax)));
}

TEST_CASE("ClientMessage: officer_hello carries the login token") {
  auto m = parse_client_message(R"({"type":"officer_hello","token":"abc123"})", kMax);
  CHECK(std::get<OfficerHelloMessage>(m).token == "abc123");
  CHECK(refused(R"({"type":"officer_hello"})") == std::pair<std::string, std::string>{"missing_field", "officer_hello"});
  CHECK(refused(R"({"type":"officer_hello","token":")" + std::string(200, 'a') + "\"}").first == "bad_field");
  CHECK_FALSE(is_officer_message(m));  // a hello, not an action
}

TEST_CASE("ClientMessage: set_time takes minutes or remaining_seconds, exactly one, in range") {
  auto m = std::get<SetTimeMessage>(parse_client_message(R"({"type":"set_time","meeting":"m-1","minutes":45})", kMax));
  CHECK(m.meeting == "m-1");
  CHECK(m.minutes == std::optional<int>(45));
  CHECK_FALSE(m.remaining_seconds);
  auto r = std::get<SetTimeMessage>(
      parse_client_message(R"({"type":"set_time","meeting":"m-1","remaining_seconds":90})", kMax));
  CHECK(r.remaining_seconds == std::optional<int>(90));
  CHECK(refused(R"({"type":"set_time","meeting":"m-1"})").first == "missing_field");
  CHECK(refused(R"({"type":"set_time","meeting":"m-1","minutes":5,"remaining_seconds":5})").first == "bad_field");
  CHECK(refused(R"({"type":"set_time","meeting":"m-1","minutes":0})").first == "bad_field");
  CHECK(refused(R"({"type":"set_time","meeting":"m-1","minutes":481})").first == "bad_field");
  CHECK(refused(R"({"type":"set_time","meeting":"m-1","minutes":2.5})").first == "bad_field");
  CHECK(refused(R"({"type":"set_time","meeting":"m-1","remaining_seconds":28801})").first == "bad_field");
  CHECK(refused(R"({"type":"set_time","minutes":5})").first == "missing_field");
  CHECK(refused(R"({"type":"set_time","meeting":"","minutes":5})").first == "bad_field");
}

TEST_CASE("ClientMessage: a notice is one line of 1 to 200 characters") {
  std::string chinese_200;
  for (int i = 0; i < 200; ++i) chinese_200 += "注";
  auto n = std::get<NoticeMessage>(
      parse_client_message(R"({"type":"notice","meeting":"m-1","text":")" + chinese_200 + "\"}", kMax));
  CHECK(utf8_length(n.text) == 200);
  CHECK(refused(R"({"type":"notice","meeting":"m-1","text":")" + chinese_200 + "x\"}").first == "bad_field");
  CHECK(refused(R"({"type":"notice","meeting":"m-1","text":"   "})").first == "bad_field");
  CHECK(refused(R"({"type":"notice","meeting":"m-1","text":"a\nb"})").first == "bad_field");
  CHECK(refused(R"({"type":"notice","meeting":"m-1"})").first == "missing_field");
}

TEST_CASE("ClientMessage: terminate needs a code of the fixed list, and text for violation_other") {
  auto t = std::get<TerminateMessage>(
      parse_client_message(R"({"type":"terminate","meeting":"m-1","code":"violation_phone"})", kMax));
  CHECK(t.code == "violation_phone");
  CHECK(t.text.empty());
  auto other = std::get<TerminateMessage>(parse_client_message(
      R"({"type":"terminate","meeting":"m-1","code":"violation_other","text":"传递纸条"})", kMax));
  CHECK(other.text == "传递纸条");
  CHECK(refused(R"({"type":"terminate","meeting":"m-1","code":"violation_other"})").first == "missing_field");
  std::string ref;
  try {
    parse_client_message(R"({"type":"terminate","meeting":"m-1","code":"because"})", kMax, &ref);
    FAIL("accepted");
  } catch (const ProtocolError& e) {
    CHECK(e.code() == "bad_field");
    CHECK(std::string(e.what()).find("time_over, violation_phone, violation_third_person, violation_prohibited_item, "
                                     "violation_other, technical_fault") != std::string::npos);
  }
  CHECK(ref == "terminate");
}

TEST_CASE("ClientMessage: the officer actions are told apart from terminal messages") {
  for (const char* text : {R"({"type":"set_time","meeting":"m","minutes":5})", R"({"type":"notice","meeting":"m","text":"x"})",
                           R"({"type":"interjection_start","meeting":"m"})", R"({"type":"interjection_stop","meeting":"m"})",
                           R"({"type":"terminate","meeting":"m","code":"technical_fault"})"}) {
    INFO(text);
    CHECK(is_officer_message(parse_client_message(text, kMax)));
  }
  for (const char* text : {R"({"type":"ready"})", R"({"type":"end"})", R"({"type":"ping"})"})
    CHECK_FALSE(is_officer_message(parse_client_message(text, kMax)));
}
