#pragma once
// AES-GCM for libsrtp, computed by OpenSSL.
//
// Debian builds libsrtp on NSS, whose AES-GCM goes through PKCS#11 on every
// packet (a context made and freed per call, session locks, allocations):
// in a profile of the relay that layer cost more than the cipher itself.
// libsrtp lets an application replace a cipher type's implementation
// (srtp_replace_cipher_type) once it passes libsrtp's own test vectors for
// that type as well as its own; this one keeps one EVP_CIPHER_CTX per libsrtp
// cipher and only sets the IV, the AAD and the tag per packet. SRTP itself
// (key derivation, replay checks, packet formats) stays libsrtp's.

namespace huijian::media {

// Replaces libsrtp's AES-128-GCM (the one the relay negotiates); call after srtp_init().
// False (libsrtp keeps its own) when libsrtp refuses the replacement.
bool install_openssl_gcm() noexcept;

// True once install_openssl_gcm() succeeded.
bool openssl_gcm_installed() noexcept;

}  // namespace huijian::media
