#include <catch2/catch.hpp>

#include "signaling/password_hash.hpp"

using namespace huijian::signaling;

TEST_CASE("PasswordHash: a password verifies against its own hash and no other password does") {
  auto h = PasswordHash::create("correct horse battery", 1000);
  CHECK(PasswordHash::verify("correct horse battery", h));
  CHECK_FALSE(PasswordHash::verify("correct horse batterY", h));
  CHECK_FALSE(PasswordHash::verify("", h));
  CHECK_FALSE(PasswordHash::verify("correct horse battery ", h));
}

TEST_CASE("PasswordHash: the stored text names scheme and iterations and holds no password") {
  auto h = PasswordHash::create("correct horse battery", 1234);
  // pbkdf2-sha256$1234$<32 hex>$<64 hex>
  CHECK(h.rfind("pbkdf2-sha256$1234$", 0) == 0);
  CHECK(h.size() == std::string("pbkdf2-sha256$1234$").size() + 32 + 1 + 64);
  CHECK(h.find("correct") == std::string::npos);
  CHECK(PasswordHash::iterations_of(h) == std::optional<unsigned>(1234));
}

TEST_CASE("PasswordHash: two hashes of one password differ by their random salt") {
  auto a = PasswordHash::create("same password here", 1000);
  auto b = PasswordHash::create("same password here", 1000);
  CHECK(a != b);
  CHECK(PasswordHash::verify("same password here", a));
  CHECK(PasswordHash::verify("same password here", b));
}

TEST_CASE("PasswordHash: accounts get at least 200 000 PBKDF2 iterations by default") {
  auto h = PasswordHash::create("a password for the default");
  REQUIRE(PasswordHash::iterations_of(h).has_value());
  CHECK(*PasswordHash::iterations_of(h) >= 200000u);
  CHECK(kMinPasswordIterations >= 200000u);
  CHECK(PasswordHash::verify("a password for the default", h));
}

TEST_CASE("PasswordHash: a known PBKDF2-HMAC-SHA256 answer verifies (computed independently with Python hashlib)") {
  // hashlib.pbkdf2_hmac('sha256', b'correct horse battery', bytes(range(16)), 1000).hex()
  const std::string known =
      "pbkdf2-sha256$1000$000102030405060708090a0b0c0d0e0f$"
      "02169e674d80c0fc7292e8610c8f17be140df062af9aa33ea85eaabecffdf08d";
  CHECK(PasswordHash::verify("correct horse battery", known));
  CHECK_FALSE(PasswordHash::verify("correct horse batter", known));
  // The same salt and password with one iteration more gives another key.
  CHECK_FALSE(PasswordHash::verify("correct horse battery",
                                   "pbkdf2-sha256$1001$000102030405060708090a0b0c0d0e0f$"
                                   "02169e674d80c0fc7292e8610c8f17be140df062af9aa33ea85eaabecffdf08d"));
}

TEST_CASE("PasswordHash: a changed key or salt byte fails verification") {
  auto h = PasswordHash::create("tamper with me please", 1000);
  std::string key_flipped = h;
  key_flipped.back() = key_flipped.back() == '0' ? '1' : '0';
  CHECK_FALSE(PasswordHash::verify("tamper with me please", key_flipped));
  std::string salt_flipped = h;
  auto salt_pos = std::string("pbkdf2-sha256$1000$").size();
  salt_flipped[salt_pos] = salt_flipped[salt_pos] == '0' ? '1' : '0';
  CHECK_FALSE(PasswordHash::verify("tamper with me please", salt_flipped));
}

TEST_CASE("PasswordHash: malformed texts never verify and have no iteration count") {
  const std::string salt = "000102030405060708090a0b0c0d0e0f";
  const std::string key = "02169e674d80c0fc7292e8610c8f17be140df062af9aa33ea85eaabecffdf08d";
  for (std::string bad : {std::string(""), std::string("plain text"), "pbkdf2-sha1$1000$" + salt + "$" + key,
                          "pbkdf2-sha256$0$" + salt + "$" + key, "pbkdf2-sha256$$" + salt + "$" + key,
                          "pbkdf2-sha256$-5$" + salt + "$" + key, "pbkdf2-sha256$99999999$" + salt + "$" + key,
                          "pbkdf2-sha256$1000$" + salt.substr(2) + "$" + key,
                          "pbkdf2-sha256$1000$" + salt + "$" + key.substr(1),
                          "pbkdf2-sha256$1000$" + salt + "$" + key + "$",
                          "pbkdf2-sha256$1000$" + salt + "$" + std::string(64, 'g'),
                          "pbkdf2-sha256$1000$" + salt + "$" + std::string(64, 'A')}) {
    INFO(bad);
    CHECK_FALSE(PasswordHash::verify("correct horse battery", bad));
    CHECK_FALSE(PasswordHash::iterations_of(bad).has_value());
  }
}
