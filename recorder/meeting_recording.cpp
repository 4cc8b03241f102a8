#include "recorder/meeting_recording.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <spdlog/spdlog.h>
#include <stdexcept>

#include "common/utc_time.hpp"
#include "recorder/durable_file.hpp"
#include "recorder/file_digest.hpp"
#include "recorder/media_probe.hpp"
#include "recorder/segment_repair.hpp"

namespace huijian::recorder {

namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

namespace {

constexpr auto kJournalInterval = std::chrono::milliseconds(500);
constexpr auto kKeyframeInterval = std::chrono::milliseconds(500);
// Lost packets this close to the previous loss of the same party extend that gap.
constexpr std::int64_t kMergeLossMs = 1000;
// A pipeline started again after a fault must write this long before the fault's gap closes.
constexpr auto kProbation = std::chrono::seconds(2);
// Room kept free in the archive folder for the manifest, the journal and
// repairs: a full disk must not cost the archive its manifest.
constexpr off_t kReserveBytes = 2 << 20;
constexpr const char* kReserveFile = ".reserve";

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Writes the manifest and its signature, then removes the journal.
std::string write_signed_manifest(const fs::path& folder, Manifest& manifest, const ManifestSigner& signer) {
  manifest.signing_key_id = signer.key_id();
  const std::string text = manifest_text(manifest);
  write_file_atomically(folder / std::string(kManifestFile), text, 0600);
  write_file_atomically(folder / std::string(kSignatureFile), signer.sign_base64(text) + "\n", 0600);
  std::error_code ec;
  fs::remove(folder / std::string(kJournalFile), ec);
  sync_directory(folder);
  return sha256_hex(text);
}

// Size, hash and length of one segment file; repairs it first when asked.
// Returns false when the file holds no playable video (it is then removed).
bool measure_segment(const fs::path& folder, SegmentEntry& s, bool repair, std::vector<std::string>& notes) {
  const fs::path file = folder / s.file;
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    notes.push_back(s.file + " was never written");
    return false;
  }
  std::optional<std::string> repair_error;
  if (repair) {
    repair_error = repair_segment(file);
    s.truncated = true;
  }
  try {
    const MediaInfo info = probe_media(file);
    if (info.video_streams == 0) throw ProbeError("no video stream");
    s.duration_ms = std::max<std::int64_t>(0, info.duration_ms);
  } catch (const std::exception&) {
    notes.push_back(s.file + " held no playable video and was removed");
    fs::remove(file, ec);
    return false;
  }
  if (repair_error) notes.push_back(s.file + " kept as written (" + *repair_error + ")");
  s.bytes = fs::file_size(file, ec);
  s.sha256 = sha256_file_hex(file);
  return true;
}

// Gaps still open when the recording ends (to_ms < 0) end with it.
template <class Wall>
void close_open_gaps(std::vector<GapEntry>& gaps, std::int64_t end_ms, const Wall& wall) {
  for (auto& g : gaps)
    if (g.to_ms < 0) {
      g.to_ms = std::max(g.from_ms, end_ms);
      g.to = wall(g.to_ms);
    }
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

}  // namespace

MeetingRecording::MeetingRecording(const RecordingSettings& settings, RecordingStart start,
                                   const ManifestSigner& signer, Listener& listener)
    : settings_(settings),
      start_(std::move(start)),
      signer_(signer),
      listener_(listener),
      folder_(settings.archive_dir / start_.meeting_id),
      origin_(Steady::now()),
      origin_wall_(std::chrono::system_clock::now()) {
  const std::string& id = start_.meeting_id;
  if (id.empty() || id.front() == '.' || id.find('/') != std::string::npos)
    throw std::runtime_error("meeting id \"" + id + "\" cannot name an archive folder");
  std::error_code ec;
  fs::create_directories(settings_.archive_dir, ec);
  if (fs::exists(folder_ / std::string(kManifestFile), ec))
    throw std::runtime_error("the archive of meeting " + start_.meeting_id + " is already finished; it is not overwritten");
  fs::create_directories(folder_, ec);
  if (ec) throw std::runtime_error("cannot create the archive folder " + folder_.string() + ": " + ec.message());
  ::chmod(folder_.c_str(), 0700);
  {
    const fs::path reserve = folder_ / kReserveFile;
    int fd = ::open(reserve.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || ::posix_fallocate(fd, 0, kReserveBytes) != 0)
      spdlog::warn("[recorder] meeting {}: cannot reserve room for the manifest in {}", start_.meeting_id,
                   folder_.string());
    if (fd >= 0) ::close(fd);
  }
  lawyer_.party = Party::Lawyer;
  detainee_.party = Party::Detainee;
  for (PartyState* p : {&lawyer_, &detainee_}) {
    p->tap = std::make_shared<PartyTap>();
    // Continue numbering after files an earlier run of this meeting left.
    for (const auto& entry : fs::directory_iterator(folder_, ec)) {
      static const std::regex name("(lawyer|detainee)-([0-9]{5})\\.mkv");
      std::smatch m;
      const std::string file = entry.path().filename().string();
      if (std::regex_match(file, m, name) && m[1] == to_string(p->party))
        p->next_index = std::max(p->next_index, static_cast<unsigned>(std::stoul(m[2])) + 1);
    }
  }
  save_journal();
  start_pipeline(lawyer_);
  start_pipeline(detainee_);
  for (PartyState* p : {&lawyer_, &detainee_}) {
    if (!p->fault.empty()) continue;
    ask_keyframe(*p, origin_);
  }
}

MeetingRecording::~MeetingRecording() = default;

std::int64_t MeetingRecording::ms_since_origin(Steady::time_point t) const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t - origin_).count();
}

