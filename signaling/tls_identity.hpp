#pragma once
// huijiand's HTTPS/WSS certificate: <data_dir>/tls/cert.pem and key.pem,
// created on first start (ECDSA P-256, for localhost/127.0.0.1/::1).

#include <filesystem>
#include <string>

namespace huijian::signaling {

struct TlsIdentity {
  std::string certificate_pem;
  std::string private_key_pem;
  std::string fingerprint_sha256;  // "AB:CD:..." of the DER certificate
  bool created = false;            // true when this call generated the files
};

// Loads the pair from `tls_dir`, or creates both when neither exists (the key
// file with mode 0600). Throws ConfigError when only one exists or they do not load.
TlsIdentity load_or_create_tls_identity(const std::filesystem::path& tls_dir);

}  // namespace huijian::signaling
