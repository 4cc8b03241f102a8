#include "media/certificate.hpp"
#include "media/openssl_errors.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>

namespace huijian::media {

namespace {

constexpr std::size_t kMaxPemInput = 1 << 20;     // a certificate or key PEM is a few KiB
constexpr std::size_t kMaxCommonName = 64;        // ub_common_name (RFC 5280)
constexpr std::size_t kMaxDnsName = 253;
constexpr long kOneDaySeconds = 24L * 60 * 60;
constexpr int kDtlsValidityDays = 30;
constexpr int kMaxValidityDays = 3650;

[[noreturn]] void fail(const std::string& what) {
  throw CertificateError(what + " (" + openssl_errors() + ")");
}

struct BioFree {
  void operator()(BIO* p) const noexcept { BIO_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
struct BnFree {
  void operator()(BIGNUM* p) const noexcept { BN_free(p); }
};
struct NameFree {
  void operator()(X509_NAME* p) const noexcept { X509_NAME_free(p); }
};
struct GeneralNamesFree {
  void operator()(GENERAL_NAMES* p) const noexcept { GENERAL_NAMES_free(p); }
};
struct GeneralNameFree {
  void operator()(GENERAL_NAME* p) const noexcept { GENERAL_NAME_free(p); }
};
struct ExtensionFree {
  void operator()(X509_EXTENSION* p) const noexcept { X509_EXTENSION_free(p); }
};

// Never prompts for a pass phrase: an encrypted key is refused.
int no_passphrase(char*, int, int, void*) { return 0; }

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  if (length <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<std::size_t>(length));
}

void check_common_name(std::string_view common_name) {
  if (common_name.empty() || common_name.size() > kMaxCommonName)
    throw CertificateError("certificate common name must be 1 to 64 characters long");
  for (char c : common_name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      throw CertificateError("certificate common name contains a control character");
  }
}

void check_dns_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxDnsName)
    throw CertificateError("DNS name '" + name + "' must be 1 to 253 characters long");
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '.' || (c == '*' && i == 0);
    if (!ok) throw CertificateError("DNS name '" + name + "' contains a character not allowed in a host name");
  }
}

void set_random_serial(X509* cert) {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) fail("could not draw a random serial number");
  bytes[0] &= 0x7f;  // positive
  bytes[0] |= 0x40;  // and never zero, always 16 bytes
  std::unique_ptr<BIGNUM, BnFree> bn(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr)
    fail("could not set the certificate serial number");
}

void add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, ExtensionFree> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) fail(std::string("could not add certificate extension ") + value);
}

void add_subject_alt_names(X509* cert, const std::vector<std::string>& dns_names,
                           const std::vector<std::string>& ip_addresses) {
  std::unique_ptr<GENERAL_NAMES, GeneralNamesFree> names(sk_GENERAL_NAME_new_null());
  if (!names) fail("out of memory building subjectAltName");
  for (const auto& dns : dns_names) {
    check_dns_name(dns);
    std::unique_ptr<GENERAL_NAME, GeneralNameFree> name(GENERAL_NAME_new());
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    if (!name || ia5 == nullptr || ASN1_STRING_set(ia5, dns.data(), static_cast<int>(dns.size())) != 1) {
      ASN1_IA5STRING_free(ia5);
      fail("could not encode DNS name '" + dns + "'");
    }
    GENERAL_NAME_set0_value(name.get(), GEN_DNS, ia5);
    if (sk_GENERAL_NAME_push(names.get(), name.get()) == 0) fail("out of memory building subjectAltName");
    name.release();
  }
  for (const auto& ip : ip_addresses) {
    ASN1_OCTET_STRING* octets = ip.empty() ? nullptr : a2i_IPADDRESS(ip.c_str());
    if (octets == nullptr) {
      ERR_clear_error();
      throw CertificateError("'" + ip + "' is not an IPv4 or IPv6 address");
    }
    std::unique_ptr<GENERAL_NAME, GeneralNameFree> name(GENERAL_NAME_new());
    if (!name) {
      ASN1_OCTET_STRING_free(octets);
      fail("out of memory building subjectAltName");
    }
    GENERAL_NAME_set0_value(name.get(), GEN_IPADD, octets);
    if (sk_GENERAL_NAME_push(names.get(), name.get()) == 0) fail("out of memory building subjectAltName");
    name.release();
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1)
    fail("could not add the subjectAltName extension");
}

}  // namespace

void Certificate::X509Free::operator()(X509* p) const noexcept { X509_free(p); }
void Certificate::PkeyFree::operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }

Certificate::Certificate(std::unique_ptr<X509, X509Free> cert, std::unique_ptr<EVP_PKEY, PkeyFree> key) noexcept
    : cert_(std::move(cert)), key_(std::move(key)) {}