std::string MeetingRecording::wall_at(std::int64_t ms) const {
  return common::format_utc_ms(origin_wall_ + std::chrono::milliseconds(ms));
}

std::string MeetingRecording::fault() const {
  std::string out;
  for (const PartyState* p : {&lawyer_, &detainee_})
    if (!p->fault.empty()) out += (out.empty() ? "" : "; ") + std::string(to_string(p->party)) + ": " + p->fault;
  return out;
}

void MeetingRecording::start_pipeline(PartyState& p) {
  const std::int64_t origin_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(origin_.time_since_epoch()).count();
  try {
    p.pipeline = std::make_unique<PartyPipeline>(p.party, folder_, p.next_index, settings_.segment_length, origin_ns,
                                                 static_cast<PartyPipeline::Listener&>(*this));
    p.fault.clear();
  } catch (const std::exception& e) {
    p.fault = e.what();
    p.retry_at = Steady::now() + settings_.retry_after_fault;
    note_fault(p.party, e.what());
    open_gap(p, ms_since_origin(Steady::now()), "recording_fault", e.what());
    listener_.on_recording_fault(start_.meeting_id, fault());
  }
}

void MeetingRecording::open_gap(PartyState& p, std::int64_t from_ms, const std::string& reason,
                                const std::string& detail) {
  if (p.open_gap) {
    if (gaps_[*p.open_gap].reason == reason) return;
    close_gap(p, from_ms);
  }
  from_ms = std::max<std::int64_t>(0, from_ms);
  gaps_.push_back({p.party, from_ms, -1, wall_at(from_ms), "", reason, detail});
  p.open_gap = gaps_.size() - 1;
  journal_dirty_ = true;
  spdlog::info("[recorder] meeting {}: {} gap from {} ms ({})", start_.meeting_id, to_string(p.party), from_ms, reason);
}

void MeetingRecording::close_gap(PartyState& p, std::int64_t to_ms) {
  if (!p.open_gap) return;
  GapEntry& g = gaps_[*p.open_gap];
  g.to_ms = std::max(g.from_ms, to_ms);
  g.to = wall_at(g.to_ms);
  p.open_gap.reset();
  journal_dirty_ = true;
}

void MeetingRecording::ask_keyframe(PartyState& p, Steady::time_point now) {
  if (now - p.last_keyframe_request < kKeyframeInterval && p.last_keyframe_request != Steady::time_point{}) return;
  p.last_keyframe_request = now;
  if (start_.request_keyframe) start_.request_keyframe(p.party);
}

