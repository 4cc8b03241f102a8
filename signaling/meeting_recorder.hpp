#pragma once
// RecordingPort on the in-process recorder and relay: starts a meeting's
// recording at "connected" with its parties, case record and events, hands
// the recorder's taps to the relay's peers of both terminals, stops it at the
// end, indexes finished archives for archivists, and finalises at start-up
// the archives a killed server left behind. Runs on the control plane's
// thread; the recorder's events come back through PostFn.

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "media/relay.hpp"
#include "recorder/recorder.hpp"
#include "signaling/archive_repository.hpp"
#include "signaling/config.hpp"
#include "signaling/recording_port.hpp"
#include "signaling/supervision_repository.hpp"

namespace huijian::signaling {

class MeetingRecorder final : public RecordingPort {
 public:
  using PostFn = std::function<void(std::function<void()>)>;

  // `on_change(meeting_id)` is called on the control plane's thread when a
  // recording's fault state changes (to refresh the officers' view).
  MeetingRecorder(const Config& config, media::Relay& relay,
                  MeetingRepository& meetings, SupervisionRepository& supervision, ArchiveRepository& archives,
                  PostFn post, std::function<void(const std::string&)> on_change);
  ~MeetingRecorder() override;

  // The recorder, made with events(); null = none (nothing is recorded).
  void set_recorder(recorder::Recorder* recorder) noexcept { recorder_ = recorder; }

  // Finalises what a stopped server left (call once, before meetings start).
  void recover();

  void meeting_connected(const MeetingRecord& meeting) override;
  void media_linked(const MeetingRecord& meeting) override;
  void meeting_ended(const MeetingRecord& meeting, const std::string& reason, const std::string& by) override;
  std::optional<std::string> state(const std::string& meeting_id) const override;

  // The recorder's own events, turned into posts to the control plane's thread.
  std::shared_ptr<recorder::RecorderEvents> events();

 private:
  class Events;
  std::vector<recorder::EventEntry> event_list(const std::string& meeting_id);
  void index(const recorder::ArchiveResult& result);

  const Config& config_;
  recorder::Recorder* recorder_ = nullptr;
  media::Relay& relay_;
  MeetingRepository& meetings_;
  SupervisionRepository& supervision_;
  ArchiveRepository& archives_;
  PostFn post_;
  std::function<void(const std::string&)> on_change_;
  std::map<std::string, std::string> start_failures_;  // meeting id -> why its recording did not start
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace huijian::signaling
