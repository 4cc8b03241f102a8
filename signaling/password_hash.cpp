#include "signaling/password_hash.hpp"

#include "common/hex.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>
#include <vector>

namespace huijian::signaling {
namespace {

constexpr std::string_view kScheme = "pbkdf2-sha256";
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kKeyBytes = 32;

using common::to_hex;

std::optional<std::vector<unsigned char>> from_hex(std::string_view hex, std::size_t bytes) {
  if (hex.size() != bytes * 2) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::vector<unsigned char> out(bytes);
  for (std::size_t i = 0; i < bytes; ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return out;
}

struct Parsed {
  unsigned iterations = 0;
  std::vector<unsigned char> salt;
  std::vector<unsigned char> key;
};

std::optional<Parsed> parse(std::string_view encoded) {
  // scheme $ iterations $ salt $ key
  std::array<std::string_view, 4> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto end = encoded.find('$', start);
    if (i + 1 < parts.size()) {
      if (end == std::string_view::npos) return std::nullopt;
      parts[i] = encoded.substr(start, end - start);
      start = end + 1;
    } else {
      if (end != std::string_view::npos) return std::nullopt;
      parts[i] = encoded.substr(start);
    }
  }
  if (parts[0] != kScheme) return std::nullopt;
  if (parts[1].empty() || parts[1].size() > 8) return std::nullopt;
  unsigned long iterations = 0;
  for (char c : parts[1]) {
    if (c < '0' || c > '9') return std::nullopt;
    iterations = iterations * 10 + static_cast<unsigned long>(c - '0');
  }
  if (iterations == 0 || iterations > kMaxPasswordIterations) return std::nullopt;
  auto salt = from_hex(parts[2], kSaltBytes);
  auto key = from_hex(parts[3], kKeyBytes);
  if (!salt || !key) return std::nullopt;
  return Parsed{static_cast<unsigned>(iterations), std::move(*salt), std::move(*key)};
}

std::array<unsigned char, kKeyBytes> derive(std::string_view password, const unsigned char* salt,
                                            std::size_t salt_size, unsigned iterations) {
  std::array<unsigned char, kKeyBytes> key{};
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt, static_cast<int>(salt_size),
                        static_cast<int>(iterations), EVP_sha256(), static_cast<int>(key.size()), key.data()) != 1)
    throw std::runtime_error("OpenSSL PKCS5_PBKDF2_HMAC failed");
  return key;
}

}  // namespace

std::string PasswordHash::create(std::string_view password, unsigned iterations) {
  if (iterations == 0 || iterations > kMaxPasswordIterations)
    throw std::invalid_argument(fmt::format("PBKDF2 iterations must be 1 to {}", kMaxPasswordIterations));
  std::array<unsigned char, kSaltBytes> salt{};
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1)
    throw std::runtime_error("OpenSSL RAND_bytes failed: no salt for the password hash");
  auto key = derive(password, salt.data(), salt.size(), iterations);
  std::string out = fmt::format("{}${}${}${}", kScheme, iterations, to_hex(salt.data(), salt.size()),
                                to_hex(key.data(), key.size()));
  OPENSSL_cleanse(key.data(), key.size());
  return out;
}

bool PasswordHash::verify(std::string_view password, std::string_view encoded) {
  auto parsed = parse(encoded);
  if (!parsed) return false;
  auto key = derive(password, parsed->salt.data(), parsed->salt.size(), parsed->iterations);
  bool same = CRYPTO_memcmp(key.data(), parsed->key.data(), key.size()) == 0;
  OPENSSL_cleanse(key.data(), key.size());
  return same;
}

std::optional<unsigned> PasswordHash::iterations_of(std::string_view encoded) {
  auto parsed = parse(encoded);
  if (!parsed) return std::nullopt;
  return parsed->iterations;
}

}  // namespace huijian::signaling
