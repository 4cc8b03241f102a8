#include "terminals/terminal_session.hpp"

#include "terminals/terminal_log.hpp"

#include <fmt/format.h>
#include <glib-unix.h>
#include <unistd.h>

#include <csignal>
#include <iostream>

namespace huijian::terminals {

namespace {

constexpr std::size_t kMaxPendingLocalCandidates = 256;
constexpr auto kEndConfirmTimeout = std::chrono::seconds(5);
// After "state: ended" the server sends "ended" with the reason at once.
constexpr auto kEndedMessageWait = std::chrono::milliseconds(1000);
constexpr auto kWarningShown = std::chrono::seconds(20);
constexpr auto kTimeChangeShown = std::chrono::seconds(15);
constexpr auto kNoticeShown = std::chrono::seconds(30);
// After a connected meeting ended the terminal keeps receiving this long
// before it writes the report and exits. The relay must stop forwarding when
// a meeting ends; a terminal that left at once could not tell whether media
// still came (remote_media_last_at in the report), so it watches a while.
constexpr auto kMediaDrainAfterEnd = std::chrono::milliseconds(1000);

std::shared_ptr<spdlog::logger> log() {
  static auto logger = component_logger("terminal");
  return logger;
}

std::int64_t ms_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

}  // namespace

std::string format_call_time(std::chrono::seconds elapsed) {
  long long s = elapsed.count() < 0 ? 0 : elapsed.count();
  return fmt::format("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
}

TerminalSession::TerminalSession(TerminalOptions options)
    : options_(std::move(options)),
      report_(options_.device, to_string(options_.role)),
      loop_(g_main_loop_new(nullptr, FALSE), &g_main_loop_unref) {
  display_name_ = options_.name.empty() ? options_.device : options_.name;
}

TerminalSession::~TerminalSession() {
  if (stdin_watch_) g_source_remove(stdin_watch_);
  for (guint id : signal_watches_) g_source_remove(id);
  signaling_.reset();  // joins the network thread first: no more callbacks
  media_.reset();
}

void TerminalSession::say(const std::string& line) {
  std::cout << "[" << options_.device << "] " << line << std::endl;
}

int TerminalSession::run() {
  // SIGINT/SIGTERM: leave properly (end the meeting, write the report).
  for (int sig : {SIGINT, SIGTERM}) {
    signal_watches_.push_back(g_unix_signal_add(
        sig,
        [](gpointer data) -> gboolean {
          auto* self = static_cast<TerminalSession*>(data);
          if (self->connected_at_ && !self->ended_ && !self->ending_) {
            self->end_meeting("terminal stopped");
          } else if (self->drain_outcome_) {
            self->finish_drain();  // the meeting ended properly; only the drain is cut short
          } else {
            self->finish(false, "stopped by signal");
          }
          return G_SOURCE_CONTINUE;
        },
        this));
  }

  media_ = std::make_unique<MediaPipeline>(media_config_from(options_), options_.source_file, *this);
  if (options_.self_test_s) return run_self_test();

  media_->start();
  update_overlay();
  overlay_timer_ = MainLoopTimer(std::chrono::seconds(1), true, [this] { update_overlay(); });

  signaling_ = std::make_unique<SignalingClient>(parse_server_url(options_.server),
                                                 TlsSettings{options_.ca_file, options_.insecure}, *this);
  if (options_.insecure) log()->warn("--insecure: the server certificate is NOT verified; use only for tests");
  say("正在连接服务器 " + options_.server);
  signaling_->start();

  if (options_.exit_after_s) {
    double s = *options_.exit_after_s;
    exit_after_timer_ = MainLoopTimer(std::chrono::milliseconds(static_cast<long long>(s * 1000)), false, [this, s] {
      if (drain_outcome_) return finish_drain();  // the meeting has ended; the bound only cuts the drain short
      report_.add_error(fmt::format("exit-after bound of {} s reached", s));
      finish(false, fmt::format("exit-after {} s reached", s));
    });
  }
  if (!options_.headless) watch_stdin();

  g_main_loop_run(loop_.get());
  return exit_code_;
}

int TerminalSession::run_self_test() {
  media_->start();
  update_overlay();
  const double seconds = *options_.self_test_s;
  say(fmt::format("self-test: sending pipeline into fakesink for {} s", seconds));
  auto started = std::chrono::steady_clock::now();
  self_test_timer_ =
      MainLoopTimer(std::chrono::milliseconds(static_cast<long long>(seconds * 1000)), false, [this, started] {
        auto c = media_->counters();
        double elapsed = ms_between(started, std::chrono::steady_clock::now()) / 1000.0;
        double fps = elapsed > 0 ? c.local_frames_sent / elapsed : 0.0;
        say(fmt::format("self-test: {} encoded frames in {:.1f} s = {:.1f} frames/s (target {})",
                        c.local_frames_sent, elapsed, fps, options_.fps));
        exit_code_ = c.local_frames_sent > 0 ? 0 : 1;
        report_.set_media(c);
        report_.set_exit_reason(fmt::format("self-test: {:.1f} frames/s", fps));
        if (!options_.report_file.empty()) {
          try {
            report_.write(options_.report_file);
          } catch (const ReportError& e) {
            log()->error("{}", e.what());
            exit_code_ = 1;
          }
        }
        g_main_loop_quit(loop_.get());
      });
  g_main_loop_run(loop_.get());
  media_->stop();
  return exit_code_;
}

void TerminalSession::watch_stdin() {
  if (!isatty(STDIN_FILENO)) return;
  GIOChannel* channel = g_io_channel_unix_new(STDIN_FILENO);
  stdin_watch_ = g_io_add_watch(
      channel, static_cast<GIOCondition>(G_IO_IN | G_IO_HUP),
      [](GIOChannel* ch, GIOCondition cond, gpointer data) -> gboolean {
        auto* self = static_cast<TerminalSession*>(data);
        if (cond & G_IO_HUP) {
          self->stdin_watch_ = 0;
          return G_SOURCE_REMOVE;
        }
        gchar* line = nullptr;
        gsize len = 0;
        if (g_io_channel_read_line(ch, &line, &len, nullptr, nullptr) != G_IO_STATUS_NORMAL || !line) {
          self->stdin_watch_ = 0;
          return G_SOURCE_REMOVE;
        }
        std::string key(line, len);
        g_free(line);
        while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ')) key.pop_back();
        if (!key.empty()) self->on_key(key);
        return G_SOURCE_CONTINUE;
      },
      this);
  g_io_channel_unref(channel);
  say(options_.is_lawyer() ? "按键: c = 接通, q = 结束 (视频窗口或此终端输入后回车)"
                           : "按键: r = 就位, q = 结束 (视频窗口或此终端输入后回车)");
}

// --- signaling ------------------------------------------------------------

void TerminalSession::send(std::string text) {
  if (signaling_) signaling_->send(std::move(text));
}

void TerminalSession::on_signaling_open() {
  post_to_main(alive_, [this] {
    log()->info("connected to the server; sending hello as {}", options_.device);
    send(make_hello(options_.device, options_.secret));
  });
}

void TerminalSession::on_signaling_message(std::string text) {
  post_to_main(alive_, [this, text = std::move(text)] { handle_message(text); });
}

void TerminalSession::on_signaling_closed(std::string reason) {
  post_to_main(alive_, [this, reason = std::move(reason)] {
    if (finished_) return;
    if (drain_outcome_) return;  // the meeting ended; the drain timer finishes the run
    if (ended_) return finish(true, "meeting ended");
    report_.add_error("signaling: " + reason);
    say("与服务器的连接已断开: " + reason);
    finish(false, "server connection closed: " + reason);
  });
}

void TerminalSession::handle_message(const std::string& text) {
  if (finished_) return;
  if (ended_) {
    // During the media drain: the meeting's record is complete.
    log()->debug("server message after the end ignored");
    return;
  }
  try {
    ServerMessage message = parse_server_message(text);
    std::visit([this](const auto& m) { handle(m); }, message);
  } catch (const ProtocolError& e) {
    log()->warn("bad message from the server ignored: {}", e.what());
    report_.add_error(std::string("bad message from server: ") + e.what());
  }
}

void TerminalSession::handle(const WelcomeMessage& m) {
  if (welcomed_) {
    log()->warn("second welcome ignored");
    return;
  }
  welcomed_ = true;
  meeting_id_ = m.meeting_id;
  report_.set_meeting(m.meeting_id);
  if (options_.name.empty() && !m.name.empty()) display_name_ = m.name;
  const std::string expected = to_string(options_.role) + "-terminal";
  if (!m.role.empty() && m.role != expected)
    log()->warn("server says this device is a {}, but --role is {}", m.role, to_string(options_.role));
  say(fmt::format("已登录: {} ({}); 会见 {}, 对方 {} ", display_name_, m.device,
                  m.meeting_id.empty() ? "-" : m.meeting_id, m.peer.name.empty() ? m.peer.device : m.peer.name));
  if (!m.meeting_state.empty()) report_.add_meeting_state(m.meeting_state, iso_now());
  update_overlay();
  maybe_send_offer();

  if (options_.auto_ready_s && !options_.is_lawyer()) {
    auto_ready_timer_ = MainLoopTimer(
        std::chrono::milliseconds(static_cast<long long>(*options_.auto_ready_s * 1000)), false,
        [this] { press_ready(); });
  }
  if (m.meeting_state == "connected") on_connected();
  if (m.meeting_state == "detainee_ready" && options_.is_lawyer()) handle(PeerReadyMessage{"对方已就位", "请按此键接通"});
}

void TerminalSession::handle(const AnswerMessage& m) {
  try {
    media_->set_remote_answer(m.sdp);
    log()->info("answer received");
  } catch (const MediaError& e) {
    report_.add_error(e.what());
    finish(false, e.what());
  }
}

void TerminalSession::handle(const CandidateMessage& m) { media_->add_remote_candidate(m.candidate); }

void TerminalSession::handle(const StateMessage& m) {
  report_.add_meeting_state(m.state, m.at.empty() ? iso_now() : m.at);
  log()->info("meeting state: {}{}", m.state, m.by.empty() ? "" : " (by " + m.by + ")");
  if (!m.text.empty() && m.state != "ended") say(m.text);
  if (m.state == "detainee_ready") {
    if (!options_.is_lawyer()) say("已就位，正在接通");
  } else if (m.state == "connected") {
    on_connected();
  } else if (m.state == "ended" && !ended_) {
    // Wait a moment for the "ended" message that carries the reason.
    state_end_by_ = m.by;
    ended_message_timer_ = MainLoopTimer(kEndedMessageWait, false, [this] {
      report_.set_end(EndEntry{state_end_by_, "", "", "", "", "", iso_now()});
      on_meeting_ended(state_end_by_, "");
    });
  }
}

void TerminalSession::handle(const PeerReadyMessage& m) {
  if (!options_.is_lawyer()) return;
  peer_ready_ = true;
  say(fmt::format("{} — {} (按 c 接通)", m.text.empty() ? "对方已就位" : m.text,
                  m.action.empty() ? "请按此键接通" : m.action));
  if (options_.auto_connect) press_connect();
}

void TerminalSession::handle(const EndedMessage& m) {
  if (ended_) return;
  ended_message_timer_.cancel();
  report_.set_end(EndEntry{m.by, m.reason, m.code, m.text_zh, m.text_en, m.detail, iso_now()});
  std::string shown = m.reason;
  if (!m.code.empty() && !m.text_zh.empty()) {
    shown = m.text_zh + (m.detail.empty() ? "" : "：" + m.detail);
    if (!m.text_en.empty()) shown += " · " + m.text_en;
  }
  end_text_ = shown;
  on_meeting_ended(m.by, shown);
}

void TerminalSession::handle(const TimeMessage& m) {
  auto now = std::chrono::steady_clock::now();
  long long remaining_ms = m.remaining_seconds * 1000;
  auto end_ms = unix_ms_of_iso(m.ends_at), server_now_ms = unix_ms_of_iso(m.now);
  if (end_ms && server_now_ms) remaining_ms = std::max(0LL, *end_ms - *server_now_ms);
  ends_at_local_ = now + std::chrono::milliseconds(remaining_ms);
  report_.add_call_time(
      CallTimeUpdate{m.ends_at, m.now, m.remaining_seconds, m.length_seconds, m.by, m.text, iso_now()});
  log()->info("call time: ends at {} ({} s left, by {})", m.ends_at, m.remaining_seconds, m.by);
  if (!m.text.empty()) {
    say(m.text);
    show_for(time_change_shown_, m.text, kTimeChangeShown);
  } else {
    say(fmt::format("会见时长: 剩余 {} · ends at {}", format_call_time(std::chrono::seconds(m.remaining_seconds)),
                    m.ends_at));
  }
  update_overlay();
}

void TerminalSession::handle(const TimeWarningMessage& m) {
  report_.add_time_warning(TimeWarningEntry{m.remaining_seconds, m.text, m.text_en, iso_now()});
  std::string text = m.text.empty() ? fmt::format("会见时间还剩 {} 秒", m.remaining_seconds) : m.text;
  if (!m.text_en.empty()) text += " · " + m.text_en;
  say(text);
  show_for(warning_shown_, text, kWarningShown);
  update_overlay();
}

void TerminalSession::handle(const NoticeMessage& m) {
  report_.add_notice(NoticeEntry{m.text, m.from, m.at, iso_now()});
  std::string text = "监管民警通知：" + m.text;
  say(text);
  show_for(notice_shown_, text, kNoticeShown);
  update_overlay();
}

void TerminalSession::handle(const OfficerSpeakingMessage& m) {
  report_.add_officer_speaking(SpeakingEntry{m.speaking, m.at, iso_now()});
  officer_speaking_ = m.speaking;
  say(m.speaking ? "监管民警插话 · Officer speaking" : "监管民警插话结束 · Officer finished speaking");
  update_overlay();
}

void TerminalSession::show_for(std::optional<std::pair<std::string, std::chrono::steady_clock::time_point>>& slot,
                               const std::string& text, std::chrono::seconds how_long) {
  slot = std::make_pair(text, std::chrono::steady_clock::now() + how_long);
}

std::string TerminalSession::status_text() {
  if (ended_) return end_text_.empty() ? std::string("会见已结束 · The meeting has ended") : "会见已结束：" + end_text_;
  auto now = std::chrono::steady_clock::now();
  std::string out;
  auto add = [&](const std::string& line) { out += (out.empty() ? "" : "\n") + line; };
  if (officer_speaking_) add("监管民警插话 · Officer speaking");
  for (auto* slot : {&warning_shown_, &time_change_shown_, &notice_shown_}) {
    if (*slot && now >= (*slot)->second) slot->reset();
    if (*slot) add((*slot)->first);
  }
  return out;
}

void TerminalSession::handle(const MediaStateMessage& m) {
  report_.add_connection_state("server", m.state, iso_now());
  log()->info("server media state: {}", m.state);
  if (m.state == "failed") report_.add_error("server reports media failed");
}

void TerminalSession::handle(const ErrorMessage& m) {
  std::string text = fmt::format("server error {}: {}", m.code, m.message);
  report_.add_error(text);
  say("服务器错误: " + m.message + (m.code.empty() ? "" : " (" + m.code + ")"));
  if (!welcomed_) finish(false, "rejected by the server: " + m.message);
}

void TerminalSession::handle(const OtherMessage& m) {
  log()->info("server message '{}'", m.type);
  if (!m.text.empty()) say(m.text);
}

void TerminalSession::maybe_send_offer() {
  if (!welcomed_ || !offer_ || offer_sent_) return;
  offer_sent_ = true;
  send(make_offer(*offer_));
  for (const auto& c : pending_local_candidates_) send(make_candidate(c));
  pending_local_candidates_.clear();
  log()->info("offer sent");
}

void TerminalSession::press_ready() {
  if (options_.is_lawyer() || !welcomed_ || ready_sent_ || connected_at_ || ended_) return;
  ready_sent_ = true;
  send(make_ready());
  say("已按就位 (r)");
}

void TerminalSession::press_connect() {
  if (!options_.is_lawyer() || !welcomed_ || connect_sent_ || connected_at_ || ended_) return;
  if (!peer_ready_) {
    say("对方尚未就位，不能接通");
    return;
  }
  connect_sent_ = true;
  send(make_connect());
  say("正在接通…");
}

void TerminalSession::on_connected() {
  if (connected_at_) return;
  connected_at_ = std::chrono::steady_clock::now();
  if (first_frame_at_) report_.set_time_to_first_remote_frame_ms(0);
  say("通话已接通");
  update_overlay();
  if (options_.duration_s) {
    duration_timer_ = MainLoopTimer(std::chrono::milliseconds(static_cast<long long>(*options_.duration_s * 1000)),
                                    false, [this] { end_meeting("通话时间到"); });
  }
}

void TerminalSession::end_meeting(const std::string& reason) {
  if (ending_ || ended_ || finished_) return;
  ending_ = true;
  say("结束会见: " + reason);
  send(make_end(reason));
  end_wait_timer_ = MainLoopTimer(kEndConfirmTimeout, false, [this] {
    report_.add_error("the server did not confirm the end within 5 s");
    finish(false, "end not confirmed by the server");
  });
}

void TerminalSession::on_meeting_ended(const std::string& by, const std::string& reason) {
  if (ended_) return;
  ended_ = true;
  say(fmt::format("会见已结束{}{}", by.empty() ? "" : " (" + by + ")", reason.empty() ? "" : ": " + reason));
  update_overlay();
  const bool ok = connected_at_.has_value();
  std::string outcome =
      connected_at_ ? "meeting ended" + (by.empty() ? "" : " by " + by) + (reason.empty() ? "" : ": " + reason)
                    : "meeting ended before it connected" + (reason.empty() ? "" : ": " + reason);
  if (!connected_at_ || !media_) return finish(ok, outcome);
  end_wait_timer_.cancel();
  duration_timer_.cancel();
  drain_outcome_.emplace(ok, std::move(outcome));
  log()->info("meeting ended; still receiving for {} ms before the report is written",
              std::chrono::duration_cast<std::chrono::milliseconds>(kMediaDrainAfterEnd).count());
  drain_timer_ = MainLoopTimer(kMediaDrainAfterEnd, false, [this] { finish_drain(); });
}

void TerminalSession::finish_drain() {
  if (!drain_outcome_) return;
  auto [ok, reason] = *drain_outcome_;
  finish(ok, reason);
}

void TerminalSession::finish(bool ok, const std::string& reason) {
  if (finished_) return;
  finished_ = true;
  exit_code_ = ok ? 0 : 1;
  log()->info("finishing: {}", reason);
  exit_after_timer_.cancel();
  auto_ready_timer_.cancel();
  duration_timer_.cancel();
  overlay_timer_.cancel();
  end_wait_timer_.cancel();
  ended_message_timer_.cancel();
  drain_timer_.cancel();
  // Sampled here, at the very end of the run (after the drain when the
  // meeting ended): the report holds the final counters and times.
  if (media_) report_.set_media(media_->counters());
  report_.set_exit_reason(reason);
  if (!options_.report_file.empty()) {
    try {
      report_.write(options_.report_file);
      log()->info("report written to {}", options_.report_file);
    } catch (const ReportError& e) {
      log()->error("{}", e.what());
      exit_code_ = 1;
    }
  }
  if (signaling_) signaling_->close();
  g_main_loop_quit(loop_.get());
}

// --- media ------------------------------------------------------------------

void TerminalSession::on_local_offer(const std::string& sdp) {
  offer_ = sdp;
  maybe_send_offer();
}

void TerminalSession::on_local_candidate(const IceCandidate& candidate) {
  if (offer_sent_) {
    send(make_candidate(candidate));
  } else if (pending_local_candidates_.size() < kMaxPendingLocalCandidates) {
    pending_local_candidates_.push_back(candidate);
  }
}

void TerminalSession::on_connection_state(const std::string& kind, const std::string& state) {
  report_.add_connection_state(kind, state, iso_now());
  log()->info("{} state: {}", kind, state);
  if ((kind == "peer" || kind == "ice") && state == "failed") {
    if (ended_) {
      // During the drain after the end: the relay lets the peer go; no fault of the meeting.
      log()->info("{} connection failed after the meeting ended", kind);
      return;
    }
    report_.add_error(kind + " connection failed");
    say("媒体连接失败");
    if (options_.headless && !finished_) {
      if (connected_at_ && !ending_ && !ended_) end_meeting("media connection failed");
      else finish(false, "media connection failed");
    }
  }
}

void TerminalSession::on_first_remote_frame() {
  auto now = std::chrono::steady_clock::now();
  first_frame_at_ = now;
  if (connected_at_) {
    auto ms = ms_between(*connected_at_, now);
    report_.set_time_to_first_remote_frame_ms(ms);
    say(fmt::format("收到对方画面 ({} ms)", ms));
  }
}

void TerminalSession::on_key(const std::string& key) {
  if (key == "r" || key == "R") {
    if (options_.is_lawyer()) return say("r (就位) 是在押人员终端的按键; 律师按 c 接通");
    press_ready();
  } else if (key == "c" || key == "C") {
    if (!options_.is_lawyer()) return say("c (接通) 是律师终端的按键; 请按 r 就位");
    press_connect();
  } else if (key == "q" || key == "Q") {
    if (drain_outcome_) {
      finish_drain();
    } else if (welcomed_ && !ended_) {
      end_meeting("ended by " + options_.device);
    } else {
      finish(false, "quit before the meeting");
    }
  }
}

void TerminalSession::on_media_error(const std::string& message) {
  if (drain_outcome_) {
    // After the end the relay lets the peer go; what breaks then is no fault of the meeting.
    log()->warn("media after the meeting ended: {}", message);
    return;
  }
  report_.add_error("media: " + message);
  log()->error("media: {}", message);
  say("媒体错误: " + message);
  if (finished_) return;
  if (connected_at_ && !ending_ && !ended_) {
    end_meeting("media error");
  } else {
    finish(false, "media error: " + message);
  }
}

void TerminalSession::update_overlay() {
  if (!media_) return;
  std::string clock;
  if (ended_) {
    clock = "已结束 " + (connected_at_ ? format_call_time(std::chrono::duration_cast<std::chrono::seconds>(
                                                           std::chrono::steady_clock::now() - *connected_at_))
                                         : std::string());
  } else if (connected_at_) {
    auto now = std::chrono::steady_clock::now();
    clock = "通话 " + format_call_time(std::chrono::duration_cast<std::chrono::seconds>(now - *connected_at_));
    if (ends_at_local_) {
      auto left = std::chrono::duration_cast<std::chrono::seconds>(*ends_at_local_ - now + std::chrono::milliseconds(999));
      clock += "  剩余 " + format_call_time(left);
    }
  } else {
    clock = "等待接通 00:00:00";
  }
  media_->set_overlay(display_name_, clock);
  std::string status = status_text();
  if (status != last_status_) {
    last_status_ = status;
    media_->set_notice_overlay(status);
    if (!status.empty()) report_.add_status_text(status, iso_now());
  }
}

}  // namespace huijian::terminals
