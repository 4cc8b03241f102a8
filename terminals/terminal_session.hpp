#pragma once
// One run of huijian-terminal: connects to huijiand, offers media, follows the
// meeting (ready / connect / connected / end), draws name and call time,
// and writes the report. Runs on the GLib main loop of the calling thread.

#include "terminals/call_report.hpp"
#include "terminals/main_loop_task.hpp"
#include "terminals/media_pipeline.hpp"
#include "terminals/signaling_client.hpp"
#include "terminals/signaling_messages.hpp"
#include "terminals/terminal_options.hpp"

#include <glib.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace huijian::terminals {

// "00:00:00" for a call time; hours keep counting past 99.
std::string format_call_time(std::chrono::seconds elapsed);

class TerminalSession : public MediaPipelineListener, public SignalingClientListener {
 public:
  explicit TerminalSession(TerminalOptions options);
  ~TerminalSession() override;
  TerminalSession(const TerminalSession&) = delete;
  TerminalSession& operator=(const TerminalSession&) = delete;

  // Runs until the meeting ends or a bound is hit; returns the process exit
  // code (0 = the meeting connected and ended normally). Throws on setup
  // errors (MediaError, SignalingError) with a message for the user.
  int run();

  // MediaPipelineListener (main loop)
  void on_local_offer(const std::string& sdp) override;
  void on_local_candidate(const IceCandidate& candidate) override;
  void on_connection_state(const std::string& kind, const std::string& state) override;
  void on_first_remote_frame() override;
  void on_key(const std::string& key) override;
  void on_media_error(const std::string& message) override;

  // SignalingClientListener (network thread; marshalled to the main loop)
  void on_signaling_open() override;
  void on_signaling_message(std::string text) override;
  void on_signaling_closed(std::string reason) override;

 private:
  int run_self_test();
  void handle_message(const std::string& text);
  void handle(const WelcomeMessage& m);
  void handle(const AnswerMessage& m);
  void handle(const CandidateMessage& m);
  void handle(const StateMessage& m);
  void handle(const PeerReadyMessage& m);
  void handle(const EndedMessage& m);
  void handle(const MediaStateMessage& m);
  void handle(const ErrorMessage& m);
  void handle(const TimeMessage& m);
  void handle(const TimeWarningMessage& m);
  void handle(const NoticeMessage& m);
  void handle(const OfficerSpeakingMessage& m);
  void handle(const OtherMessage& m);

  void send(std::string text);
  void maybe_send_offer();
  void press_ready();
  void press_connect();
  void on_connected();
  void end_meeting(const std::string& reason);
  void on_meeting_ended(const std::string& by, const std::string& reason);
  void finish(bool ok, const std::string& reason);
  // Ends the media drain after the meeting ended now, with its outcome.
  void finish_drain();
  void update_overlay();
  // The status line (bottom of the picture, and the report): end reason,
  // officer speaking, the latest time warning, time change and notice.
  std::string status_text();
  void show_for(std::optional<std::pair<std::string, std::chrono::steady_clock::time_point>>& slot,
                const std::string& text, std::chrono::seconds how_long);
  void say(const std::string& line);  // user-facing status line on stdout
  void watch_stdin();

  TerminalOptions options_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  CallReport report_;
  std::unique_ptr<GMainLoop, void (*)(GMainLoop*)> loop_;
  std::unique_ptr<MediaPipeline> media_;
  std::unique_ptr<SignalingClient> signaling_;

  std::string display_name_;
  std::string meeting_id_;
  bool welcomed_ = false;
  std::optional<std::string> offer_;
  bool offer_sent_ = false;
  std::vector<IceCandidate> pending_local_candidates_;
  bool ready_sent_ = false;
  bool connect_sent_ = false;
  bool peer_ready_ = false;
  bool ending_ = false;
  bool ended_ = false;
  bool finished_ = false;
  int exit_code_ = 1;
  std::optional<std::chrono::steady_clock::time_point> connected_at_;
  std::optional<std::chrono::steady_clock::time_point> first_frame_at_;

  // Supervision: end time, warnings, notices, officer speaking, end reason.
  std::optional<std::chrono::steady_clock::time_point> ends_at_local_;
  bool officer_speaking_ = false;
  std::optional<std::pair<std::string, std::chrono::steady_clock::time_point>> warning_shown_;
  std::optional<std::pair<std::string, std::chrono::steady_clock::time_point>> time_change_shown_;
  std::optional<std::pair<std::string, std::chrono::steady_clock::time_point>> notice_shown_;
  std::string end_text_;
  std::string last_status_;
  std::string state_end_by_;

  MainLoopTimer exit_after_timer_;
  MainLoopTimer auto_ready_timer_;
  MainLoopTimer duration_timer_;
  MainLoopTimer overlay_timer_;
  MainLoopTimer end_wait_timer_;
  MainLoopTimer ended_message_timer_;
  MainLoopTimer self_test_timer_;
  // After a connected meeting ended, the pipeline keeps receiving for a moment
  // before the report is written (see kMediaDrainAfterEnd); the run's outcome
  // (exit ok, reason) waits here meanwhile.
  std::optional<std::pair<bool, std::string>> drain_outcome_;
  MainLoopTimer drain_timer_;
  guint stdin_watch_ = 0;
  std::vector<guint> signal_watches_;
};

}  // namespace huijian::terminals
