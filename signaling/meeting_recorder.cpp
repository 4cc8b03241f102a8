#include "signaling/meeting_recorder.hpp"

#include <algorithm>

#include "signaling/archive_index.hpp"
#include "signaling/component_logger.hpp"
#include "signaling/utc_time.hpp"

namespace huijian::signaling {

namespace rec = huijian::recorder;

class MeetingRecorder::Events final : public rec::RecorderEvents {
 public:
  Events(MeetingRecorder& owner) : owner_(owner), alive_(owner.alive_), post_(owner.post_) {}

  void on_recording_fault(const std::string& meeting_id, const std::string&) override { changed(meeting_id); }
  void on_recording_resumed(const std::string& meeting_id) override { changed(meeting_id); }
  void on_archive_finished(const rec::ArchiveResult& result) override {
    post_([alive = alive_, owner = &owner_, result] {
      if (alive.lock()) owner->index(result);
    });
  }

 private:
  void changed(const std::string& meeting_id) {
    post_([alive = alive_, owner = &owner_, meeting_id] {
      if (alive.lock() && owner->on_change_) owner->on_change_(meeting_id);
    });
  }
  MeetingRecorder& owner_;
  std::weak_ptr<int> alive_;
  PostFn post_;
};

MeetingRecorder::MeetingRecorder(const Config& config, media::Relay& relay, MeetingRepository& meetings,
                                 SupervisionRepository& supervision, ArchiveRepository& archives, PostFn post,
                                 std::function<void(const std::string&)> on_change)
    : config_(config),
      relay_(relay),
      meetings_(meetings),
      supervision_(supervision),
      archives_(archives),
      post_(std::move(post)),
      on_change_(std::move(on_change)) {}

MeetingRecorder::~MeetingRecorder() = default;

std::shared_ptr<rec::RecorderEvents> MeetingRecorder::events() { return std::make_shared<Events>(*this); }

std::vector<rec::EventEntry> MeetingRecorder::event_list(const std::string& meeting_id) {
  std::vector<rec::EventEntry> out;
  for (const auto& e : meetings_.events(meeting_id)) out.push_back({e.at, e.kind, e.actor, e.detail});
  for (const auto& i : supervision_.interjections(meeting_id))
    out.push_back({i.started_at, "interjection", i.officer,
                   "until " + i.stopped_at + " (" + std::to_string(i.duration_ms) + " ms)"});
  for (const auto& n : supervision_.notices(meeting_id)) out.push_back({n.at, "notice", n.officer, n.text});
  ViolationFilter filter;
  filter.meeting_id = meeting_id;
  for (const auto& v : supervision_.violations(filter))
    out.push_back({v.at, "violation", v.officer, v.code + (v.text.empty() ? "" : ": " + v.text)});
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
  return out;
}

void MeetingRecorder::meeting_connected(const MeetingRecord& meeting) {
  auto log = component_logger("recorder");
  if (!recorder_) return;
  rec::RecordingStart start;
  start.meeting_id = meeting.id;
  start.case_id = meeting.case_id;
  auto party = [&](rec::Party p, const std::string& device) {
    const DeviceConfig* d = config_.find_device(device);
    return rec::PartyEntry{p, device, d ? d->name : device};
  };
  start.lawyer = party(rec::Party::Lawyer, meeting.lawyer_device);
  start.detainee = party(rec::Party::Detainee, meeting.detainee_device);
  start.connected_at = meeting.connected_at;
  try {
    if (auto c = archives_.find_case(meeting.id)) {
      start.case_info = rec::CaseEntry{c->case_id.empty() ? meeting.case_id : c->case_id,
                                       c->lawyer_name, c->lawyer_license, c->lawyer_firm, c->detainee_name,
                                       c->detainee_id_number, c->letter_kind, c->letter_file, c->letter_sha256};
    }
    start.events = event_list(meeting.id);
  } catch (const std::exception& e) {
    log->error("meeting {}: reading its case record and events for the archive: {}", meeting.id, e.what());
  }
  const std::string lawyer = meeting.lawyer_device, detainee = meeting.detainee_device;
  start.request_keyframe = [&relay = relay_, lawyer, detainee](rec::Party p) {
    relay.request_keyframe(p == rec::Party::Lawyer ? lawyer : detainee);
  };
  try {
    recorder_->start(std::move(start));
    start_failures_.erase(meeting.id);
  } catch (const std::exception& e) {
    log->error("meeting {}: the recording does not start: {}", meeting.id, e.what());
    start_failures_[meeting.id] = e.what();
    if (on_change_) on_change_(meeting.id);
  }
}

void MeetingRecorder::media_linked(const MeetingRecord& meeting) {
  if (!recorder_) return;
  auto taps = recorder_->taps(meeting.id);
  if (!taps) return;
  relay_.set_video_tap(meeting.lawyer_device, taps->lawyer);
  relay_.set_video_tap(meeting.detainee_device, taps->detainee);
}

void MeetingRecorder::meeting_ended(const MeetingRecord& meeting, const std::string& reason, const std::string& by) {
  start_failures_.erase(meeting.id);
  if (!recorder_) return;
  relay_.set_video_tap(meeting.lawyer_device, nullptr);
  relay_.set_video_tap(meeting.detainee_device, nullptr);
  rec::RecordingEnd end;
  end.reason = reason;
  end.by = by;
  try {
    if (auto m = meetings_.find(meeting.id)) end.ended_at = m->ended_at;
    end.events = event_list(meeting.id);
  } catch (const std::exception& e) {
    component_logger("recorder")->error("meeting {}: reading its events for the archive: {}", meeting.id, e.what());
  }
  recorder_->stop(meeting.id, std::move(end));
}

std::optional<std::string> MeetingRecorder::state(const std::string& meeting_id) const {
  if (auto it = start_failures_.find(meeting_id); it != start_failures_.end()) return "fault: " + it->second;
  if (!recorder_) return std::nullopt;
  auto fault = recorder_->fault(meeting_id);
  if (!fault) return std::nullopt;
  return fault->empty() ? std::string("recording") : "fault: " + *fault;
}

void MeetingRecorder::recover() {
  if (!recorder_) return;
  auto results = recorder_->recover([this](const std::string& meeting_id) {
    rec::RecordingEnd end;
    try {
      if (auto m = meetings_.find(meeting_id)) {
        end.ended_at = m->ended_at;
        end.reason = m->end_reason;
        end.by = m->ended_by;
      }
      end.events = event_list(meeting_id);
    } catch (const std::exception&) {
    }
    return end;
  });
  for (const auto& r : results) index(r);
}

void MeetingRecorder::index(const rec::ArchiveResult& result) {
  if (!result.error.empty() || result.manifest.meeting_id.empty()) return;
  try {
    archives_.put_archive(archive_record_of(result.manifest, result.manifest_sha256,
                                            format_utc_ms(std::chrono::system_clock::now())));
  } catch (const std::exception& e) {
    component_logger("recorder")->error("meeting {}: indexing its archive: {}", result.meeting_id, e.what());
  }
}

}  // namespace huijian::signaling
