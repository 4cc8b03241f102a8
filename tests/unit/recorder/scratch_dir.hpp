#pragma once
// A fresh directory under the system's temporary directory for one test,
// removed with everything in it when the test ends (kept for a look when
// the environment sets HUIJIAN_KEEP_TEST_FILES).

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include <unistd.h>

namespace huijian::recorder::testing {

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag) {
    static std::atomic<int> counter{0};
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    path_ = std::filesystem::temp_directory_path() /
            ("huijian-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(now) + "-" +
             std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    if (std::getenv("HUIJIAN_KEEP_TEST_FILES") != nullptr) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace huijian::recorder::testing
