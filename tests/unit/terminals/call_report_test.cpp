#include "terminals/call_report.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <regex>
#include <unistd.h>

using namespace huijian::terminals;
using nlohmann::json;

TEST_CASE("CallReport: JSON has every field the tests read, states in order") {
  CallReport r("det-1", "detainee");
  r.set_meeting("m-1");
  r.add_meeting_state("waiting", "2024-05-01T10:00:00Z");
  r.add_meeting_state("detainee_ready", "2024-05-01T10:00:01Z");
  r.add_meeting_state("connected", "2024-05-01T10:00:02Z");
  r.add_connection_state("ice", "checking", "t1");
  r.add_connection_state("peer", "connected", "t2");
  r.set_time_to_first_remote_frame_ms(420);
  MediaCounters c;
  c.remote_frames_decoded = 300;
  c.remote_width = 1920;
  c.remote_height = 1080;
  c.remote_audio_packets = 500;
  c.local_frames_sent = 310;
  r.set_media(c);
  r.add_error("something");
  r.set_exit_reason("meeting ended");

  json j = r.to_json();
  CHECK(j["device"] == "det-1");
  CHECK(j["role"] == "detainee");
  CHECK(j["meeting"] == "m-1");
  CHECK(j["time_to_first_remote_frame_ms"] == 420);
  CHECK(j["remote_frames_decoded"] == 300);
  CHECK(j["remote_width"] == 1920);
  CHECK(j["remote_height"] == 1080);
  CHECK(j["remote_audio_packets"] == 500);
  CHECK(j["local_frames_sent"] == 310);
  REQUIRE(j["meeting_states"].size() == 3);
  CHECK(j["meeting_states"][0] == json{{"state", "waiting"}, {"at", "2024-05-01T10:00:00Z"}});
  CHECK(j["meeting_states"][2]["state"] == "connected");
  REQUIRE(j["connection_states"].size() == 2);
  CHECK(j["connection_states"][1]["kind"] == "peer");
  CHECK(j["connection_states"][1]["state"] == "connected");
  CHECK(j["errors"] == json::array({"something"}));
  CHECK(j["exit_reason"] == "meeting ended");
  CHECK(r.saw_meeting_state("connected"));
  CHECK_FALSE(r.saw_meeting_state("ended"));
}

TEST_CASE("CallReport: no frame yet means null time to first frame and null meeting") {
  CallReport r("lawyer-1", "lawyer");
  json j = r.to_json();
  CHECK(j["time_to_first_remote_frame_ms"].is_null());
  CHECK(j["meeting"].is_null());
  CHECK(j["remote_frames_decoded"] == 0);
  CHECK(j["meeting_states"].empty());
}

TEST_CASE("CallReport: a flood of states is bounded") {
  CallReport r("d", "lawyer");
  for (int i = 0; i < 5000; ++i) r.add_meeting_state("waiting", "t");
  CHECK(r.meeting_states().size() == 1000);
}

TEST_CASE("CallReport: write replaces the file atomically and round-trips") {
  std::string path = "/tmp/huijian-report-test-" + std::to_string(::getpid()) + ".json";
  CallReport r("lawyer-1", "lawyer");
  r.set_exit_reason("x");
  r.write(path);
  std::ifstream in(path);
  json j = json::parse(in);
  CHECK(j == r.to_json());
  std::remove(path.c_str());
  CHECK_THROWS_AS(r.write("/nonexistent-dir/report.json"), ReportError);
}

TEST_CASE("CallReport: iso_now is UTC ISO 8601 with milliseconds") {
  CHECK(std::regex_match(iso_now(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
}