void MeetingRecording::take_packets(PartyState& p, Steady::time_point now) {
  bool resumed = false;
  p.tap->queue().drain([&](const VideoPacketQueue::Slot& slot) {
    if (end_) return;  // stopped: what comes now is after the end
    const std::int64_t at_ms = (slot.arrival_ns - std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                      origin_.time_since_epoch()).count()) / 1000000;
    if (p.open_gap && gaps_[*p.open_gap].reason == "no_video") {
      close_gap(p, at_ms);
      resumed = true;
    }
    p.last_arrival_ms = at_ms;
    if (p.pipeline && p.fault.empty()) p.pipeline->push(slot);
  });
  if (p.pipeline && p.fault.empty()) p.pipeline->flush();
  if (resumed) ask_keyframe(p, now);
}

void MeetingRecording::note_losses(PartyState& p, const PartyPipeline::Notes& notes) {
  for (const auto& [from, to] : notes.lost_ms) {
    // Merge with the party's last loss when close; a loss inside an open gap is part of it.
    if (p.open_gap) continue;
    GapEntry* last = nullptr;
    for (auto it = gaps_.rbegin(); it != gaps_.rend(); ++it)
      if (it->party == p.party) {
        last = &*it;
        break;
      }
    if (last && last->reason == "packet_loss" && from <= last->to_ms + kMergeLossMs) {
      last->to_ms = std::max(last->to_ms, to);
      last->to = wall_at(last->to_ms);
    } else {
      gaps_.push_back({p.party, from, std::max(from, to), wall_at(from), wall_at(std::max(from, to)),
                       "packet_loss", ""});
    }
    journal_dirty_ = true;
  }
}

void MeetingRecording::tick(Steady::time_point now) {
  dead_.clear();
  const std::int64_t now_ms = ms_since_origin(now);
  for (PartyState* pp : {&lawyer_, &detainee_}) {
    PartyState& p = *pp;
    take_packets(p, now);
    // May hear of an error (the pipeline moves to dead_) or, after stop(), of the end of the stream.
    if (p.pipeline) p.pipeline->poll_bus();
    if (end_) continue;
    if (!p.fault.empty() && now >= p.retry_at) {
      start_pipeline(p);
      if (p.fault.empty()) {
        p.restarted_at = now;
        ask_keyframe(p, now);
      }
    }
    if (p.restarted_at && p.fault.empty() && now - *p.restarted_at >= kProbation) {
      spdlog::info("[recorder] meeting {}: {} writes again", start_.meeting_id, to_string(p.party));
      close_gap(p, ms_since_origin(*p.restarted_at));
      p.restarted_at.reset();
      listener_.on_recording_resumed(start_.meeting_id);
    }
    if (p.pipeline) {
      const auto notes = p.pipeline->take_notes();
      note_losses(p, notes);
      if (notes.keyframe_wanted || !notes.lost_ms.empty()) ask_keyframe(p, now);
    }
    if (p.fault.empty() && !p.open_gap) {
      const std::int64_t last = p.last_arrival_ms.value_or(0);
      if (now_ms - last > settings_.no_video.count())
        open_gap(p, last, "no_video", p.last_arrival_ms ? "" : "no picture since the recording started");
    }
  }
  if (end_ && !finished() && now - end_steady_ > settings_.finish_timeout) {
    for (PartyState* p : {&lawyer_, &detainee_})
      if (!p->finished) {
        p->finished = true;
        faults_.push_back(std::string(to_string(p->party)) + ": the last segment did not close in time");
      }
  }
  if (journal_dirty_ && now - journal_saved_ >= kJournalInterval) {
    try {
      save_journal();
      journal_failing_ = false;
    } catch (const std::exception& e) {
      if (!journal_failing_)
        spdlog::error("[recorder] meeting {}: journal: {} (retried quietly)", start_.meeting_id, e.what());
      journal_failing_ = true;
    }
    journal_saved_ = now;
  }
}

