#include "recorder/recorder.hpp"

#include <gst/gst.h>

#include <map>
#include <mutex>
#include <spdlog/spdlog.h>

#include "media/media_worker.hpp"
#include "recorder/manifest_signer.hpp"

namespace huijian::recorder {

namespace fs = std::filesystem;

namespace {
constexpr guint kTickMs = 10;
}

struct Recorder::Impl final : MeetingRecording::Listener {
  RecorderSettings settings;
  std::shared_ptr<RecorderEvents> events;
  ManifestSigner signer;
  media::MediaWorker worker{"recorder"};
  GSource* tick_source = nullptr;

  // Touched on the worker thread only.
  std::map<std::string, std::unique_ptr<MeetingRecording>> recordings;

  // What other threads may read, under the mutex.
  mutable std::mutex mutex;
  struct Public {
    Taps taps;
    std::string fault;
  };
  std::map<std::string, Public> running;
  // The inputs of the last finished recordings, for a look after the end.
  static constexpr std::size_t kKeptFinished = 100;
  std::map<std::string, nlohmann::json> finished_inputs;
  std::vector<std::string> finished_order;

  Impl(RecorderSettings s, std::shared_ptr<RecorderEvents> e)
      : settings(std::move(s)), events(std::move(e)), signer(ManifestSigner::load_or_create(settings.keys_dir)) {
    if (!gst_is_initialized()) gst_init(nullptr, nullptr);
    worker.call([this] {
      tick_source = g_timeout_source_new(kTickMs);
      g_source_set_callback(tick_source, &Impl::on_tick, this, nullptr);
      g_source_attach(tick_source, worker.context());
    });
  }

  ~Impl() override {
    worker.call([this] {
      const auto now = std::chrono::steady_clock::now();
      for (auto& [id, r] : recordings)
        r->stop(RecordingEnd{"", "the server stopped", "server", {}}, now);
    });
    // Let the pipelines close their last segments (the tick keeps running).
    for (int i = 0; i < 400; ++i) {
      bool done = worker.call([this] {
        for (auto& [id, r] : recordings)
          if (!r->finished()) return false;
        return true;
      });
      if (done) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    worker.call([this] {
      for (auto& [id, r] : recordings) finish(*r);
      recordings.clear();
      if (tick_source) {
        g_source_destroy(tick_source);
        g_source_unref(tick_source);
        tick_source = nullptr;
      }
    });
  }

  static gboolean on_tick(gpointer data) {
    auto* self = static_cast<Impl*>(data);
    const auto now = std::chrono::steady_clock::now();
    for (auto it = self->recordings.begin(); it != self->recordings.end();) {
      MeetingRecording& r = *it->second;
      r.tick(now);
      if (r.finished()) {
        self->finish(r);
        it = self->recordings.erase(it);
      } else {
        ++it;
      }
    }
    return G_SOURCE_CONTINUE;
  }

  void finish(MeetingRecording& r) {
    ArchiveResult result = r.finalise();
    if (result.error.empty())
      spdlog::info("[recorder] meeting {}: archive finished, {} segments, manifest SHA-256 {}", result.meeting_id,
                   result.manifest.segments.size(), result.manifest_sha256);
    else
      spdlog::error("[recorder] meeting {}: the manifest could not be written: {}", result.meeting_id, result.error);
    {
      std::lock_guard lock(mutex);
      if (auto it = running.find(result.meeting_id); it != running.end()) {
        nlohmann::json in = describe(it->second);
        in["finished"] = true;
        finished_inputs[result.meeting_id] = std::move(in);
        finished_order.push_back(result.meeting_id);
        if (finished_order.size() > kKeptFinished) {
          finished_inputs.erase(finished_order.front());
          finished_order.erase(finished_order.begin());
        }
        running.erase(it);
      }
    }
    if (events) events->on_archive_finished(result);
  }

  static nlohmann::json describe(const Public& p) {
    nlohmann::json meeting;
    for (auto [name, tap] : {std::pair{"lawyer", p.taps.lawyer}, std::pair{"detainee", p.taps.detainee}}) {
      auto* t = static_cast<PartyTap*>(tap.get());
      nlohmann::json streams = nlohmann::json::array();
      for (const auto& in : t->inputs())
        streams.push_back({{"ssrc", in.ssrc}, {"payload_type", in.payload_type}, {"packets", in.packets}});
      meeting[name] = {{"packets", t->packets()},
                       {"bytes", t->bytes()},
                       {"streams", streams},
                       {"other_packets", t->other_packets()},
                       {"dropped_behind", t->queue().dropped()}};
    }
    meeting["fault"] = p.fault;
    meeting["finished"] = false;
    return meeting;
  }

  void on_recording_fault(const std::string& meeting_id, const std::string& text) override {
    {
      std::lock_guard lock(mutex);
      if (auto it = running.find(meeting_id); it != running.end()) it->second.fault = text;
    }
    if (events) events->on_recording_fault(meeting_id, text);
  }

  void on_recording_resumed(const std::string& meeting_id) override {
    std::string left;
    {
      std::lock_guard lock(mutex);
      auto r = recordings.find(meeting_id);
      left = r == recordings.end() ? "" : r->second->fault();
      if (auto it = running.find(meeting_id); it != running.end()) it->second.fault = left;
    }
    if (left.empty() && events) events->on_recording_resumed(meeting_id);
  }
};

Recorder::Recorder(RecorderSettings settings, std::shared_ptr<RecorderEvents> events)
    : impl_(std::make_unique<Impl>(std::move(settings), std::move(events))), key_id_(impl_->signer.key_id()) {}

Recorder::~Recorder() = default;

Recorder::Taps Recorder::start(RecordingStart start) {
  const std::string id = start.meeting_id;
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->running.count(id)) throw RecorderError("meeting " + id + " is being recorded already");
  }
  Taps taps = impl_->worker.call([&]() -> Taps {
    try {
      auto r = std::make_unique<MeetingRecording>(impl_->settings.recording, std::move(start), impl_->signer,
                                                  *impl_);
      Taps t{r->tap(Party::Lawyer), r->tap(Party::Detainee)};
      const std::string fault = r->fault();
      {
        std::lock_guard lock(impl_->mutex);
        impl_->running[id] = {t, fault};
      }
      impl_->recordings[id] = std::move(r);
      return t;
    } catch (const std::runtime_error& e) {
      throw RecorderError(e.what());
    }
  });
  spdlog::info("[recorder] meeting {}: recording to {}", id, (impl_->settings.recording.archive_dir / id).string());
  return taps;
}

