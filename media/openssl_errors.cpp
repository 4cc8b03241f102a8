#include "media/openssl_errors.hpp"

#include <openssl/err.h>

#include <array>

namespace huijian::media {

std::string openssl_errors() {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    std::array<char, 256> buffer{};
    ERR_error_string_n(code, buffer.data(), buffer.size());
    if (!text.empty()) text += "; ";
    text += buffer.data();
  }
  return text.empty() ? std::string("no OpenSSL detail") : text;
}

}  // namespace huijian::media
