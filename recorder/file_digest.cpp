#include "recorder/file_digest.hpp"

#include "common/hex.hpp"

#include "media/openssl_errors.hpp"

#include <openssl/evp.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

namespace huijian::recorder {

namespace {

constexpr std::size_t kChunk = 64 * 1024;

struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

struct FileClose {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileClose>;

using common::to_hex;

MdCtxPtr new_sha256() {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256: cannot start a digest (" + media::openssl_errors() + ")");
  return ctx;
}

std::string finish(EVP_MD_CTX* ctx) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(ctx, digest.data(), &length) != 1)
    throw std::runtime_error("SHA-256: cannot finish the digest (" + media::openssl_errors() + ")");
  return to_hex(digest.data(), length);
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  MdCtxPtr ctx = new_sha256();
  if (EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size()) != 1)
    throw std::runtime_error("SHA-256: digest update failed (" + media::openssl_errors() + ")");
  return finish(ctx.get());
}

std::string sha256_file_hex(const std::filesystem::path& file) {
  FilePtr f(std::fopen(file.c_str(), "rb"));
  if (!f) throw std::runtime_error(file.string() + ": cannot open for reading (" + std::strerror(errno) + ")");
  MdCtxPtr ctx = new_sha256();
  std::vector<unsigned char> buffer(kChunk);
  for (;;) {
    const std::size_t got = std::fread(buffer.data(), 1, buffer.size(), f.get());
    if (got > 0 && EVP_DigestUpdate(ctx.get(), buffer.data(), got) != 1)
      throw std::runtime_error(file.string() + ": SHA-256 update failed (" + media::openssl_errors() + ")");
    if (got < buffer.size()) {
      if (std::ferror(f.get()))
        throw std::runtime_error(file.string() + ": read error (" + std::strerror(errno) + ")");
      break;
    }
  }
  return finish(ctx.get());
}

}  // namespace huijian::recorder
