#include "signaling/tls_identity.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "media/certificate.hpp"
#include "signaling/component_logger.hpp"
#include "signaling/errors.hpp"

namespace huijian::signaling {
namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("cannot read {}", p.string()));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::filesystem::path& p, const std::string& text, mode_t mode) {
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) throw ConfigError(fmt::format("cannot create {}: {}", p.string(), std::strerror(errno)));
  std::unique_ptr<int, void (*)(int*)> guard(&fd, [](int* f) { ::close(*f); });
  std::size_t done = 0;
  while (done < text.size()) {
    auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw ConfigError(fmt::format("cannot write {}: {}", p.string(), std::strerror(errno)));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0)
    throw ConfigError(fmt::format("cannot write {}: {}", p.string(), std::strerror(errno)));
}

}  // namespace

TlsIdentity load_or_create_tls_identity(const std::filesystem::path& tls_dir) {
  auto log = component_logger("tls");
  const auto cert_path = tls_dir / "cert.pem";
  const auto key_path = tls_dir / "key.pem";
  std::error_code ec;
  bool have_cert = std::filesystem::exists(cert_path, ec);
  bool have_key = std::filesystem::exists(key_path, ec);
  TlsIdentity id;
  if (!have_cert && !have_key) {
    std::filesystem::create_directories(tls_dir, ec);
    if (ec) throw ConfigError(fmt::format("cannot create {}: {}", tls_dir.string(), ec.message()));
    std::filesystem::permissions(tls_dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
    auto cert = media::Certificate::generate_tls("huijiand", {"localhost"}, {"127.0.0.1", "::1"}, 825);
    id.certificate_pem = cert.certificate_pem();
    id.private_key_pem = cert.private_key_pem();
    id.fingerprint_sha256 = cert.fingerprint_sha256();
    id.created = true;
    write_file(key_path, id.private_key_pem, 0600);
    write_file(cert_path, id.certificate_pem, 0644);
    log->info("created a TLS certificate in {}", tls_dir.string());
    return id;
  }
  if (!have_cert || !have_key)
    throw ConfigError(fmt::format(
        "{} exists but {} does not: restore the missing file, or remove both to create a new certificate",
        (have_cert ? cert_path : key_path).string(), (have_cert ? key_path : cert_path).string()));
  struct stat st {};
  if (::stat(key_path.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
    log->warn("{} can be read by other users; run chmod 600 on it", key_path.string());
  id.certificate_pem = read_file(cert_path);
  id.private_key_pem = read_file(key_path);
  try {
    auto cert = media::Certificate::load_pem(id.certificate_pem, id.private_key_pem);
    id.fingerprint_sha256 = cert.fingerprint_sha256();
  } catch (const std::exception& e) {
    throw ConfigError(fmt::format("the TLS certificate in {} cannot be used: {}", tls_dir.string(), e.what()));
  }
  return id;
}

}  // namespace huijian::signaling
