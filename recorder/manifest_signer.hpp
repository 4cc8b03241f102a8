#pragma once
// The archive's signing key (docs/archive.md): an Ed25519 key pair kept under
// <data_dir>/keys, made at the first use. ManifestSigner signs the exact
// bytes of manifest.json; ManifestVerifierKey checks such a signature with
// the public key alone (huijian-archive verify).

#include <openssl/types.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace huijian::recorder {

inline constexpr std::string_view kPrivateKeyFile = "archive-ed25519.pem";
inline constexpr std::string_view kPublicKeyFile = "archive-ed25519.pub.pem";

// A key file that cannot be read, written or parsed, or a key of the wrong
// type; what() names the file.
class SigningError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
struct PkeyFree {
  void operator()(EVP_PKEY* p) const noexcept;
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
// A second owner of the same key (EVP_PKEY_up_ref).
PkeyPtr share(EVP_PKEY* key);
}  // namespace detail

class ManifestSigner {
 public:
  // On first use creates keys_dir (mode 0700) with archive-ed25519.pem
  // (unencrypted PKCS#8 PEM, mode 0600, written to a temporary file and
  // renamed into place) and archive-ed25519.pub.pem (SubjectPublicKeyInfo PEM,
  // mode 0644); afterwards loads the private key, and rewrites a missing
  // public key file from it. Throws SigningError for an unreadable or bad key
  // file, a key that is not Ed25519, or a public key file that does not
  // belong to the private key.
  static ManifestSigner load_or_create(const std::filesystem::path& keys_dir);

  // Ed25519 signature of exactly these bytes, standard base64 (88 characters,
  // with padding, no newline). Throws SigningError if OpenSSL fails.
  std::string sign_base64(std::string_view bytes) const;
  // Lowercase hex SHA-256 of the public key's DER (SubjectPublicKeyInfo):
  // the manifest's signing_key_id.
  std::string key_id() const;
  // The public key as SubjectPublicKeyInfo PEM.
  std::string public_key_pem() const;

  ManifestSigner(const ManifestSigner& other);
  ManifestSigner& operator=(const ManifestSigner& other);
  ManifestSigner(ManifestSigner&&) noexcept = default;
  ManifestSigner& operator=(ManifestSigner&&) noexcept = default;
  ~ManifestSigner() = default;

 private:
  explicit ManifestSigner(detail::PkeyPtr key);
  detail::PkeyPtr key_;
  std::string key_id_;
};

// The public half, for checking a signature.
class ManifestVerifierKey {
 public:
  // Reads a SubjectPublicKeyInfo PEM file holding an Ed25519 key.
  // Throws SigningError naming the file when it is unreadable or not such a key.
  static ManifestVerifierKey load(const std::filesystem::path& public_key_pem);
  // The same from PEM text; `origin` names where it came from in errors.
  static ManifestVerifierKey from_pem(std::string_view pem, std::string_view origin = "public key");

  // True when signature_base64 (standard base64; surrounding whitespace, such
  // as the final newline of manifest.json.sig, is ignored) is a valid Ed25519
  // signature of exactly these bytes. False for malformed base64 too.
  bool verify(std::string_view bytes, std::string_view signature_base64) const;
  // Lowercase hex SHA-256 of the public key's DER, as ManifestSigner::key_id().
  std::string key_id() const;

  ManifestVerifierKey(const ManifestVerifierKey& other);
  ManifestVerifierKey& operator=(const ManifestVerifierKey& other);
  ManifestVerifierKey(ManifestVerifierKey&&) noexcept = default;
  ManifestVerifierKey& operator=(ManifestVerifierKey&&) noexcept = default;
  ~ManifestVerifierKey() = default;

 private:
  explicit ManifestVerifierKey(detail::PkeyPtr key);
  detail::PkeyPtr key_;
  std::string key_id_;
};

}  // namespace huijian::recorder
