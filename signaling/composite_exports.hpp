#pragma once
// Side-by-side composites of archives (POST/GET /api/archives/{meeting}/composite):
// made one at a time, in the order asked, on a worker thread of their own,
// and kept as <exports_dir>/<meeting>.mp4. The export itself is a function
// given at construction (huijiand passes recorder::export_composite), so this
// class knows nothing of GStreamer. Thread-safe.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace huijian::signaling {

class CompositeExports {
 public:
  struct Outcome {
    std::int64_t media_ms = 0;  // length of the composite
    double seconds = 0;         // time the export took
  };
  // Writes the composite of the archive `folder` to `out_mp4`; throws (what()
  // says why) when it cannot.
  using Exporter = std::function<Outcome(const std::filesystem::path& folder, const std::filesystem::path& out_mp4)>;

  enum class State { None, Queued, Running, Done, Failed };
  struct Status {
    State state = State::None;
    std::string error;             // Failed: what the exporter said
    Outcome outcome;               // Done in this run of the server (zero for a file from before)
    std::filesystem::path file;    // Done: the composite
    std::size_t queue_position = 0;  // Queued: exports ahead of this one (the running one included)
  };

  // At most `max_waiting` exports wait behind the running one.
  CompositeExports(std::filesystem::path exports_dir, Exporter exporter, std::size_t max_waiting = 8);
  // Waits for the running export to finish; waiting ones are dropped.
  ~CompositeExports();
  CompositeExports(const CompositeExports&) = delete;
  CompositeExports& operator=(const CompositeExports&) = delete;

  // Queues the export of `folder` for `meeting` unless it is queued or
  // running, or its composite exists (Done). A failed export is tried again.
  // Returns the status after the call; State::None means the queue was full.
  Status request(const std::string& meeting, const std::filesystem::path& folder);
  // None: never asked since the start and no composite on disk.
  Status status(const std::string& meeting);

  std::filesystem::path file_of(const std::string& meeting) const;
  static const char* to_string(State state) noexcept;

 private:
  struct Job {
    State state = State::None;
    std::filesystem::path folder;
    std::string error;
    Outcome outcome;
  };
  void run();
  Status status_locked(const std::string& meeting);

  const std::filesystem::path dir_;
  const Exporter exporter_;
  const std::size_t max_waiting_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, Job> jobs_;
  std::deque<std::string> queue_;  // meetings waiting, oldest first
  bool stopping_ = false;
  std::thread worker_;             // started at the first request
};

}  // namespace huijian::signaling
