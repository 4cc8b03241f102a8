// HttpApi at the REST boundary: who may call which endpoint, login and logout.
#include <catch2/catch.hpp>

#include <boost/beast/http.hpp>

#include "hub_test_fixture.hpp"
#include "signaling/http_api.hpp"

using namespace huijian::signaling;
using namespace huijian::signaling::testing;
namespace http = boost::beast::http;

namespace {

struct Api : Fixture {
  HttpApi api{"/nonexistent-web-root", "admin-token-0123456789", hub, HttpServices{store, supervision, access, audit}};

  struct Answer {
    unsigned status;
    json body;
  };
  Answer call(http::verb method, const std::string& target, const std::optional<std::string>& token,
              const std::string& body = "") {
    HttpRequest req{method, target, 11};
    if (token) req.set(http::field::authorization, "Bearer " + *token);
    req.body() = body;
    req.prepare_payload();
    auto res = api.handle(req, "127.0.0.1:5555");
    return {res.result_int(), res.body().empty() ? json() : json::parse(res.body())};
  }
  std::string login_token(const std::string& user, const std::string& password) {
    auto a = call(http::verb::post, "/api/login", std::nullopt,
                  json{{"username", user}, {"password", password}}.dump());
    REQUIRE(a.status == 200);
    return a.body["token"];
  }
};

}  // namespace

TEST_CASE("HttpApi: officer endpoints need an officer's or administrator's login, not the admin token") {
  Api a;
  auto officer = a.login_token("wang", kOfficerPassword);
  auto admin = a.login_token("root", kAdminPassword);
  CHECK(a.call(http::verb::get, "/api/officer/meetings", std::nullopt).status == 401);
  CHECK(a.call(http::verb::get, "/api/officer/meetings", "garbage").body["code"] == "unauthorized");
  CHECK(a.call(http::verb::get, "/api/officer/meetings", "lawyer-secret").status == 401);
  auto with_admin_token = a.call(http::verb::get, "/api/officer/meetings", "admin-token-0123456789");
  CHECK(with_admin_token.status == 403);
  CHECK(with_admin_token.body["code"] == "forbidden");
  auto ok = a.call(http::verb::get, "/api/officer/meetings", officer);
  CHECK(ok.status == 200);
  CHECK(ok.body["type"] == "meetings");
  CHECK(ok.body["meetings"][0]["id"] == "m-1");
  CHECK(a.call(http::verb::get, "/api/officer/meetings", admin).status == 200);
  CHECK(a.call(http::verb::get, "/api/session", officer).body["username"] == "wang");
}

TEST_CASE("HttpApi: admin endpoints take the admin token or an administrator's login; an officer is forbidden") {
  Api a;
  auto officer = a.login_token("wang", kOfficerPassword);
  auto admin = a.login_token("root", kAdminPassword);
  for (const char* path : {"/api/violations", "/api/audit", "/api/accounts", "/api/meetings/m-1", "/api/stats"}) {
    INFO(path);
    auto refused = a.call(http::verb::get, path, officer);
    CHECK(refused.status == 403);
    CHECK(refused.body["code"] == "forbidden");
    CHECK(refused.body["message"] == "this needs an administrator; wang is signed in as an officer");
    CHECK(a.call(http::verb::get, path, std::nullopt).status == 401);
    CHECK(a.call(http::verb::get, path, admin).status == 200);
    CHECK(a.call(http::verb::get, path, std::string("admin-token-0123456789")).status == 200);
  }
  // An officer cannot end a meeting through the admin API either.
  CHECK(a.call(http::verb::post, "/api/meetings/m-1/end", officer, "{}").status == 403);
  CHECK(a.store.find("m-1")->state == MeetingState::Waiting);
  std::size_t refusals = 0;
  for (const auto& e : a.supervision.audit(0, 1000)) refusals += e.outcome.rfind("refused:", 0) == 0;
  CHECK(refusals == 11);
}