void MeetingRecording::stop(RecordingEnd end, Steady::time_point now) {
  if (end_) return;
  // Take what is queued before the end, then close the last segments.
  for (PartyState* p : {&lawyer_, &detainee_}) take_packets(*p, now);
  end_ = std::move(end);
  end_steady_ = now;
  end_ms_ = ms_since_origin(now);
  for (PartyState* p : {&lawyer_, &detainee_}) {
    close_gap(*p, end_ms_);
    if (p->pipeline && p->fault.empty()) {
      p->pipeline->finish();
      // A loss still open when the stream ends is known only now; tick() takes no notes after the end.
      note_losses(*p, p->pipeline->take_notes());
    } else
      p->finished = true;
  }
}

bool MeetingRecording::finished() const noexcept { return end_ && lawyer_.finished && detainee_.finished; }

void MeetingRecording::on_segment_opened(Party party, const fs::path& file, std::int64_t start_ms) {
  PartyState& p = party_(party);
  p.next_index = p.pipeline ? p.pipeline->next_index() : p.next_index + 1;
  Segment s;
  s.entry.party = party;
  s.entry.file = file.filename().string();
  s.entry.start_ms = start_ms;
  s.entry.truncated = true;  // until it is closed
  segments_.push_back(std::move(s));
  journal_dirty_ = true;
}

void MeetingRecording::on_segment_closed(Party, const fs::path& file, std::int64_t end_ms) {
  const std::string name = file.filename().string();
  for (auto& s : segments_)
    if (s.entry.file == name) {
      s.closed = true;
      s.entry.truncated = false;
      s.entry.duration_ms = std::max<std::int64_t>(0, end_ms - s.entry.start_ms);
    }
  journal_dirty_ = true;
}

void MeetingRecording::on_pipeline_error(Party party, const std::string& message) {
  PartyState& p = party_(party);
  spdlog::error("[recorder] meeting {}: {} recording failed: {}", start_.meeting_id, to_string(party), message);
  note_fault(party, message);
  const auto now = Steady::now();
  p.restarted_at.reset();
  // After the end, the footage to be missed is only what was being closed: no new gap.
  if (!end_) open_gap(p, p.last_arrival_ms.value_or(ms_since_origin(now)), "recording_fault", message);
  p.fault = message;
  p.retry_at = now + settings_.retry_after_fault;
  if (p.pipeline) {
    p.next_index = p.pipeline->next_index();
    dead_.push_back(std::move(p.pipeline));  // not destroyed while it reads its own bus
  }
  listener_.on_recording_fault(start_.meeting_id, fault());
}

void MeetingRecording::note_fault(Party party, const std::string& text) {
  const std::string line = std::string(to_string(party)) + ": " + text;
  if (std::find(faults_.begin(), faults_.end(), line) == faults_.end()) faults_.push_back(line);
}

void MeetingRecording::on_finished(Party party) { party_(party).finished = true; }

Manifest MeetingRecording::snapshot() const {
  Manifest m;
  m.meeting_id = start_.meeting_id;
  m.case_id = start_.case_id;
  m.case_info = start_.case_info;
  m.parties = {start_.lawyer, start_.detainee};
  m.parties[0].party = Party::Lawyer;
  m.parties[1].party = Party::Detainee;
  m.connected_at = start_.connected_at;
  m.recording_started_at = common::format_utc_ms(origin_wall_);
  m.ended_normally = false;
  m.end_reason = "recording";
  for (const auto& s : segments_) m.segments.push_back(s.entry);
  m.gaps = gaps_;
  m.events = end_ ? end_->events : start_.events;
  m.recorder_faults = join(faults_);
  return m;
}

void MeetingRecording::save_journal() {
  write_file_atomically(folder_ / std::string(kJournalFile), manifest_text(snapshot()), 0600);
  journal_dirty_ = false;
}