Certificate::Certificate(const Certificate& other) {
  if (other.cert_ && X509_up_ref(other.cert_.get()) == 1) cert_.reset(other.cert_.get());
  if (other.key_ && EVP_PKEY_up_ref(other.key_.get()) == 1) key_.reset(other.key_.get());
}

Certificate& Certificate::operator=(const Certificate& other) {
  if (this != &other) {
    Certificate copy(other);
    *this = std::move(copy);
  }
  return *this;
}

Certificate Certificate::generate(std::string_view common_name) {
  return make(common_name, kDtlsValidityDays, false, {}, {});
}

Certificate Certificate::generate_tls(std::string_view common_name, std::vector<std::string> dns_names,
                                      std::vector<std::string> ip_addresses, int days) {
  if (dns_names.empty() && ip_addresses.empty())
    throw CertificateError("a TLS certificate needs at least one DNS name or IP address");
  return make(common_name, days, true, dns_names, ip_addresses);
}

Certificate Certificate::make(std::string_view common_name, int days, bool tls,
                              const std::vector<std::string>& dns_names,
                              const std::vector<std::string>& ip_addresses) {
  check_common_name(common_name);
  if (days < 1 || days > kMaxValidityDays) throw CertificateError("certificate validity must be 1 to 3650 days");
  ERR_clear_error();

  std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_EC_gen("P-256"));
  if (!key) fail("could not generate an ECDSA P-256 key");
  std::unique_ptr<X509, X509Free> cert(X509_new());
  if (!cert) fail("out of memory creating a certificate");

  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) fail("could not set the certificate version");
  set_random_serial(cert.get());
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kOneDaySeconds) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, nullptr) == nullptr)
    fail("could not set the certificate validity");

  std::unique_ptr<X509_NAME, NameFree> name(X509_NAME_new());
  if (!name ||
      X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.data()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1)
    fail("could not encode the certificate common name");
  if (X509_set_subject_name(cert.get(), name.get()) != 1 || X509_set_issuer_name(cert.get(), name.get()) != 1)
    fail("could not set the certificate names");
  if (X509_set_pubkey(cert.get(), key.get()) != 1) fail("could not set the certificate public key");

  if (tls) {
    add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), NID_key_usage, "critical,digitalSignature");
    add_extension(cert.get(), NID_ext_key_usage, "serverAuth");
    add_extension(cert.get(), NID_subject_key_identifier, "hash");
    add_subject_alt_names(cert.get(), dns_names, ip_addresses);
  }

  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) fail("could not sign the certificate");
  return Certificate(std::move(cert), std::move(key));
}

Certificate Certificate::load_pem(const std::string& cert_pem, const std::string& key_pem) {
  if (cert_pem.empty() || cert_pem.size() > kMaxPemInput)
    throw CertificateError("certificate PEM is empty or larger than 1 MiB");
  if (key_pem.empty() || key_pem.size() > kMaxPemInput)
    throw CertificateError("private key PEM is empty or larger than 1 MiB");
  ERR_clear_error();

  BioPtr cert_bio(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
  if (!cert_bio) fail("out of memory reading the certificate");
  std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(cert_bio.get(), nullptr, no_passphrase, nullptr));
  if (!cert) fail("the certificate is not a valid PEM X.509 certificate");

  BioPtr key_bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  if (!key_bio) fail("out of memory reading the private key");
  std::unique_ptr<EVP_PKEY, PkeyFree> key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) fail("the private key is not a valid unencrypted PEM private key");

  if (X509_check_private_key(cert.get(), key.get()) != 1)
    fail("the private key does not belong to the certificate");
  return Certificate(std::move(cert), std::move(key));
}

std::string Certificate::fingerprint_sha256() const { return fingerprint_sha256_of(cert_.get()); }

std::string Certificate::certificate_pem() const {
  if (!cert_) throw CertificateError("the certificate was moved from");
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert_.get()) != 1) fail("could not write the certificate as PEM");
  return bio_contents(bio.get());
}

std::string Certificate::private_key_pem() const {
  if (!key_) throw CertificateError("the certificate was moved from");
  // Secure-heap memory BIO: cleared when freed.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    fail("could not write the private key as PEM");
  return bio_contents(bio.get());
}

std::string fingerprint_sha256_of(X509* cert) {
  if (cert == nullptr) throw CertificateError("no certificate to fingerprint");
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (X509_digest(cert, EVP_sha256(), digest.data(), &length) != 1) fail("could not hash the certificate");
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string text;
  text.reserve(length * 3);
  for (unsigned int i = 0; i < length; ++i) {
    if (i != 0) text += ':';
    text += kHex[digest[i] >> 4];
    text += kHex[digest[i] & 0x0f];
  }
  return text;
}

}  // namespace huijian::media
