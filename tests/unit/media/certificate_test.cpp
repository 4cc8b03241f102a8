#include "media/certificate.hpp"

#include <catch2/catch.hpp>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>
#include <regex>
#include <string>

using huijian::media::Certificate;
using huijian::media::CertificateError;
using huijian::media::fingerprint_sha256_of;

namespace {

// Seconds from now to the given certificate time; negative in the past.
long seconds_from_now(const ASN1_TIME* when) {
  int days = 0;
  int seconds = 0;
  REQUIRE(ASN1_TIME_diff(&days, &seconds, nullptr, when) == 1);
  return days * 86400L + seconds;
}

constexpr long kDay = 86400;

std::string curve_name(EVP_PKEY* key) {
  char name[64] = {};
  std::size_t length = 0;
  if (EVP_PKEY_get_utf8_string_param(key, "group", name, sizeof(name), &length) != 1) return {};
  return std::string(name, length);
}

const std::regex kFingerprintFormat("^([0-9A-F]{2}:){31}[0-9A-F]{2}$");

}  // namespace

TEST_CASE("Certificate: generates a self-signed ECDSA P-256 certificate", "[certificate]") {
  const Certificate cert = Certificate::generate("huijian-relay");
  REQUIRE(cert.x509() != nullptr);
  REQUIRE(cert.private_key() != nullptr);

  CHECK(EVP_PKEY_get_base_id(cert.private_key()) == EVP_PKEY_EC);
  CHECK(curve_name(cert.private_key()) == "prime256v1");
  CHECK(X509_get_signature_nid(cert.x509()) == NID_ecdsa_with_SHA256);
  // Self-signed: issuer == subject and the signature verifies with its own key.
  CHECK(X509_NAME_cmp(X509_get_subject_name(cert.x509()), X509_get_issuer_name(cert.x509())) == 0);
  CHECK(X509_verify(cert.x509(), cert.private_key()) == 1);
  char cn[128] = {};
  REQUIRE(X509_NAME_get_text_by_NID(X509_get_subject_name(cert.x509()), NID_commonName, cn, sizeof(cn)) > 0);
  CHECK(std::string(cn) == "huijian-relay");
}

TEST_CASE("Certificate: is valid from yesterday for 30 days", "[certificate]") {
  const Certificate cert = Certificate::generate("relay");
  // notBefore = now - 1 day, notAfter = now + 30 days (give or take the seconds since generation).
  const long not_before = seconds_from_now(X509_get0_notBefore(cert.x509()));
  CHECK(not_before <= -kDay);
  CHECK(not_before > -kDay - 60);
  const long not_after = seconds_from_now(X509_get0_notAfter(cert.x509()));
  CHECK(not_after <= 30 * kDay);
  CHECK(not_after > 30 * kDay - 60);
  CHECK(X509_cmp_current_time(X509_get0_notBefore(cert.x509())) < 0);
  CHECK(X509_cmp_current_time(X509_get0_notAfter(cert.x509())) > 0);
}

TEST_CASE("Certificate: fingerprint is upper-case colon-separated SHA-256 of the DER", "[certificate]") {
  const Certificate cert = Certificate::generate("relay");
  const std::string fingerprint = cert.fingerprint_sha256();
  CHECK(std::regex_match(fingerprint, kFingerprintFormat));
  CHECK(fingerprint == fingerprint_sha256_of(cert.x509()));

  // Recompute by hand from the DER encoding.
  unsigned char* der = nullptr;
  const int der_length = i2d_X509(cert.x509(), &der);
  REQUIRE(der_length > 0);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  REQUIRE(EVP_Digest(der, static_cast<std::size_t>(der_length), digest, &digest_length, EVP_sha256(), nullptr) == 1);
  OPENSSL_free(der);
  char expected_first[3];
  std::snprintf(expected_first, sizeof(expected_first), "%02X", digest[0]);
  char expected_last[3];
  std::snprintf(expected_last, sizeof(expected_last), "%02X", digest[digest_length - 1]);
  CHECK(fingerprint.substr(0, 2) == expected_first);
  CHECK(fingerprint.substr(fingerprint.size() - 2) == expected_last);
}

TEST_CASE("Certificate: two generated certificates differ in key, serial and fingerprint", "[certificate]") {
  const Certificate a = Certificate::generate("relay");
  const Certificate b = Certificate::generate("relay");
  CHECK(a.fingerprint_sha256() != b.fingerprint_sha256());
  CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(a.x509()), X509_get0_serialNumber(b.x509())) != 0);
  CHECK(EVP_PKEY_eq(a.private_key(), b.private_key()) != 1);
}

TEST_CASE("Certificate: PEM round trip keeps the identity", "[certificate]") {
  const Certificate original = Certificate::generate("relay");
  const std::string cert_pem = original.certificate_pem();
  const std::string key_pem = original.private_key_pem();
  CHECK(cert_pem.rfind("-----BEGIN CERTIFICATE-----", 0) == 0);
  CHECK(key_pem.rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);  // unencrypted PKCS#8

  const Certificate loaded = Certificate::load_pem(cert_pem, key_pem);
  CHECK(loaded.fingerprint_sha256() == original.fingerprint_sha256());
  CHECK(EVP_PKEY_eq(loaded.private_key(), original.private_key()) == 1);
}