ArchiveResult MeetingRecording::finalise() {
  ArchiveResult result;
  result.meeting_id = start_.meeting_id;
  result.folder = folder_;
  dead_.clear();
  lawyer_.pipeline.reset();
  detainee_.pipeline.reset();
  std::error_code ec;
  fs::remove(folder_ / kReserveFile, ec);
  Manifest m = snapshot();
  const RecordingEnd end = end_.value_or(RecordingEnd{});
  m.ended_at = end.ended_at;
  m.end_reason = end.reason;
  m.ended_by = end.by;
  m.ended_normally = true;
  m.recording_ended_at = wall_at(end_ms_);
  std::vector<std::string> notes;
  std::vector<SegmentEntry> kept;
  for (const auto& s : segments_) {
    SegmentEntry e = s.entry;
    const std::int64_t closed_duration = e.duration_ms;
    if (!measure_segment(folder_, e, !s.closed, notes)) continue;
    if (s.closed && e.duration_ms == 0) e.duration_ms = closed_duration;
    kept.push_back(std::move(e));
  }
  m.segments = std::move(kept);
  close_open_gaps(m.gaps, end_ms_, [this](std::int64_t ms) { return wall_at(ms); });
  faults_.insert(faults_.end(), notes.begin(), notes.end());
  m.recorder_faults = join(faults_);
  try {
    result.manifest_sha256 = write_signed_manifest(folder_, m, signer_);
  } catch (const std::exception& e) {
    result.error = e.what();
  }
  result.manifest = std::move(m);
  return result;
}

ArchiveResult MeetingRecording::recover(const fs::path& folder, const RecordingEnd& what_happened,
                                        const ManifestSigner& signer) {
  ArchiveResult result;
  result.folder = folder;
  Manifest m = manifest_from_json(nlohmann::json::parse(read_file(folder / std::string(kJournalFile))));
  result.meeting_id = m.meeting_id;
  std::vector<std::string> notes;
  if (!m.recorder_faults.empty()) notes.push_back(m.recorder_faults);
  // Files on disk are the truth: the journal may miss the last one opened.
  static const std::regex name("(lawyer|detainee)-([0-9]{5})\\.mkv");
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const std::string file = entry.path().filename().string();
    if (std::regex_match(file, name)) files.push_back(file);
    // Left by a write cut short: a temporary file (name.tmp.<pid>), a repair, the reserve.
    if (file.find(".tmp.") != std::string::npos || file.ends_with(".repair") || file == kReserveFile)
      fs::remove(entry.path(), ec);
  }
  std::sort(files.begin(), files.end());
  std::vector<SegmentEntry> segments;
  for (Party party : {Party::Lawyer, Party::Detainee}) {
    std::int64_t next_start = 0;
    for (const auto& file : files) {
      if (!file.starts_with(to_string(party))) continue;
      SegmentEntry e;
      e.party = party;
      e.file = file;
      e.start_ms = next_start;
      bool closed = false;
      for (const auto& j : m.segments)
        if (j.file == file) {
          e.start_ms = j.start_ms;
          closed = !j.truncated;
        }
      if (!measure_segment(folder, e, !closed, notes)) continue;
      next_start = e.start_ms + e.duration_ms;
      segments.push_back(std::move(e));
    }
  }
  m.segments = std::move(segments);
  std::int64_t end_ms = 0;
  for (const auto& s : m.segments) end_ms = std::max(end_ms, s.start_ms + s.duration_ms);
  const auto origin = common::parse_utc_ms(m.recording_started_at);
  auto wall = [&](std::int64_t ms) {
    return origin ? common::format_utc_ms(*origin + std::chrono::milliseconds(ms)) : std::string();
  };
  close_open_gaps(m.gaps, end_ms, wall);
  m.recording_ended_at = wall(end_ms);
  m.ended_normally = false;
  m.ended_at = what_happened.ended_at;
  m.ended_by = what_happened.by;
  m.end_reason = "the server stopped during the recording (killed or crashed); the archive was finalised at the "
                 "next start from what had reached the disk" +
                 (what_happened.reason.empty() ? std::string() : "; the meeting: " + what_happened.reason);
  if (!what_happened.events.empty()) m.events = what_happened.events;
  m.recorder_faults = join(notes);
  try {
    result.manifest_sha256 = write_signed_manifest(folder, m, signer);
  } catch (const std::exception& e) {
    result.error = e.what();
  }
  result.manifest = std::move(m);
  return result;
}

}  // namespace huijian::recorder
