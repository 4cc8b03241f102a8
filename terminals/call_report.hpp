#pragma once
// What one terminal run saw: meeting and connection states in order, media
// counters, errors and why it exited. Written as JSON with --report.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace huijian::terminals {

class ReportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct TimedState {
  std::string state;
  std::string at;    // ISO 8601
  std::string kind;  // connection states: "ice", "peer", "gathering", "server"; empty for meeting states
};

struct MediaCounters {
  std::uint64_t remote_frames_decoded = 0;
  int remote_width = 0;
  int remote_height = 0;
  std::uint64_t remote_audio_packets = 0;  // the other party's sound only
  std::uint64_t local_frames_sent = 0;
  // The supervising officer's voice (the terminal's recvonly audio m-line):
  // RTP packets and the wall-clock times (UTC, ms since 1970) of the first and
  // the last one; nullopt before any arrived.
  std::uint64_t officer_audio_packets = 0;
  std::optional<std::int64_t> officer_audio_first_ms;
  std::optional<std::int64_t> officer_audio_last_ms;
  // The last RTP buffer of any incoming stream (picture, sound, officer's
  // voice), UTC ms since 1970: when media stopped after the end.
  std::optional<std::int64_t> remote_media_last_ms;
};

// What the supervision of the meeting told this terminal (all times: `at` is
// local UTC when it arrived; server times are kept as the server sent them).
struct CallTimeUpdate {
  std::string ends_at;
  std::string server_now;
  long long remaining_seconds = 0;
  std::optional<long long> length_seconds;
  std::string by;
  std::string text;
  std::string at;
};
struct TimeWarningEntry {
  long long remaining_seconds = 0;
  std::string text;
  std::string text_en;
  std::string at;
};
struct NoticeEntry {
  std::string text;
  std::string from;
  std::string server_at;
  std::string at;
};
struct SpeakingEntry {
  bool speaking = false;
  std::string server_at;
  std::string at;
};
struct EndEntry {
  std::string by;
  std::string reason;
  std::string code;
  std::string text_zh;
  std::string text_en;
  std::string detail;
  std::string at;
};
// The status line the terminal showed (drawn on the picture with a live
// source, printed on the console always), each time it changed.
struct StatusEntry {
  std::string text;
  std::string at;
};

class CallReport {
 public:
  CallReport(std::string device, std::string role);

  void set_meeting(std::string meeting_id) { meeting_ = std::move(meeting_id); }
  void add_meeting_state(std::string state, std::string at);
  void add_connection_state(std::string kind, std::string state, std::string at);
  void add_error(std::string message);
  void set_time_to_first_remote_frame_ms(std::int64_t ms) { ttff_ms_ = ms; }
  void set_media(const MediaCounters& counters) { media_ = counters; }
  void set_exit_reason(std::string reason) { exit_reason_ = std::move(reason); }
  void add_call_time(CallTimeUpdate update);
  void add_time_warning(TimeWarningEntry warning);
  void add_notice(NoticeEntry notice);
  void add_officer_speaking(SpeakingEntry entry);
  void set_end(EndEntry end) { end_ = std::move(end); }
  void add_status_text(std::string text, std::string at);

  const std::vector<TimedState>& meeting_states() const noexcept { return meeting_states_; }
  const std::vector<std::string>& errors() const noexcept { return errors_; }
  bool saw_meeting_state(const std::string& state) const noexcept;

  nlohmann::json to_json() const;
  // Writes to `path` through a temporary file and a rename, so a reader never
  // sees half a report. Throws ReportError naming the path on failure.
  void write(const std::string& path) const;

 private:
  static constexpr std::size_t kMaxEntries = 1000;  // bounded: the server could flood us
  std::string device_;
  std::string role_;
  std::string meeting_;
  std::optional<std::int64_t> ttff_ms_;
  MediaCounters media_;
  std::vector<TimedState> meeting_states_;
  std::vector<TimedState> connection_states_;
  std::vector<std::string> errors_;
  std::string exit_reason_;
  std::vector<CallTimeUpdate> call_time_;
  std::vector<TimeWarningEntry> time_warnings_;
  std::vector<NoticeEntry> notices_;
  std::vector<SpeakingEntry> officer_speaking_;
  std::optional<EndEntry> end_;
  std::vector<StatusEntry> status_texts_;
};

// Current UTC time as "2024-05-01T12:34:56.789Z".
std::string iso_now();
// The same format for a time given as UTC milliseconds since 1970.
std::string iso_from_unix_ms(std::int64_t unix_ms);

}  // namespace huijian::terminals