TEST_CASE("Certificate: load_pem rejects a key of another certificate", "[certificate]") {
  const Certificate a = Certificate::generate("a");
  const Certificate b = Certificate::generate("b");
  CHECK_THROWS_AS(Certificate::load_pem(a.certificate_pem(), b.private_key_pem()), CertificateError);
}

TEST_CASE("Certificate: load_pem rejects garbage, empty and swapped input", "[certificate]") {
  const Certificate a = Certificate::generate("a");
  CHECK_THROWS_AS(Certificate::load_pem("", a.private_key_pem()), CertificateError);
  CHECK_THROWS_AS(Certificate::load_pem(a.certificate_pem(), ""), CertificateError);
  CHECK_THROWS_AS(Certificate::load_pem("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
                                        a.private_key_pem()),
                  CertificateError);
  CHECK_THROWS_AS(Certificate::load_pem(a.private_key_pem(), a.certificate_pem()), CertificateError);
  // A truncated certificate.
  const std::string pem = a.certificate_pem();
  CHECK_THROWS_AS(Certificate::load_pem(pem.substr(0, pem.size() / 2), a.private_key_pem()), CertificateError);
}

TEST_CASE("Certificate: copies share the handles and outlive the original; a move empties the source",
          "[certificate]") {
  std::unique_ptr<Certificate> original = std::make_unique<Certificate>(Certificate::generate("relay"));
  const std::string fingerprint = original->fingerprint_sha256();
  Certificate copy = *original;
  CHECK(copy.x509() == original->x509());
  Certificate assigned = Certificate::generate("other");
  assigned = copy;
  original.reset();
  CHECK(copy.fingerprint_sha256() == fingerprint);
  CHECK(assigned.fingerprint_sha256() == fingerprint);
  CHECK(X509_verify(copy.x509(), copy.private_key()) == 1);

  Certificate moved = std::move(copy);
  CHECK(moved.fingerprint_sha256() == fingerprint);
  CHECK(copy.x509() == nullptr);  // NOLINT(bugprone-use-after-move): documented moved-from state
  CHECK_THROWS_AS(copy.fingerprint_sha256(), CertificateError);
}

TEST_CASE("Certificate: rejects an empty or oversized common name", "[certificate]") {
  CHECK_THROWS_AS(Certificate::generate(""), CertificateError);
  CHECK_THROWS_AS(Certificate::generate(std::string(65, 'a')), CertificateError);
  CHECK_THROWS_AS(Certificate::generate(std::string("a\nb")), CertificateError);
}

TEST_CASE("Certificate: generate_tls puts DNS names and IP addresses in subjectAltName", "[certificate]") {
  const Certificate cert =
      Certificate::generate_tls("huijian.local", {"huijian.local", "localhost"}, {"127.0.0.1", "::1"}, 90);
  X509* x = cert.x509();
  CHECK(X509_check_host(x, "huijian.local", 0, 0, nullptr) == 1);
  CHECK(X509_check_host(x, "localhost", 0, 0, nullptr) == 1);
  CHECK(X509_check_host(x, "example.org", 0, 0, nullptr) == 0);
  CHECK(X509_check_ip_asc(x, "127.0.0.1", 0) == 1);
  CHECK(X509_check_ip_asc(x, "::1", 0) == 1);
  CHECK(X509_check_ip_asc(x, "127.0.0.2", 0) == 0);
  CHECK(X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0) == 1);
  CHECK(X509_check_ca(x) == 0);
  CHECK(EVP_PKEY_get_base_id(cert.private_key()) == EVP_PKEY_EC);
  CHECK(seconds_from_now(X509_get0_notAfter(x)) <= 90 * kDay);
  CHECK(seconds_from_now(X509_get0_notAfter(x)) > 90 * kDay - 60);

  GENERAL_NAMES* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
  REQUIRE(names != nullptr);
  CHECK(sk_GENERAL_NAME_num(names) == 4);
  GENERAL_NAMES_free(names);
}

TEST_CASE("Certificate: generate_tls rejects bad names, addresses and validity", "[certificate]") {
  CHECK_THROWS_AS(Certificate::generate_tls("x", {}, {}, 30), CertificateError);
  CHECK_THROWS_AS(Certificate::generate_tls("x", {"bad name"}, {}, 30), CertificateError);
  CHECK_THROWS_AS(Certificate::generate_tls("x", {""}, {}, 30), CertificateError);
  CHECK_THROWS_AS(Certificate::generate_tls("x", {"a,DNS:evil"}, {}, 30), CertificateError);
  CHECK_THROWS_AS(Certificate::generate_tls("x", {}, {"999.1.1.1"}, 30), CertificateError);
  CHECK_THROWS_AS(Certificate::generate_tls("x", {}, {"localhost"}, 30), CertificateError);
  CHECK_THROWS_AS(Certificate::generate_tls("x", {}, {""}, 30), CertificateError);
  CHECK_THROWS_AS(Certificate::generate_tls("x", {"localhost"}, {}, 0), CertificateError);
  CHECK_THROWS_AS(Certificate::generate_tls("x", {"localhost"}, {}, 3651), CertificateError);
  CHECK_NOTHROW(Certificate::generate_tls("x", {"*.huijian.local"}, {}, 1));
}

TEST_CASE("Certificate: fingerprint_sha256_of a null certificate throws", "[certificate]") {
  CHECK_THROWS_AS(fingerprint_sha256_of(nullptr), CertificateError);
}
