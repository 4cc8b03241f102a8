#include "recorder/manifest_signer.hpp"

#include "recorder/durable_file.hpp"

#include "media/openssl_errors.hpp"
#include "recorder/file_digest.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>
#include <vector>

namespace huijian::recorder {

namespace fs = std::filesystem;

namespace detail {
void PkeyFree::operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }

PkeyPtr share(EVP_PKEY* key) {
  if (key == nullptr) return PkeyPtr();
  if (EVP_PKEY_up_ref(key) != 1) throw SigningError("cannot share a key (" + media::openssl_errors() + ")");
  return PkeyPtr(key);
}
}  // namespace detail

namespace {

using detail::PkeyPtr;

constexpr std::size_t kMaxKeyFile = 64 * 1024;  // an Ed25519 PEM is ~120 bytes
constexpr std::size_t kSignatureBytes = 64;     // Ed25519

struct BioFree {
  void operator()(BIO* p) const noexcept { BIO_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

// Never prompts for a pass phrase: an encrypted key is refused.
int no_passphrase(char*, int, int, void*) { return 0; }

std::string errno_text(int error) { return std::strerror(error); }

std::string read_key_file(const fs::path& file) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) throw SigningError(file.string() + ": cannot read the key file (" + ec.message() + ")");
  if (size > kMaxKeyFile)
    throw SigningError(file.string() + ": not a key file (" + std::to_string(size) + " bytes, more than " +
                       std::to_string(kMaxKeyFile) + ")");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw SigningError(file.string() + ": cannot open the key file (" + errno_text(errno) + ")");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw SigningError(file.string() + ": read error");
  return text;
}

BioPtr memory_bio(std::string_view text) {
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) throw SigningError("cannot allocate a memory BIO (" + media::openssl_errors() + ")");
  return bio;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  if (length <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<std::size_t>(length));
}

void require_ed25519(EVP_PKEY* key, const std::string& origin) {
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519)
    throw SigningError(origin + ": the key is " + (EVP_PKEY_get0_type_name(key) ? EVP_PKEY_get0_type_name(key) : "?") +
                       ", not Ed25519");
}

PkeyPtr parse_private_pem(std::string_view pem, const std::string& origin) {
  BioPtr bio = memory_bio(pem);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key)
    throw SigningError(origin + ": not an unencrypted PEM private key (" + media::openssl_errors() + ")");
  require_ed25519(key.get(), origin);
  return key;
}

PkeyPtr parse_public_pem(std::string_view pem, const std::string& origin) {
  BioPtr bio = memory_bio(pem);
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key)
    throw SigningError(origin + ": not a PEM public key (SubjectPublicKeyInfo) (" + media::openssl_errors() + ")");
  require_ed25519(key.get(), origin);
  return key;
}

std::string public_der(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(key, &der);
  if (length <= 0 || der == nullptr)
    throw SigningError("cannot encode the public key (" + media::openssl_errors() + ")");
  std::string bytes(reinterpret_cast<const char*>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  return bytes;
}

std::string private_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  // PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY").
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    throw SigningError("cannot encode the private key (" + media::openssl_errors() + ")");
  return bio_text(bio.get());
}

std::string public_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1)
    throw SigningError("cannot encode the public key (" + media::openssl_errors() + ")");
  return bio_text(bio.get());
}

bool write_key_file(const fs::path& file, std::string_view content, mode_t mode, bool no_replace) {
  try {
    return write_file_atomically(file, content, mode, no_replace);
  } catch (const FileWriteError& e) {
    throw SigningError(e.what());
  }
}

