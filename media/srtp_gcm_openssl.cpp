#include "media/srtp_gcm_openssl.hpp"

#include <openssl/evp.h>
#include <srtp2/cipher.h>
#include <srtp2/srtp.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace huijian::media {

namespace {

constexpr int kKeySalt128 = 16 + 12;  // SRTP_AES_GCM_128_KEY_LEN_WSALT
constexpr int kFullTag = 16;
constexpr int kShortTag = 8;

std::atomic<bool> installed{false};

struct GcmState {
  EVP_CIPHER_CTX* ctx = nullptr;
  const EVP_CIPHER* cipher = nullptr;
  int tag_length = kFullTag;
  bool encrypting = true;
};

extern const srtp_cipher_type_t kGcm128;

srtp_err_status_t gcm_alloc(srtp_cipher_pointer_t* out, int key_length, int tag_length) {
  if (key_length != kKeySalt128) return srtp_err_status_bad_param;
  if (tag_length != kFullTag && tag_length != kShortTag) return srtp_err_status_bad_param;
  auto* cipher = static_cast<srtp_cipher_t*>(std::calloc(1, sizeof(srtp_cipher_t)));
  auto* state = new (std::nothrow) GcmState;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (!cipher || !state || !ctx) {
    std::free(cipher);
    delete state;
    EVP_CIPHER_CTX_free(ctx);
    return srtp_err_status_alloc_fail;
  }
  state->ctx = ctx;
  state->cipher = EVP_aes_128_gcm();
  state->tag_length = tag_length;
  cipher->type = &kGcm128;
  cipher->algorithm = SRTP_AES_GCM_128;
  cipher->key_len = key_length;
  cipher->state = state;
  *out = cipher;
  return srtp_err_status_ok;
}

srtp_err_status_t gcm_dealloc(srtp_cipher_pointer_t cipher) {
  auto* state = static_cast<GcmState*>(cipher->state);
  if (state) {
    EVP_CIPHER_CTX_free(state->ctx);
    delete state;
  }
  std::free(cipher);
  return srtp_err_status_ok;
}

// `key` is the session key followed by the salt; the salt goes into the IV, which libsrtp computes.
srtp_err_status_t gcm_init(void* data, const std::uint8_t* key) {
  auto* s = static_cast<GcmState*>(data);
  if (EVP_CipherInit_ex(s->ctx, s->cipher, nullptr, key, nullptr, 1) != 1) return srtp_err_status_init_fail;
  s->encrypting = true;
  return srtp_err_status_ok;
}

srtp_err_status_t gcm_set_iv(void* data, std::uint8_t* iv, srtp_cipher_direction_t direction) {
  auto* s = static_cast<GcmState*>(data);
  if (direction != srtp_direction_encrypt && direction != srtp_direction_decrypt) return srtp_err_status_bad_param;
  s->encrypting = direction == srtp_direction_encrypt;
  // The key stays; a new 12-byte IV restarts the GCM state.
  if (EVP_CipherInit_ex(s->ctx, nullptr, nullptr, nullptr, iv, s->encrypting ? 1 : 0) != 1)
    return srtp_err_status_init_fail;
  return srtp_err_status_ok;
}

srtp_err_status_t gcm_set_aad(void* data, const std::uint8_t* aad, std::uint32_t length) {
  auto* s = static_cast<GcmState*>(data);
  if (length == 0) return srtp_err_status_ok;
  int out = 0;
  if (EVP_CipherUpdate(s->ctx, nullptr, &out, aad, static_cast<int>(length)) != 1) return srtp_err_status_algo_fail;
  return srtp_err_status_ok;
}

srtp_err_status_t gcm_encrypt(void* data, std::uint8_t* buffer, unsigned int* length) {
  auto* s = static_cast<GcmState*>(data);
  if (!s->encrypting) return srtp_err_status_bad_param;
  int out = 0;
  if (*length > 0 && EVP_CipherUpdate(s->ctx, buffer, &out, buffer, static_cast<int>(*length)) != 1)
    return srtp_err_status_algo_fail;
  return srtp_err_status_ok;
}

// After encrypt(): finishes the message and writes the tag.
srtp_err_status_t gcm_get_tag(void* data, std::uint8_t* tag, std::uint32_t* length) {
  auto* s = static_cast<GcmState*>(data);
  int out = 0;
  std::uint8_t full[kFullTag];
  if (EVP_CipherFinal_ex(s->ctx, full, &out) != 1) return srtp_err_status_algo_fail;
  if (EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_GCM_GET_TAG, kFullTag, full) != 1) return srtp_err_status_algo_fail;
  for (int i = 0; i < s->tag_length; ++i) tag[i] = full[i];
  *length = static_cast<std::uint32_t>(s->tag_length);
  return srtp_err_status_ok;
}

