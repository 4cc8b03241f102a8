#include "terminals/call_report.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>

namespace huijian::terminals {

CallReport::CallReport(std::string device, std::string role) : device_(std::move(device)), role_(std::move(role)) {}

void CallReport::add_meeting_state(std::string state, std::string at) {
  if (meeting_states_.size() < kMaxEntries) meeting_states_.push_back({std::move(state), std::move(at), {}});
}

void CallReport::add_connection_state(std::string kind, std::string state, std::string at) {
  if (connection_states_.size() < kMaxEntries)
    connection_states_.push_back({std::move(state), std::move(at), std::move(kind)});
}

void CallReport::add_error(std::string message) {
  if (errors_.size() < kMaxEntries) errors_.push_back(std::move(message));
}

void CallReport::add_call_time(CallTimeUpdate update) {
  if (call_time_.size() < kMaxEntries) call_time_.push_back(std::move(update));
}

void CallReport::add_time_warning(TimeWarningEntry warning) {
  if (time_warnings_.size() < kMaxEntries) time_warnings_.push_back(std::move(warning));
}

void CallReport::add_notice(NoticeEntry notice) {
  if (notices_.size() < kMaxEntries) notices_.push_back(std::move(notice));
}

void CallReport::add_officer_speaking(SpeakingEntry entry) {
  if (officer_speaking_.size() < kMaxEntries) officer_speaking_.push_back(std::move(entry));
}

void CallReport::add_status_text(std::string text, std::string at) {
  if (status_texts_.size() < kMaxEntries) status_texts_.push_back({std::move(text), std::move(at)});
}

bool CallReport::saw_meeting_state(const std::string& state) const noexcept {
  for (const auto& s : meeting_states_)
    if (s.state == state) return true;
  return false;
}

nlohmann::json CallReport::to_json() const {
  using nlohmann::json;
  json j;
  j["device"] = device_;
  j["role"] = role_;
  j["meeting"] = meeting_.empty() ? json(nullptr) : json(meeting_);
  j["time_to_first_remote_frame_ms"] = ttff_ms_ ? json(*ttff_ms_) : json(nullptr);
  j["remote_frames_decoded"] = media_.remote_frames_decoded;
  j["remote_width"] = media_.remote_width;
  j["remote_height"] = media_.remote_height;
  j["remote_audio_packets"] = media_.remote_audio_packets;
  j["local_frames_sent"] = media_.local_frames_sent;
  // All media counters together, with the officer's voice and the time media
  // last arrived; the five above stay at the top level for existing readers.
  auto at = [](const std::optional<std::int64_t>& ms) { return ms ? json(iso_from_unix_ms(*ms)) : json(nullptr); };
  j["media"] = json{{"remote_frames_decoded", media_.remote_frames_decoded},
                    {"remote_width", media_.remote_width},
                    {"remote_height", media_.remote_height},
                    {"remote_audio_packets", media_.remote_audio_packets},
                    {"local_frames_sent", media_.local_frames_sent},
                    {"officer_audio_packets", media_.officer_audio_packets},
                    {"officer_audio_first_at", at(media_.officer_audio_first_ms)},
                    {"officer_audio_last_at", at(media_.officer_audio_last_ms)},
                    {"remote_media_last_at", at(media_.remote_media_last_ms)}};
  json ms = json::array();
  for (const auto& s : meeting_states_) ms.push_back({{"state", s.state}, {"at", s.at}});
  j["meeting_states"] = std::move(ms);
  json cs = json::array();
  for (const auto& s : connection_states_) cs.push_back({{"kind", s.kind}, {"state", s.state}, {"at", s.at}});
  j["connection_states"] = std::move(cs);
  j["errors"] = errors_;
  j["exit_reason"] = exit_reason_;
  json times = json::array();
  for (const auto& t : call_time_) {
    json e{{"ends_at", t.ends_at}, {"server_now", t.server_now}, {"remaining_seconds", t.remaining_seconds},
           {"length_seconds", t.length_seconds ? json(*t.length_seconds) : json(nullptr)}, {"by", t.by}, {"at", t.at}};
    if (!t.text.empty()) e["text"] = t.text;
    times.push_back(std::move(e));
  }
  j["call_time"] = std::move(times);
  j["ends_at"] = call_time_.empty() ? json(nullptr) : json(call_time_.back().ends_at);
  json warnings = json::array();
  for (const auto& w : time_warnings_)
    warnings.push_back({{"remaining_seconds", w.remaining_seconds}, {"text", w.text}, {"text_en", w.text_en}, {"at", w.at}});
  j["time_warnings"] = std::move(warnings);
  json notices = json::array();
  for (const auto& n : notices_)
    notices.push_back({{"text", n.text}, {"from", n.from}, {"server_at", n.server_at}, {"at", n.at}});
  j["notices"] = std::move(notices);
  json speaking = json::array();
  for (const auto& s : officer_speaking_)
    speaking.push_back({{"speaking", s.speaking}, {"server_at", s.server_at}, {"at", s.at}});
  j["officer_speaking"] = std::move(speaking);
  if (end_) {
    j["end"] = json{{"by", end_->by},           {"reason", end_->reason},   {"code", end_->code},
                    {"text_zh", end_->text_zh}, {"text_en", end_->text_en}, {"detail", end_->detail},
                    {"at", end_->at}};
  } else {
    j["end"] = nullptr;
  }
  json overlay = json::array();
  for (const auto& o : status_texts_) overlay.push_back({{"text", o.text}, {"at", o.at}});
  j["status_texts"] = std::move(overlay);
  return j;
}

void CallReport::write(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) throw ReportError("cannot write report '" + tmp + "': check the directory exists and is writable");
    out << to_json().dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    out.close();
    if (!out) throw ReportError("writing report '" + tmp + "' failed (disk full?)");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw ReportError("cannot rename report '" + tmp + "' to '" + path + "'");
}

std::string iso_now() {
  using namespace std::chrono;
  return iso_from_unix_ms(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

std::string iso_from_unix_ms(std::int64_t unix_ms) {
  // Floor division, so a time before 1970 still gets 0..999 milliseconds.
  std::int64_t secs = unix_ms / 1000;
  std::int64_t ms = unix_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    secs -= 1;
  }
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace huijian::terminals