std::optional<Recorder::Taps> Recorder::taps(const std::string& meeting_id) const {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->running.find(meeting_id);
  if (it == impl_->running.end()) return std::nullopt;
  return it->second.taps;
}

void Recorder::stop(const std::string& meeting_id, RecordingEnd end) {
  impl_->worker.post([this, meeting_id, end = std::move(end)]() mutable {
    auto it = impl_->recordings.find(meeting_id);
    if (it != impl_->recordings.end()) it->second->stop(std::move(end), std::chrono::steady_clock::now());
  });
}

std::optional<std::string> Recorder::fault(const std::string& meeting_id) const {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->running.find(meeting_id);
  if (it == impl_->running.end()) return std::nullopt;
  return it->second.fault;
}

std::vector<ArchiveResult> Recorder::recover(const std::function<RecordingEnd(const std::string&)>& what_happened) {
  std::vector<ArchiveResult> results;
  std::error_code ec;
  const fs::path& dir = impl_->settings.recording.archive_dir;
  if (!fs::is_directory(dir, ec)) return results;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_directory() || !fs::exists(entry.path() / std::string(kJournalFile))) continue;
    const std::string meeting = entry.path().filename().string();
    {
      std::lock_guard lock(impl_->mutex);
      if (impl_->running.count(meeting)) continue;
    }
    try {
      ArchiveResult r = MeetingRecording::recover(entry.path(), what_happened(meeting), impl_->signer);
      spdlog::warn("[recorder] meeting {}: the recording was cut short by a stopped server; archive finalised, "
                   "{} segments{}",
                   meeting, r.manifest.segments.size(), r.error.empty() ? "" : ", error: " + r.error);
      results.push_back(std::move(r));
    } catch (const std::exception& e) {
      spdlog::error("[recorder] meeting {}: cannot finalise the archive left by a stopped server: {}", meeting,
                    e.what());
      ArchiveResult r;
      r.meeting_id = meeting;
      r.folder = entry.path();
      r.error = e.what();
      results.push_back(std::move(r));
    }
  }
  return results;
}

nlohmann::json Recorder::inputs() const {
  std::lock_guard lock(impl_->mutex);
  nlohmann::json out = impl_->finished_inputs;
  if (!out.is_object()) out = nlohmann::json::object();
  for (const auto& [id, p] : impl_->running) out[id] = Impl::describe(p);
  return out;
}

}  // namespace huijian::recorder
