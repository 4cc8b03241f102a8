#pragma once
// An ECDSA P-256 certificate and its private key: the identity of the relay
// in DTLS (its SHA-256 fingerprint goes into the SDP) and, with
// subjectAltName entries, the TLS certificate of huijiand's HTTPS endpoint.

#include <openssl/types.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace huijian::media {

class CertificateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Certificate {
 public:
  // Self-signed X.509v3, ECDSA P-256 / SHA-256, no extensions, valid from now-1day to now+30days,
  // random 127-bit serial.
  // Throws CertificateError.
  static Certificate generate(std::string_view common_name);
  // Same key type, for TLS servers: subjectAltName with the given DNS names and IP addresses
  // (IPv4 or IPv6 text; at least one entry in all), CA:FALSE, digitalSignature, serverAuth;
  // valid from now-1day to now+`days` days (1..3650).
  // Throws CertificateError for no names, a malformed name/address or a bad `days`.
  static Certificate generate_tls(std::string_view common_name, std::vector<std::string> dns_names,
                                  std::vector<std::string> ip_addresses, int days);
  // The first certificate of a PEM text + an unencrypted PEM private key that matches it
  // (any key type OpenSSL reads; ECDSA P-256 for DTLS). Throws CertificateError.
  static Certificate load_pem(const std::string& cert_pem, const std::string& key_pem);

  // "AB:CD:..." upper-case hex, colon-separated, SHA-256 of the DER certificate.
  std::string fingerprint_sha256() const;
  std::string certificate_pem() const;
  // Unencrypted PKCS#8 PEM. A secret: never log it.
  std::string private_key_pem() const;

  // Borrowed pointers, valid as long as this object (or a copy) lives; null after a move.
  X509* x509() const noexcept { return cert_.get(); }
  EVP_PKEY* private_key() const noexcept { return key_.get(); }

  Certificate(const Certificate& other);
  Certificate& operator=(const Certificate& other);
  Certificate(Certificate&&) noexcept = default;
  Certificate& operator=(Certificate&&) noexcept = default;
  ~Certificate() = default;

 private:
  struct X509Free {
    void operator()(X509* p) const noexcept;
  };
  struct PkeyFree {
    void operator()(EVP_PKEY* p) const noexcept;
  };
  Certificate(std::unique_ptr<X509, X509Free> cert, std::unique_ptr<EVP_PKEY, PkeyFree> key) noexcept;
  static Certificate make(std::string_view common_name, int days, bool tls, const std::vector<std::string>& dns_names,
                          const std::vector<std::string>& ip_addresses);

  std::unique_ptr<X509, X509Free> cert_;
  std::unique_ptr<EVP_PKEY, PkeyFree> key_;
};

// SHA-256 fingerprint of any certificate, same format as Certificate::fingerprint_sha256().
// Throws CertificateError for a null certificate.
std::string fingerprint_sha256_of(X509* cert);

}  // namespace huijian::media
