#pragma once
// The recording of one meeting: both parties' pipelines, their taps, the gaps
// in their pictures, the journal (recording.json) while it runs, and the
// signed manifest at the end. Lives on the recorder's thread; tick() is
// called there every few milliseconds.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "recorder/archive_manifest.hpp"
#include "recorder/manifest_signer.hpp"
#include "recorder/party_pipeline.hpp"
#include "recorder/party_tap.hpp"

namespace huijian::recorder {

struct RecordingSettings {
  std::filesystem::path archive_dir;
  std::chrono::seconds segment_length{180};
  std::chrono::milliseconds no_video{1000};        // a picture absent this long is a gap
  std::chrono::milliseconds retry_after_fault{2000};  // a failed pipeline is started again after this
  std::chrono::milliseconds finish_timeout{10000};    // the most finishing may take before finalising anyway
};

struct RecordingStart {
  std::string meeting_id;
  std::string case_id;
  std::optional<CaseEntry> case_info;
  PartyEntry lawyer;
  PartyEntry detainee;
  std::string connected_at;
  std::vector<EventEntry> events;
  // Asks the party's terminal for a keyframe; called on the recorder's thread.
  std::function<void(Party)> request_keyframe;
};

struct RecordingEnd {
  std::string ended_at;
  std::string reason;
  std::string by;
  std::vector<EventEntry> events;  // the meeting's whole event list
};

struct ArchiveResult {
  std::string meeting_id;
  std::filesystem::path folder;
  Manifest manifest;
  std::string manifest_sha256;
  std::string error;  // empty when the manifest was written and signed
};

class MeetingRecording final : private PartyPipeline::Listener {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void on_recording_fault(const std::string& meeting_id, const std::string& text) = 0;
    virtual void on_recording_resumed(const std::string& meeting_id) = 0;
  };

  // Creates the folder, the journal and both pipelines. Throws std::runtime_error.
  MeetingRecording(const RecordingSettings& settings, RecordingStart start, const ManifestSigner& signer,
                   Listener& listener);
  ~MeetingRecording() override;

  std::shared_ptr<PartyTap> tap(Party party) const { return party_(party).tap; }
  const std::string& meeting_id() const noexcept { return start_.meeting_id; }
  const std::filesystem::path& folder() const noexcept { return folder_; }
  // Current fault text, empty when both pipelines write.
  std::string fault() const;

  void tick(std::chrono::steady_clock::time_point now);
  // Stops taking packets and closes the last segments; finished() turns true.
  void stop(RecordingEnd end, std::chrono::steady_clock::time_point now);
  bool stopping() const noexcept { return end_.has_value(); }
  bool finished() const noexcept;
  // Hashes, writes and signs the manifest and removes the journal.
  ArchiveResult finalise();

  // Finalises a folder left with a journal by a server that stopped without
  // finishing (a crash or SIGKILL): repairs the last segments, marks the
  // abnormal end. `what_happened` may carry the meeting's events and end.
  static ArchiveResult recover(const std::filesystem::path& folder, const RecordingEnd& what_happened,
                               const ManifestSigner& signer);

 private:
  struct Segment {
    SegmentEntry entry;
    bool closed = false;
  };
  struct PartyState {
    Party party = Party::Lawyer;
    std::shared_ptr<PartyTap> tap;
    std::unique_ptr<PartyPipeline> pipeline;
    unsigned next_index = 0;
    std::optional<std::int64_t> last_arrival_ms;
    std::optional<std::size_t> open_gap;  // index into gaps_
    std::string fault;
    std::chrono::steady_clock::time_point retry_at{};
    std::chrono::steady_clock::time_point last_keyframe_request{};
    // A pipeline started again after a fault counts as writing once it has run this long.
    std::optional<std::chrono::steady_clock::time_point> restarted_at;
    bool finished = false;
  };

  // PartyPipeline::Listener
  void on_segment_opened(Party party, const std::filesystem::path& file, std::int64_t start_ms) override;
  void on_segment_closed(Party party, const std::filesystem::path& file, std::int64_t end_ms) override;
  void on_pipeline_error(Party party, const std::string& message) override;
  void on_finished(Party party) override;

  PartyState& party_(Party p) { return p == Party::Lawyer ? lawyer_ : detainee_; }
  const PartyState& party_(Party p) const { return p == Party::Lawyer ? lawyer_ : detainee_; }
  std::int64_t ms_since_origin(std::chrono::steady_clock::time_point t) const;
  std::string wall_at(std::int64_t ms) const;
  void start_pipeline(PartyState& p);
  void open_gap(PartyState& p, std::int64_t from_ms, const std::string& reason, const std::string& detail);
  void close_gap(PartyState& p, std::int64_t to_ms);
  void ask_keyframe(PartyState& p, std::chrono::steady_clock::time_point now);
  void take_packets(PartyState& p, std::chrono::steady_clock::time_point now);
  // Writes the pipeline's lost spans into gaps_ as packet_loss (merging close ones).
  void note_losses(PartyState& p, const PartyPipeline::Notes& notes);
  Manifest snapshot() const;
  void save_journal();
  void note_fault(Party party, const std::string& text);

  RecordingSettings settings_;
  RecordingStart start_;
  const ManifestSigner& signer_;
  Listener& listener_;
  std::filesystem::path folder_;
  std::chrono::steady_clock::time_point origin_;
  std::chrono::system_clock::time_point origin_wall_;
  PartyState lawyer_;
  PartyState detainee_;
  std::vector<Segment> segments_;
  std::vector<GapEntry> gaps_;
  std::vector<std::string> faults_;  // every fault text, for the manifest
  std::vector<std::unique_ptr<PartyPipeline>> dead_;  // failed pipelines, destroyed on the next tick
  std::optional<RecordingEnd> end_;
  std::chrono::steady_clock::time_point end_steady_{};
  std::int64_t end_ms_ = 0;
  bool journal_dirty_ = false;
  bool journal_failing_ = false;
  std::chrono::steady_clock::time_point journal_saved_{};
};

}  // namespace huijian::recorder
