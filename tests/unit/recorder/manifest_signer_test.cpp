#include "recorder/manifest_signer.hpp"

#include "media/certificate.hpp"
#include "scratch_dir.hpp"

#include <catch2/catch.hpp>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <regex>
#include <string>

using huijian::recorder::ManifestSigner;
using huijian::recorder::ManifestVerifierKey;
using huijian::recorder::SigningError;
using huijian::recorder::testing::ScratchDir;

namespace {

std::string read_all(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

unsigned mode_of(const std::filesystem::path& file) {
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// The public key of a fresh ECDSA P-256 key (the relay's DTLS key type), as SubjectPublicKeyInfo PEM.
std::string p256_public_pem() {
  const auto cert = huijian::media::Certificate::generate("not-the-archive-key");
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  REQUIRE(PEM_write_bio_PUBKEY(bio.get(), cert.private_key()) == 1);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

const std::string kManifest = "{\n  \"meeting_id\": \"m-1\",\n  \"end_reason\": \"time_over\"\n}\n";

}  // namespace

TEST_CASE("ManifestSigner: a signature made with the key verifies with the public key file", "[signer]") {
  ScratchDir dir("signer");
  const auto keys = dir.path() / "keys";
  const ManifestSigner signer = ManifestSigner::load_or_create(keys);
  const std::string signature = signer.sign_base64(kManifest);
  // Ed25519: 64 bytes = 88 base64 characters with "==" padding, standard alphabet, no newline.
  CHECK(std::regex_match(signature, std::regex("^[A-Za-z0-9+/]{86}==$")));

  const ManifestVerifierKey verifier = ManifestVerifierKey::load(keys / "archive-ed25519.pub.pem");
  CHECK(verifier.verify(kManifest, signature));
  CHECK(verifier.verify(kManifest, signature + "\n"));  // as read from manifest.json.sig
  CHECK(verifier.key_id() == signer.key_id());
  CHECK(std::regex_match(signer.key_id(), std::regex("^[0-9a-f]{64}$")));
}

TEST_CASE("ManifestVerifierKey: a changed byte or a changed signature fails", "[signer]") {
  ScratchDir dir("signer");
  const ManifestSigner signer = ManifestSigner::load_or_create(dir.path() / "keys");
  const ManifestVerifierKey verifier = ManifestVerifierKey::from_pem(signer.public_key_pem());
  const std::string signature = signer.sign_base64(kManifest);

  std::string edited = kManifest;
  edited[edited.find("time_over")] = 'T';
  CHECK_FALSE(verifier.verify(edited, signature));
  CHECK_FALSE(verifier.verify(kManifest + " ", signature));  // one byte more

  std::string bad_signature = signature;
  bad_signature[10] = bad_signature[10] == 'A' ? 'B' : 'A';
  CHECK_FALSE(verifier.verify(kManifest, bad_signature));
  CHECK_FALSE(verifier.verify(kManifest, ""));
  CHECK_FALSE(verifier.verify(kManifest, "not base64 at all!"));
  CHECK_FALSE(verifier.verify(kManifest, signature.substr(0, 84)));  // valid base64, too short
}

TEST_CASE("ManifestSigner: key files persist, the private one 0600 in a 0700 directory", "[signer]") {
  ScratchDir dir("signer");
  const auto keys = dir.path() / "data" / "keys";
  const ManifestSigner first = ManifestSigner::load_or_create(keys);
  const auto private_file = keys / "archive-ed25519.pem";
  const auto public_file = keys / "archive-ed25519.pub.pem";
  CHECK(mode_of(keys) == 0700);
  CHECK(mode_of(private_file) == 0600);
  CHECK(read_all(private_file).rfind("-----BEGIN PRIVATE KEY-----\n", 0) == 0);  // PKCS#8
  CHECK(read_all(public_file).rfind("-----BEGIN PUBLIC KEY-----\n", 0) == 0);    // SubjectPublicKeyInfo
  // Nothing but the two key files: the temporary file was renamed into place.
  CHECK(std::distance(std::filesystem::directory_iterator(keys), std::filesystem::directory_iterator()) == 2);

  const std::string private_pem = read_all(private_file);
  const ManifestSigner second = ManifestSigner::load_or_create(keys);
  CHECK(second.key_id() == first.key_id());
  CHECK(read_all(private_file) == private_pem);  // loaded, not replaced
  // Ed25519 is deterministic: the same key signs the same bytes the same way.
  CHECK(second.sign_base64(kManifest) == first.sign_base64(kManifest));

  // A lost public key file is written again from the private key.
  std::filesystem::remove(public_file);
  const ManifestSigner third = ManifestSigner::load_or_create(keys);
  CHECK(third.key_id() == first.key_id());
  CHECK(ManifestVerifierKey::load(public_file).key_id() == first.key_id());
}

TEST_CASE("ManifestSigner: two key directories make two different keys", "[signer]") {
  ScratchDir dir("signer");
  const ManifestSigner a = ManifestSigner::load_or_create(dir.path() / "a");
  const ManifestSigner b = ManifestSigner::load_or_create(dir.path() / "b");
  CHECK(a.key_id() != b.key_id());
  const ManifestVerifierKey b_key = ManifestVerifierKey::load(dir.path() / "b" / "archive-ed25519.pub.pem");
  CHECK_FALSE(b_key.verify(kManifest, a.sign_base64(kManifest)));
}

TEST_CASE("ManifestSigner: refuses a damaged private key file and names it", "[signer]") {
  ScratchDir dir("signer");
  const auto keys = dir.path() / "keys";
  ManifestSigner::load_or_create(keys);
  {
    std::ofstream out(keys / "archive-ed25519.pem", std::ios::binary | std::ios::trunc);
    out << "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n";
  }
  CHECK_THROWS_AS(ManifestSigner::load_or_create(keys), SigningError);
  CHECK_THROWS_WITH(ManifestSigner::load_or_create(keys), Catch::Contains("archive-ed25519.pem"));
}

TEST_CASE("ManifestSigner: refuses a public key file of another key", "[signer]") {
  ScratchDir dir("signer");
  ManifestSigner::load_or_create(dir.path() / "a");
  ManifestSigner::load_or_create(dir.path() / "b");
  std::filesystem::copy_file(dir.path() / "b" / "archive-ed25519.pub.pem", dir.path() / "a" / "archive-ed25519.pub.pem",
                             std::filesystem::copy_options::overwrite_existing);
  CHECK_THROWS_WITH(ManifestSigner::load_or_create(dir.path() / "a"), Catch::Contains("does not belong"));
}

TEST_CASE("ManifestVerifierKey: names a missing or non-Ed25519 public key file", "[signer]") {
  ScratchDir dir("signer");
  CHECK_THROWS_WITH(ManifestVerifierKey::load(dir.path() / "absent.pub.pem"), Catch::Contains("absent.pub.pem"));
  const auto garbage = dir.path() / "garbage.pem";
  {
    std::ofstream out(garbage);
    out << "hello\n";
  }
  CHECK_THROWS_AS(ManifestVerifierKey::load(garbage), SigningError);
  // An ECDSA P-256 public key is a valid SubjectPublicKeyInfo but not the archive's key type.
  const std::string p256 = p256_public_pem();
  CHECK_THROWS_WITH(ManifestVerifierKey::from_pem(p256, "p256.pem"), Catch::Contains("not Ed25519"));
}
