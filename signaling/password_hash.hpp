#pragma once
// Officer and administrator passwords: PBKDF2-HMAC-SHA256 with a random
// per-account salt, stored as one self-describing text
//   pbkdf2-sha256$<iterations>$<salt, 32 hex digits>$<key, 64 hex digits>
// so the iteration count can be raised later without breaking old hashes.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace huijian::signaling {

inline constexpr unsigned kMinPasswordIterations = 200000;
inline constexpr unsigned kDefaultPasswordIterations = 210000;
inline constexpr unsigned kMaxPasswordIterations = 10000000;
inline constexpr std::size_t kMinPasswordChars = 10;
inline constexpr std::size_t kMaxPasswordBytes = 256;

class PasswordHash {
 public:
  // Hashes with a fresh 16-byte salt from the OpenSSL CSPRNG. Throws
  // std::runtime_error if OpenSSL fails and std::invalid_argument for an
  // iteration count outside 1..kMaxPasswordIterations (tests may use fewer
  // than kMinPasswordIterations; accounts never do).
  static std::string create(std::string_view password, unsigned iterations = kDefaultPasswordIterations);

  // True when `password` matches `encoded` (constant-time comparison of the
  // derived keys). False for a wrong password and for a malformed `encoded`.
  static bool verify(std::string_view password, std::string_view encoded);

  // The iteration count of a well-formed encoded hash; nullopt when malformed.
  static std::optional<unsigned> iterations_of(std::string_view encoded);
};

}  // namespace huijian::signaling
