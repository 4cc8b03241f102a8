#include <catch2/catch.hpp>

#include "hub_test_fixture.hpp"
#include "signaling/password_hash.hpp"

using namespace huijian::signaling;
using namespace huijian::signaling::testing;
using namespace std::chrono_literals;

namespace {

struct Access {
  ManualClock clock;
  SqliteMeetingRepository meetings{":memory:"};
  SqliteSupervisionRepository store{meetings};
  AuditTrail audit{store, clock.wall()};
  AccessControl access{store, audit, clock.wall(), 60min, kTestIterations};
  Access() { access.load_accounts(test_config().officers); }

  std::string refusal(const std::string& user, const std::string& password) {
    try {
      access.login(user, password, Actor{"", "", "127.0.0.1:1234"});
    } catch (const ProtocolError& e) {
      return e.code() + ": " + e.what();
    }
    return "accepted";
  }
};

}  // namespace

TEST_CASE("AccessControl: the right password gives a 64-hex token whose session carries the account's role") {
  Access a;
  auto r = a.access.login("wang", kOfficerPassword, Actor{});
  CHECK(r.token.size() == 64);
  CHECK(r.token.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(r.session.username == "wang");
  CHECK(r.session.name == "王警官");
  CHECK(r.session.role == AccountRole::Officer);
  auto lifetime = r.session.expires_at - a.clock.base;
  CHECK(lifetime > 60min);  // 60 min from the login (the test clock adds a few ms per reading)
  CHECK(lifetime < 60min + 1s);
  auto s = a.access.session_for_token(r.token);
  REQUIRE(s);
  CHECK(s->username == "wang");
  CHECK(a.access.login("root", kAdminPassword, Actor{}).session.role == AccountRole::Admin);
  // Two logins, two different tokens.
  CHECK(a.access.login("wang", kOfficerPassword, Actor{}).token != r.token);
}

TEST_CASE("AccessControl: the server keeps only the SHA-256 of a token, never the token") {
  Access a;
  auto r = a.access.login("wang", kOfficerPassword, Actor{});
  CHECK(r.session.id == AccessControl::session_id_of(r.token));
  CHECK(r.session.id != r.token);
  // SHA-256("abc"), FIPS 180-2 appendix B.1
  CHECK(AccessControl::session_id_of("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(a.access.session_by_id(r.session.id).has_value());
  CHECK_FALSE(a.access.session_for_token(r.session.id).has_value());  // the id is not a token
}

TEST_CASE("AccessControl: an unknown user and a wrong password are refused alike, and both are audited") {
  Access a;
  auto wrong = a.refusal("wang", "not the password");
  auto unknown = a.refusal("nobody", "not the password");
  CHECK(wrong == "bad_credentials: unknown user name or wrong password");
  CHECK(unknown == wrong);
  CHECK(a.refusal("", "x") == wrong);
  CHECK(a.refusal("wang", std::string(300, 'x')) == wrong);
  auto trail = a.store.audit(0, 100);
  REQUIRE(trail.size() >= 2);
  CHECK(trail[0].action == "login");
  CHECK(trail[0].actor == "wang");
  CHECK(trail[0].outcome == "refused:bad_credentials");
  CHECK(trail[0].detail.find("127.0.0.1:1234") != std::string::npos);
  CHECK(trail[1].actor == "nobody");
  for (const auto& e : trail) CHECK(e.detail.find("not the password") == std::string::npos);
}

TEST_CASE("AccessControl: a session ends at its expiry and after logout") {
  Access a;
  auto r = a.access.login("wang", kOfficerPassword, Actor{});
  a.clock.base += 59min;
  CHECK(a.access.session_for_token(r.token).has_value());
  a.clock.base += 1min;
  CHECK_FALSE(a.access.session_for_token(r.token).has_value());
  CHECK(a.access.session_count() == 0);

  auto r2 = a.access.login("li", kOfficerPassword, Actor{});
  CHECK(a.access.logout(r2.token) == std::optional<std::string>(r2.session.id));
  CHECK_FALSE(a.access.session_for_token(r2.token).has_value());
  CHECK_FALSE(a.access.logout(r2.token).has_value());
  CHECK_FALSE(a.access.session_for_token("garbage").has_value());
  CHECK_FALSE(a.access.session_for_token(std::string(64, '0')).has_value());
}

TEST_CASE("AccessControl: more than 5 password checks in one second are refused without checking") {
  Access a;
  for (int i = 0; i < 5; ++i) CHECK(a.refusal("wang", "wrong password " + std::to_string(i)).rfind("bad_credentials", 0) == 0);
  CHECK(a.refusal("wang", kOfficerPassword).rfind("too_many_attempts", 0) == 0);
  a.clock.base += 1s;
  CHECK(a.refusal("wang", kOfficerPassword) == "accepted");
  CHECK(a.store.audit(0, 100).back().outcome == "ok");
}

TEST_CASE("AccessControl: configured passwords are stored as PBKDF2 hashes, never in plain") {
  Access a;
  auto account = a.store.find_account("wang");
  REQUIRE(account);
  CHECK(account->source == "config");
  CHECK(account->password_hash.rfind("pbkdf2-sha256$", 0) == 0);
  CHECK(account->password_hash.find(kOfficerPassword) == std::string::npos);
  CHECK(PasswordHash::verify(kOfficerPassword, account->password_hash));
  // A configured hash is stored as it is.
  OfficerConfig o{"zhao", "赵警官", AccountRole::Officer, PasswordHash::create("zhao-password-1", 1000), ""};
  a.access.load_accounts({o});
  CHECK(a.store.find_account("zhao")->password_hash == o.password_hash);
  CHECK(a.refusal("zhao", "zhao-password-1") == "accepted");
}

TEST_CASE("AccessControl: accounts created over the API are checked and unique") {
  Access a;
  auto created = a.access.create_account("sun", "孙警官", "officer", "sun-password-1");
  CHECK(created.source == "api");
  CHECK(a.refusal("sun", "sun-password-1") == "accepted");
  auto code_of = [&](const std::string& user, const std::string& name, const std::string& role, const std::string& pw) {
    try {
      a.access.create_account(user, name, role, pw);
    } catch (const ProtocolError& e) {
      return e.code();
    }
    return std::string("accepted");
  };
  CHECK(code_of("sun", "孙警官", "officer", "sun-password-1") == "account_exists");
  CHECK(code_of("bad name", "x", "officer", "long-enough-pw") == "bad_field");
  CHECK(code_of("zhou", "", "officer", "long-enough-pw") == "bad_field");
  CHECK(code_of("zhou", "周", "superuser", "long-enough-pw") == "bad_field");
  CHECK(code_of("zhou", "周", "officer", "short") == "bad_field");
  CHECK(code_of("zhou", "周", "", "long-enough-pw") == "accepted");
  CHECK(a.store.find_account("zhou")->role == AccountRole::Officer);
}
