#include "signaling/composite_exports.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <exception>
#include <system_error>

#include "signaling/component_logger.hpp"

namespace huijian::signaling {

CompositeExports::CompositeExports(std::filesystem::path exports_dir, Exporter exporter, std::size_t max_waiting)
    : dir_(std::move(exports_dir)), exporter_(std::move(exporter)), max_waiting_(max_waiting) {}

CompositeExports::~CompositeExports() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

const char* CompositeExports::to_string(State state) noexcept {
  switch (state) {
    case State::Queued: return "queued";
    case State::Running: return "running";
    case State::Done: return "done";
    case State::Failed: return "failed";
    case State::None: break;
  }
  return "none";
}

std::filesystem::path CompositeExports::file_of(const std::string& meeting) const { return dir_ / (meeting + ".mp4"); }

CompositeExports::Status CompositeExports::status_locked(const std::string& meeting) {
  Status s;
  auto it = jobs_.find(meeting);
  if (it != jobs_.end()) {
    s.state = it->second.state;
    s.error = it->second.error;
    s.outcome = it->second.outcome;
    if (s.state == State::Queued) {
      s.queue_position = static_cast<std::size_t>(std::find(queue_.begin(), queue_.end(), meeting) - queue_.begin());
      for (const auto& [m, job] : jobs_) s.queue_position += job.state == State::Running;
    }
  }
  if (s.state == State::None || s.state == State::Done) {
    // A composite made before this start of the server counts as done.
    std::error_code ec;
    if (std::filesystem::is_regular_file(file_of(meeting), ec)) {
      s.state = State::Done;
      s.file = file_of(meeting);
    } else if (s.state == State::Done) {
      s.state = State::None;  // deleted by hand since
    }
  }
  return s;
}

CompositeExports::Status CompositeExports::status(const std::string& meeting) {
  std::lock_guard lock(mutex_);
  return status_locked(meeting);
}

CompositeExports::Status CompositeExports::request(const std::string& meeting, const std::filesystem::path& folder) {
  std::lock_guard lock(mutex_);
  Status s = status_locked(meeting);
  if (s.state == State::Queued || s.state == State::Running || s.state == State::Done) return s;
  if (queue_.size() >= max_waiting_) return Status{};
  Job& job = jobs_[meeting];
  job = Job{};
  job.state = State::Queued;
  job.folder = folder;
  queue_.push_back(meeting);
  if (!worker_.joinable()) worker_ = std::thread([this] { run(); });
  wake_.notify_one();
  return status_locked(meeting);
}

void CompositeExports::run() {
  auto log = component_logger("export");
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    const std::string meeting = queue_.front();
    queue_.pop_front();
    Job& job = jobs_[meeting];
    job.state = State::Running;
    const std::filesystem::path folder = job.folder;
    lock.unlock();

    // Written under .partial/ and renamed when complete, so a crash never
    // leaves a half composite that looks done. Meeting ids hold no '/'.
    const auto partial_dir = dir_ / ".partial";
    const auto partial = partial_dir / (meeting + ".mp4");
    const auto final_file = file_of(meeting);
    Outcome outcome;
    std::string error;
    try {
      std::filesystem::create_directories(partial_dir);
      ::chmod(dir_.c_str(), 0700);
      ::chmod(partial_dir.c_str(), 0700);
      std::filesystem::remove(partial);
      log->info("exporting the composite of {} from {}", meeting, folder.string());
      outcome = exporter_(folder, partial);
      ::chmod(partial.c_str(), 0600);
      std::filesystem::rename(partial, final_file);
      log->info("composite of {} done: {} ms of footage in {:.1f} s", meeting, outcome.media_ms, outcome.seconds);
    } catch (const std::exception& e) {
      error = e.what();
      if (error.empty()) error = "the export failed";
      std::error_code ignored;
      std::filesystem::remove(partial, ignored);
      log->error("composite of {} failed: {}", meeting, error);
    } catch (...) {
      error = "the export failed with an unknown error";
      std::error_code ignored;
      std::filesystem::remove(partial, ignored);
      log->error("composite of {} failed: {}", meeting, error);
    }

    lock.lock();
    Job& done = jobs_[meeting];
    done.state = error.empty() ? State::Done : State::Failed;
    done.error = error;
    done.outcome = outcome;
  }
}

}  // namespace huijian::signaling
