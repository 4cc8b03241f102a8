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

TEST_CASE("CallReport: supervision entries (call time, warnings, notices, officer speaking, end) are in the JSON") {
  CallReport r("lawyer-1", "lawyer");
  CHECK(r.to_json()["ends_at"].is_null());
  CHECK(r.to_json()["end"].is_null());
  r.add_call_time({"2026-11-23T09:30:00.000Z", "2026-11-23T09:00:00.000Z", 1800, 1800, "server", "", "t1"});
  r.add_call_time({"2026-11-23T09:10:00.000Z", "2026-11-23T09:05:00.000Z", 300, 600, "officer", "会见时间已调整", "t2"});
  r.add_time_warning({60, "会见时间还剩 1 分钟", "1 minute left", "t3"});
  r.add_notice({"请勿出示手机", "监管民警", "2026-11-23T09:06:00.000Z", "t4"});
  r.add_officer_speaking({true, "s1", "t5"});
  r.add_officer_speaking({false, "s2", "t6"});
  r.add_status_text("监管民警插话 · Officer speaking", "t5");
  r.set_end({"officer", "违规：出示手机 · Violation: a phone was shown", "violation_phone", "违规：出示手机",
             "Violation: a phone was shown", "", "t7"});
  json j = r.to_json();
  CHECK(j["ends_at"] == "2026-11-23T09:10:00.000Z");
  REQUIRE(j["call_time"].size() == 2);
  CHECK(j["call_time"][1]["by"] == "officer");
  CHECK(j["call_time"][1]["text"] == "会见时间已调整");
  CHECK(j["call_time"][0]["length_seconds"] == 1800);
  CHECK(j["time_warnings"][0]["remaining_seconds"] == 60);
  CHECK(j["notices"][0]["text"] == "请勿出示手机");
  CHECK(j["officer_speaking"].size() == 2);
  CHECK(j["officer_speaking"][1]["speaking"] == false);
  CHECK(j["status_texts"][0]["text"] == "监管民警插话 · Officer speaking");
  CHECK(j["end"]["code"] == "violation_phone");
  CHECK(j["end"]["by"] == "officer");
  CHECK(j["end"]["at"] == "t7");
}

TEST_CASE("CallReport: the media object has every counter, the officer's voice and when media last came") {
  CallReport r("lawyer-1", "lawyer");
  MediaCounters c;
  c.remote_frames_decoded = 300;
  c.remote_audio_packets = 500;
  c.officer_audio_packets = 150;
  c.officer_audio_first_ms = 1795424760123;  // 2026-11-23T09:06:00.123Z
  c.officer_audio_last_ms = 1795424763004;
  c.remote_media_last_ms = 1795424770999;
  r.set_media(c);
  json j = r.to_json();
  REQUIRE(j["media"].is_object());
  const json& m = j["media"];
  CHECK(m["officer_audio_packets"] == 150);
  CHECK(m["officer_audio_first_at"] == "2026-11-23T09:06:00.123Z");
  CHECK(m["officer_audio_last_at"] == "2026-11-23T09:06:03.004Z");
  CHECK(m["remote_media_last_at"] == "2026-11-23T09:06:10.999Z");
  // The officer's voice is not the other party's sound.
  CHECK(m["remote_audio_packets"] == 500);
  CHECK(m["remote_frames_decoded"] == 300);
  // The counters the existing tests read stay at the top level, unchanged.
  CHECK(j["remote_audio_packets"] == 500);
  CHECK(j["remote_frames_decoded"] == 300);
  CHECK_FALSE(j.contains("officer_audio_packets"));
}

TEST_CASE("CallReport: no officer voice and no media mean 0 packets and null times") {
  json m = CallReport("det-1", "detainee").to_json()["media"];
  CHECK(m["officer_audio_packets"] == 0);
  CHECK(m["officer_audio_first_at"].is_null());
  CHECK(m["officer_audio_last_at"].is_null());
  CHECK(m["remote_media_last_at"].is_null());
}

TEST_CASE("CallReport: iso_from_unix_ms formats UTC with milliseconds, also around 1970") {
  CHECK(iso_from_unix_ms(0) == "1970-01-01T00:00:00.000Z");
  CHECK(iso_from_unix_ms(1795424760123) == "2026-11-23T09:06:00.123Z");
  CHECK(iso_from_unix_ms(-1) == "1969-12-31T23:59:59.999Z");
}