void make_keys_dir(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return;
  if (!dir.parent_path().empty()) {
    fs::create_directories(dir.parent_path(), ec);
    if (ec) throw SigningError(dir.parent_path().string() + ": cannot create the directory (" + ec.message() + ")");
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw SigningError(dir.string() + ": cannot create the key directory (" + errno_text(errno) + ")");
  if (!fs::is_directory(dir, ec)) throw SigningError(dir.string() + ": exists but is not a directory");
  ::chmod(dir.c_str(), 0700);  // mkdir's mode is reduced by the umask
}

std::string base64(const unsigned char* data, std::size_t length) {
  std::string out(4 * ((length + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(length));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// Strict standard base64 with padding; nullopt-like empty vector for anything else.
bool decode_base64(std::string_view text, std::vector<unsigned char>& out) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  if (text.empty() || text.size() % 4 != 0 || text.size() > 4096) return false;
  std::size_t padding = 0;
  if (text.back() == '=') ++padding;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++padding;
  for (std::size_t i = 0; i < text.size() - padding; ++i)
    if (!is_base64_char(text[i])) return false;
  out.assign(text.size() / 4 * 3, 0);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0 || static_cast<std::size_t>(n) != out.size()) return false;
  out.resize(out.size() - padding);
  return true;
}

}  // namespace

// ---------------------------------------------------------------- ManifestSigner

ManifestSigner::ManifestSigner(detail::PkeyPtr key) : key_(std::move(key)), key_id_(sha256_hex(public_der(key_.get()))) {}

ManifestSigner::ManifestSigner(const ManifestSigner& other)
    : key_(detail::share(other.key_.get())), key_id_(other.key_id_) {}

ManifestSigner& ManifestSigner::operator=(const ManifestSigner& other) {
  if (this != &other) {
    key_ = detail::share(other.key_.get());
    key_id_ = other.key_id_;
  }
  return *this;
}

ManifestSigner ManifestSigner::load_or_create(const fs::path& keys_dir) {
  make_keys_dir(keys_dir);
  const fs::path private_file = keys_dir / kPrivateKeyFile;
  const fs::path public_file = keys_dir / kPublicKeyFile;

  std::error_code ec;
  PkeyPtr key;
  if (!fs::exists(private_file, ec)) {
    key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    if (!key) throw SigningError("cannot generate an Ed25519 key (" + media::openssl_errors() + ")");
    if (write_key_file(private_file, private_pem(key.get()), 0600, /*no_replace=*/true)) {
      spdlog::info("[recorder] made the archive signing key {}", private_file.string());
    } else {
      key.reset();  // another process made one first: use that
    }
  }
  if (!key) {
    struct stat st {};
    if (::stat(private_file.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
      spdlog::warn("[recorder] {} is readable by others (mode {:o}); it should be 0600", private_file.string(),
                   st.st_mode & 0777);
    key = parse_private_pem(read_key_file(private_file), private_file.string());
  }

  const std::string der = public_der(key.get());
  if (fs::exists(public_file, ec)) {
    PkeyPtr stored = parse_public_pem(read_key_file(public_file), public_file.string());
    if (public_der(stored.get()) != der)
      throw SigningError(public_file.string() + ": does not belong to the private key " + private_file.string());
  } else {
    write_key_file(public_file, public_pem(key.get()), 0644, /*no_replace=*/false);
  }
  return ManifestSigner(std::move(key));
}

std::string ManifestSigner::sign_base64(std::string_view bytes) const {
  if (!key_) throw SigningError("sign: the signer was moved from");
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::array<unsigned char, kSignatureBytes> signature{};
  std::size_t length = signature.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), signature.data(), &length, reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size()) != 1)
    throw SigningError("Ed25519 signing failed (" + media::openssl_errors() + ")");
  return base64(signature.data(), length);
}

std::string ManifestSigner::key_id() const { return key_id_; }

std::string ManifestSigner::public_key_pem() const {
  if (!key_) throw SigningError("public_key_pem: the signer was moved from");
  return public_pem(key_.get());
}

// ---------------------------------------------------------------- ManifestVerifierKey

ManifestVerifierKey::ManifestVerifierKey(detail::PkeyPtr key)
    : key_(std::move(key)), key_id_(sha256_hex(public_der(key_.get()))) {}

ManifestVerifierKey::ManifestVerifierKey(const ManifestVerifierKey& other)
    : key_(detail::share(other.key_.get())), key_id_(other.key_id_) {}

ManifestVerifierKey& ManifestVerifierKey::operator=(const ManifestVerifierKey& other) {
  if (this != &other) {
    key_ = detail::share(other.key_.get());
    key_id_ = other.key_id_;
  }
  return *this;
}

ManifestVerifierKey ManifestVerifierKey::load(const fs::path& public_key_pem) {
  return ManifestVerifierKey(parse_public_pem(read_key_file(public_key_pem), public_key_pem.string()));
}

ManifestVerifierKey ManifestVerifierKey::from_pem(std::string_view pem, std::string_view origin) {
  if (pem.size() > kMaxKeyFile) throw SigningError(std::string(origin) + ": too long for a key");
  return ManifestVerifierKey(parse_public_pem(pem, std::string(origin)));
}

bool ManifestVerifierKey::verify(std::string_view bytes, std::string_view signature_base64) const {
  if (!key_) return false;
  std::vector<unsigned char> signature;
  if (!decode_base64(signature_base64, signature) || signature.size() != kSignatureBytes) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1) {
    media::openssl_errors();  // clear the queue
    return false;
  }
  const int result = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                                      reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  if (result != 1) media::openssl_errors();
  return result == 1;
}

std::string ManifestVerifierKey::key_id() const { return key_id_; }

}  // namespace huijian::recorder