// `*length` covers the ciphertext and the tag after it; on success it is the plaintext's length.
srtp_err_status_t gcm_decrypt(void* data, std::uint8_t* buffer, unsigned int* length) {
  auto* s = static_cast<GcmState*>(data);
  if (s->encrypting) return srtp_err_status_bad_param;
  const auto tag_length = static_cast<unsigned int>(s->tag_length);
  if (*length < tag_length) return srtp_err_status_bad_param;
  const unsigned int text = *length - tag_length;
  if (EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_GCM_SET_TAG, s->tag_length, buffer + text) != 1)
    return srtp_err_status_algo_fail;
  int out = 0;
  if (text > 0 && EVP_CipherUpdate(s->ctx, buffer, &out, buffer, static_cast<int>(text)) != 1)
    return srtp_err_status_auth_fail;
  std::uint8_t rest[kFullTag];
  if (EVP_CipherFinal_ex(s->ctx, rest, &out) != 1) return srtp_err_status_auth_fail;
  *length = text;
  return srtp_err_status_ok;
}

// The GCM specification's test case 3 (128-bit key, no AAD); libsrtp also
// runs its own vectors for the type against this implementation.
const std::uint8_t kTestKey[kKeySalt128] = {0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c, 0x6d, 0x6a,
                                            0x8f, 0x94, 0x67, 0x30, 0x83, 0x08,
                                            // salt (unused by the cipher itself)
                                            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
std::uint8_t test_iv[12] = {0xca, 0xfe, 0xba, 0xbe, 0xfa, 0xce, 0xdb, 0xad, 0xde, 0xca, 0xf8, 0x88};
const std::uint8_t kTestPlain[64] = {
    0xd9, 0x31, 0x32, 0x25, 0xf8, 0x84, 0x06, 0xe5, 0xa5, 0x59, 0x09, 0xc5, 0xaf, 0xf5, 0x26, 0x9a,
    0x86, 0xa7, 0xa9, 0x53, 0x15, 0x34, 0xf7, 0xda, 0x2e, 0x4c, 0x30, 0x3d, 0x8a, 0x31, 0x8a, 0x72,
    0x1c, 0x3c, 0x0c, 0x95, 0x95, 0x68, 0x09, 0x53, 0x2f, 0xcf, 0x0e, 0x24, 0x49, 0xa6, 0xb5, 0x25,
    0xb1, 0x6a, 0xed, 0xf5, 0xaa, 0x0d, 0xe6, 0x57, 0xba, 0x63, 0x7b, 0x39, 0x1a, 0xaf, 0xd2, 0x55};
const std::uint8_t kTestCipher[80] = {
    0x42, 0x83, 0x1e, 0xc2, 0x21, 0x77, 0x74, 0x24, 0x4b, 0x72, 0x21, 0xb7, 0x84, 0xd0, 0xd4, 0x9c,
    0xe3, 0xaa, 0x21, 0x2f, 0x2c, 0x02, 0xa4, 0xe0, 0x35, 0xc1, 0x7e, 0x23, 0x29, 0xac, 0xa1, 0x2e,
    0x21, 0xd5, 0x14, 0xb2, 0x54, 0x66, 0x93, 0x1c, 0x7d, 0x8f, 0x6a, 0x5a, 0xac, 0x84, 0xaa, 0x05,
    0x1b, 0xa3, 0x0b, 0x39, 0x6a, 0x0a, 0xac, 0x97, 0x3d, 0x58, 0xe0, 0x91, 0x47, 0x3f, 0x59, 0x85,
    // tag
    0x4d, 0x5c, 0x2a, 0xf3, 0x27, 0xcd, 0x64, 0xa6, 0x2c, 0xf3, 0x5a, 0xbd, 0x2b, 0xa6, 0xfa, 0xb4};
const srtp_cipher_test_case_t kTest128 = {kKeySalt128, kTestKey, test_iv, 64, kTestPlain, 80, kTestCipher,
                                          0,           nullptr,  kFullTag, nullptr};

const srtp_cipher_type_t kGcm128 = {&gcm_alloc,  &gcm_dealloc, &gcm_init,   &gcm_set_aad,
                                    &gcm_encrypt, &gcm_decrypt, &gcm_set_iv, &gcm_get_tag,
                                    "AES-128 GCM (OpenSSL, huijian)", &kTest128, SRTP_AES_GCM_128};
}  // namespace

bool install_openssl_gcm() noexcept {
  if (installed.load()) return true;
  // AES-256-GCM is never negotiated by the relay and stays libsrtp's.
  if (srtp_replace_cipher_type(&kGcm128, SRTP_AES_GCM_128) != srtp_err_status_ok) return false;
  installed.store(true);
  return true;
}

bool openssl_gcm_installed() noexcept { return installed.load(); }

}  // namespace huijian::media
