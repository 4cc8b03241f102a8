#include "recorder/durable_file.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace huijian::recorder {

namespace fs = std::filesystem;

namespace {

class FdCloser {
 public:
  explicit FdCloser(int fd) noexcept : fd_(fd) {}
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  int release() noexcept { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

}  // namespace

void sync_directory(const fs::path& dir) noexcept {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

bool write_file_atomically(const fs::path& file, std::string_view content, mode_t mode, bool no_replace) {
  const fs::path tmp = file.string() + ".tmp." + std::to_string(::getpid());
  const int raw = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (raw < 0) throw FileWriteError(tmp.string() + ": cannot create (" + std::strerror(errno) + ")");
  FdCloser fd(raw);
  auto fail = [&](const std::string& what) {
    const int error = errno;
    ::unlink(tmp.c_str());
    throw FileWriteError(tmp.string() + ": " + what + " (" + std::strerror(error) + ")");
  };
  if (::fchmod(raw, mode) != 0) fail("cannot set the file mode");  // whatever the umask
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(raw, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write error");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(raw) != 0) fail("cannot sync");
  if (::close(fd.release()) != 0) fail("cannot close");
  int renamed = -1;
  if (no_replace) {
    renamed = ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, file.c_str(), RENAME_NOREPLACE);
    if (renamed != 0 && errno == EEXIST) {
      ::unlink(tmp.c_str());
      return false;
    }
    if (renamed != 0 && errno != EINVAL && errno != ENOSYS) fail("cannot rename to " + file.filename().string());
  }
  if (renamed != 0 && ::rename(tmp.c_str(), file.c_str()) != 0) fail("cannot rename to " + file.filename().string());
  sync_directory(file.parent_path());
  return true;
}

}  // namespace huijian::recorder