TEST_CASE("HttpApi: login answers a token; bad credentials read the same for unknown users") {
  Api a;
  auto good = a.call(http::verb::post, "/api/login", std::nullopt,
                     json{{"username", "wang"}, {"password", kOfficerPassword}}.dump());
  CHECK(good.status == 200);
  CHECK(good.body["role"] == "officer");
  CHECK(good.body["name"] == "王警官");
  CHECK(good.body["token"].get<std::string>().size() == 64);
  auto wrong = a.call(http::verb::post, "/api/login", std::nullopt,
                      json{{"username", "wang"}, {"password", "wrong-password"}}.dump());
  auto unknown = a.call(http::verb::post, "/api/login", std::nullopt,
                        json{{"username", "ghost"}, {"password", "wrong-password"}}.dump());
  CHECK(wrong.status == 401);
  CHECK(wrong.body == unknown.body);
  CHECK(wrong.body["code"] == "bad_credentials");
  CHECK(a.call(http::verb::post, "/api/login", std::nullopt, "{").body["code"] == "bad_json");
  CHECK(a.call(http::verb::post, "/api/login", std::nullopt, R"({"username":"wang"})").body["code"] ==
        "missing_field");
  CHECK(a.call(http::verb::get, "/api/login", std::nullopt).status == 405);
}

TEST_CASE("HttpApi: logout ends the session and closes its consoles") {
  Api a;
  auto token = a.login_token("wang", kOfficerPassword);
  auto [console, cs] = a.connect();
  a.send(console, json{{"type", "officer_hello"}, {"token", token}});
  REQUIRE(cs->pop()["type"] == "officer_welcome");
  CHECK(a.call(http::verb::post, "/api/logout", token).body == json{{"ok", true}});
  CHECK(cs->pop_type("error")["code"] == "logged_out");
  CHECK(cs->closed == std::optional<std::uint16_t>(kClosePolicy));
  CHECK(a.call(http::verb::get, "/api/session", token).status == 401);
  CHECK(a.call(http::verb::post, "/api/logout", token).status == 401);
}

TEST_CASE("HttpApi: accounts are created by administrators and listed without hashes") {
  Api a;
  auto admin = a.login_token("root", kAdminPassword);
  auto created = a.call(http::verb::post, "/api/accounts", admin,
                        json{{"username", "sun"}, {"name", "孙警官"}, {"password", "sun-password-1"}}.dump());
  CHECK(created.status == 201);
  CHECK(created.body["role"] == "officer");
  CHECK_FALSE(created.body.contains("password_hash"));
  auto again = a.call(http::verb::post, "/api/accounts", admin,
                      json{{"username", "sun"}, {"name", "孙警官"}, {"password", "sun-password-1"}}.dump());
  CHECK(again.status == 409);
  CHECK(again.body["code"] == "account_exists");
  auto list = a.call(http::verb::get, "/api/accounts", std::string("admin-token-0123456789"));
  CHECK(list.body["accounts"].size() == 4);
  CHECK(list.body.dump().find("pbkdf2") == std::string::npos);
  CHECK(a.login_token("sun", "sun-password-1").size() == 64);
}

TEST_CASE("HttpApi: violations are listed with counts and filters; bad filters are named") {
  Api a;
  a.connected_meeting();
  auto [officer, os] = a.officer();
  a.send(officer, json{{"type", "terminate"}, {"meeting", "m-1"}, {"code", "violation_phone"}});
  auto all = a.call(http::verb::get, "/api/violations", std::string("admin-token-0123456789"));
  CHECK(all.body["total"] == 1);
  CHECK(all.body["counts"] == json{{"violation_phone", 1}});
  CHECK(all.body["violations"][0]["lawyer_device"] == "lawyer-1");
  CHECK(all.body["violations"][0]["officer"] == "wang");
  auto none = a.call(http::verb::get, "/api/violations?lawyer_device=lawyer-2", std::string("admin-token-0123456789"));
  CHECK(none.body["total"] == 0);
  CHECK(a.call(http::verb::get, "/api/violations?limit=0", std::string("admin-token-0123456789")).body["code"] ==
        "bad_field");
  CHECK(a.call(http::verb::get, "/api/violations?lawyer_device=a%20b", std::string("admin-token-0123456789"))
            .body["code"] == "bad_field");
  CHECK(a.call(http::verb::get, "/api/violations?meeting=%zz", std::string("admin-token-0123456789")).body["code"] ==
        "bad_field");
  auto meeting = a.call(http::verb::get, "/api/meetings/m-1", std::string("admin-token-0123456789"));
  CHECK(meeting.body["ended_by"] == "officer:wang");
  CHECK(meeting.body["violations"].size() == 1);
}
