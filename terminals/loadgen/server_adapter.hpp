#pragma once
// How the load generator gets its meetings from a server: huijiand through
// huijian's signalling, or Janus through its videocall plugin. set_up returns
// once every meeting is connected at the signalling level (media may still be
// coming up); tear_down ends them politely. Both are bounded in time.

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>

namespace huijian::terminals::loadgen {

class LoadRun;

class AdapterError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ServerAdapter {
 public:
  virtual ~ServerAdapter() = default;
  // Throws AdapterError naming the meeting and the reason (refused, timed out, ...).
  virtual void set_up(LoadRun& run, std::size_t meetings, std::chrono::steady_clock::time_point deadline) = 0;
  virtual void tear_down(LoadRun& run) noexcept = 0;
  virtual const char* name() const noexcept = 0;
};

}  // namespace huijian::terminals::loadgen
