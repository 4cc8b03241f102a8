// HttpApi at the REST boundary: who may call which endpoint, login and logout,
// case records, letters and the archive.
#include <catch2/catch.hpp>

#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <boost/beast/http.hpp>
#include <chrono>
#include <fstream>
#include <future>
#include <thread>

#include "hub_test_fixture.hpp"
#include "recorder/archive_manifest.hpp"
#include "recorder/file_digest.hpp"
#include "signaling/http_api.hpp"
#include "signaling/sqlite_archive_repository.hpp"

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

// --- the archive ----------------------------------------------------------------


namespace {

const char* kArchivistPassword = "archivist-password-1";
const std::string kAdminToken = "admin-token-0123456789";

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hj-http-archive-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  REQUIRE(out.good());
}

// The composite exporter of these tests: it waits until the test lets it go,
// then writes a file or fails, so the test sees every state of an export.
struct ExportGate {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> calls{0};
  bool fail = false;
  CompositeExports::Exporter exporter() {
    return [this](const std::filesystem::path& folder, const std::filesystem::path& out) {
      ++calls;
      released.wait();
      if (fail) throw std::runtime_error("no picture in " + folder.filename().string());
      write_file(out, "mp4 of " + folder.filename().string());
      return CompositeExports::Outcome{1500, 0.25};
    };
  }
};

// Api with an archive: an archivist account, an archive folder m-1 with two
// segments and a manifest, indexed through POST /api/archives/reindex.
struct ArchiveApi : Api {
  TempDir root;
  std::filesystem::path archive_dir = root.path / "archive";
  std::filesystem::path documents_dir = root.path / "documents";
  std::filesystem::path data_dir = root.path / "data";
  SqliteArchiveRepository archives{store};
  ExportGate gate;
  std::string lawyer_segment = std::string(300000, 'L') + "end";
  std::string detainee_segment = "detainee matroska bytes";
  huijian::recorder::Manifest manifest;

  ArchiveApi() {
    access.load_accounts({{"dang", "档案员", AccountRole::Archivist, "", kArchivistPassword}});
    api.set_archives({archives, archive_dir, documents_dir, data_dir, gate.exporter()});
    std::filesystem::create_directories(archive_dir / "m-1");
    write_file(archive_dir / "m-1" / "lawyer-00000.mkv", lawyer_segment);
    write_file(archive_dir / "m-1" / "detainee-00000.mkv", detainee_segment);
    using huijian::recorder::Party;
    manifest.meeting_id = "m-1";
    manifest.case_id = "(2026)京0105刑初123号";
    manifest.parties = {{Party::Lawyer, "lawyer-1", "律师会见室 1"}, {Party::Detainee, "detainee-1", "会见室 A"}};
    manifest.connected_at = "2026-11-23T10:00:00.000Z";
    manifest.recording_started_at = "2026-11-23T10:00:00.020Z";
    manifest.recording_ended_at = "2026-11-23T10:30:00.020Z";
    manifest.ended_at = "2026-11-23T10:30:00.000Z";
    manifest.end_reason = "time_over";
    manifest.ended_by = "server";
    manifest.segments = {
        {Party::Lawyer, "lawyer-00000.mkv", lawyer_segment.size(), huijian::recorder::sha256_hex(lawyer_segment), 300,
         1799700, false},
        {Party::Detainee, "detainee-00000.mkv", detainee_segment.size(),
         huijian::recorder::sha256_hex(detainee_segment), 250, 1799750, false}};
    write_file(archive_dir / "m-1" / "manifest.json", huijian::recorder::manifest_text(manifest));
    auto indexed = call(http::verb::post, "/api/archives/reindex", kAdminToken);
    REQUIRE(indexed.status == 200);
    REQUIRE(indexed.body["indexed"] == 1);
  }
  ~ArchiveApi() { release_exports(); }
  void release_exports() {
    try {
      gate.release.set_value();
    } catch (const std::future_error&) {
    }
  }

  HttpResponse raw(http::verb method, const std::string& target, const std::optional<std::string>& token,
                   const std::string& body = "", const std::string& content_type = "") {
    HttpRequest req{method, target, 11};
    if (token) req.set(http::field::authorization, "Bearer " + *token);
    if (!content_type.empty()) req.set(http::field::content_type, content_type);
    req.body() = body;
    req.prepare_payload();
    return api.handle(req, "127.0.0.1:5555");
  }
  std::vector<AuditEntry> audit_entries() { return supervision.audit(0, 1000); }
  // The last audit entry of `action`.
  std::optional<AuditEntry> last_audit(const std::string& action) {
    std::optional<AuditEntry> found;
    for (const auto& e : audit_entries())
      if (e.action == action) found = e;
    return found;
  }
};

std::string chars(const std::string& c, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += c;
  return out;
}

std::string pdf_bytes() { return std::string("%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<<>>\nendobj\ntrailer\n%%EOF\n"); }
std::string png_bytes() { return std::string("\x89PNG\r\n\x1A\n\0\0\0\rIHDR", 16); }

}  // namespace

TEST_CASE("HttpApi: an archivist lists, reads and downloads archives, and every access is audited") {
  ArchiveApi a;
  auto token = a.login_token("dang", kArchivistPassword);
  CHECK(a.call(http::verb::get, "/api/session", token).body["role"] == "archivist");

  auto list = a.call(http::verb::get, "/api/archives", token);
  REQUIRE(list.status == 200);
  REQUIRE(list.body["count"] == 1);
  const auto& row = list.body["archives"][0];
  CHECK(row["meeting"] == "m-1");
  CHECK(row["case_id"] == "(2026)京0105刑初123号");
  CHECK(row["lawyer_device"] == "lawyer-1");
  CHECK(row["detainee_device"] == "detainee-1");
  CHECK(row["started_at"] == "2026-11-23T10:00:00.020Z");
  CHECK(row["duration_ms"] == 1800000);
  CHECK(row["bytes"] == a.lawyer_segment.size() + a.detainee_segment.size());
  CHECK(row["case"].is_null());
  auto listed = a.last_audit("GET /api/archives");
  REQUIRE(listed);
  CHECK(listed->actor == "dang");
  CHECK(listed->actor_kind == "archivist");
  CHECK(listed->outcome == "ok");

  auto detail = a.call(http::verb::get, "/api/archives/m-1", token);
  REQUIRE(detail.status == 200);
  CHECK(detail.body["manifest"] == huijian::recorder::to_json(a.manifest));
  CHECK(detail.body["manifest_matches_index"] == true);
  CHECK(detail.body["signature_present"] == false);
  CHECK(detail.body["manifest_sha256"] == row["manifest_sha256"]);
  CHECK(a.last_audit("GET /api/archives/m-1")->target == "m-1");

  auto file = a.raw(http::verb::get, "/api/archives/m-1/files/lawyer-00000.mkv", token);
  REQUIRE(file.result_int() == 200);
  CHECK(file.body() == a.lawyer_segment);
  CHECK(file[http::field::content_type] == "video/x-matroska");
  CHECK(file[http::field::content_length] == std::to_string(a.lawyer_segment.size()));
  auto fetched = a.last_audit("GET /api/archives/m-1/files/lawyer-00000.mkv");
  REQUIRE(fetched);
  CHECK(fetched->actor == "dang");
  CHECK(fetched->target == "m-1");
  CHECK(fetched->outcome == "ok");
  CHECK(fetched->detail.find(std::to_string(a.lawyer_segment.size()) + " bytes") != std::string::npos);
  CHECK(a.raw(http::verb::get, "/api/archives/m-1/files/detainee-00000.mkv", token).body() == a.detainee_segment);

  // An administrator may read the archive too; the case record shows up once set.
  auto admin = a.login_token("root", kAdminPassword);
  REQUIRE(a.call(http::verb::put, "/api/meetings/m-1/case", kAdminToken,
                 json{{"case_id", "(2026)京0105刑初123号"}, {"lawyer_name", "张三"}, {"detainee_name", "李四"}}.dump())
              .status == 200);
  auto by_admin = a.call(http::verb::get, "/api/archives?lawyer=%E5%BC%A0", admin);  // 张
  REQUIRE(by_admin.body["count"] == 1);
  CHECK(by_admin.body["archives"][0]["case"]["lawyer_name"] == "张三");
  CHECK(a.last_audit("GET /api/archives")->actor == "root");
}

TEST_CASE("HttpApi: officers, the admin token, device secrets and anonymous callers may not read the archive") {
  ArchiveApi a;
  auto officer = a.login_token("wang", kOfficerPassword);
  const auto before = a.audit_entries().size();
  struct Try {
    std::optional<std::string> token;
    unsigned status;
    const char* code;
  };
  const std::vector<Try> tries = {{officer, 403, "forbidden"},
                                  {kAdminToken, 403, "forbidden"},
                                  {std::string("lawyer-secret"), 401, "unauthorized"},
                                  {std::string("detainee-secret"), 401, "unauthorized"},
                                  {std::string(64, '0'), 401, "unauthorized"},
                                  {std::nullopt, 401, "unauthorized"}};
  const std::vector<std::pair<http::verb, std::string>> paths = {
      {http::verb::get, "/api/archives"},
      {http::verb::get, "/api/archives?lawyer=lawyer-1"},
      {http::verb::get, "/api/archives/m-1"},
      {http::verb::get, "/api/archives/m-1/files/lawyer-00000.mkv"},
      {http::verb::post, "/api/archives/m-1/composite"},
      {http::verb::get, "/api/archives/m-1/composite"}};
  for (const auto& t : tries) {
    for (const auto& [method, path] : paths) {
      INFO((t.token ? t.token->substr(0, 8) : std::string("no token")) << " " << path);
      auto res = a.raw(method, path, t.token);
      CHECK(res.result_int() == t.status);
      auto body = json::parse(res.body());
      CHECK(body["code"] == t.code);
      CHECK(res.body().find("LLLL") == std::string::npos);
    }
  }
  auto officer_refusal = a.call(http::verb::get, "/api/archives/m-1", officer);
  CHECK(officer_refusal.body["message"] ==
        "the archive is for archivists and administrators only; wang is signed in as an officer");
  // Every attempt is in the trail, with who and what.
  auto entries = a.audit_entries();
  REQUIRE(entries.size() == before + tries.size() * paths.size() + 1);
  std::size_t refused = 0;
  for (std::size_t i = before; i < entries.size(); ++i) refused += entries[i].outcome.rfind("refused:", 0) == 0;
  CHECK(refused == entries.size() - before);
  auto by_officer = a.last_audit("GET /api/archives/m-1/files/lawyer-00000.mkv");
  REQUIRE(by_officer);
  CHECK(by_officer->outcome == "refused:unauthorized");  // the last try was anonymous
  bool officer_seen = false;
  for (const auto& e : entries)
    officer_seen = officer_seen || (e.actor == "wang" && e.action == "GET /api/archives/m-1/files/lawyer-00000.mkv" &&
                                    e.target == "m-1" && e.outcome == "refused:forbidden");
  CHECK(officer_seen);
  // Nothing was started.
  CHECK(a.gate.calls == 0);
}

TEST_CASE("HttpApi: an archivist may use nothing but the archive, login and logout") {
  ArchiveApi a;
  auto token = a.login_token("dang", kArchivistPassword);
  for (const char* path : {"/api/officer/meetings"}) {
    auto r = a.call(http::verb::get, path, token);
    CHECK(r.status == 403);
    CHECK(r.body["message"] == "this is for supervising officers and administrators; dang is signed in as an "
                               "archivist, who may only use the archive");
  }
  for (const char* path : {"/api/violations", "/api/audit", "/api/accounts", "/api/meetings/m-1", "/api/stats",
                           "/api/meetings/m-1/case"}) {
    INFO(path);
    auto r = a.call(http::verb::get, path, token);
    CHECK(r.status == 403);
    CHECK(r.body["message"] == "this needs an administrator; dang is signed in as an archivist");
  }
  CHECK(a.call(http::verb::post, "/api/archives/reindex", token).status == 403);
  CHECK(a.call(http::verb::post, "/api/meetings/m-1/end", token, "{}").status == 403);
  CHECK(a.call(http::verb::put, "/api/meetings/m-1/case", token, json{{"lawyer_name", "x"}}.dump()).status == 403);
  CHECK(a.store.find("m-1")->state == MeetingState::Waiting);
  CHECK_FALSE(a.archives.find_case("m-1"));

  // The officer console refuses the archivist's login, audited with the archivist's name.
  auto [console, cs] = a.connect();
  a.send(console, json{{"type", "officer_hello"}, {"token", token}});
  auto error = cs->pop();
  CHECK(error["type"] == "error");
  CHECK(error["code"] == "not_officer");
  CHECK(error["ref"] == "officer_hello");
  CHECK(cs->closed == std::optional<std::uint16_t>(kClosePolicy));
  auto hello = a.last_audit("officer_hello");
  REQUIRE(hello);
  CHECK(hello->actor == "dang");
  CHECK(hello->actor_kind == "archivist");
  CHECK(hello->outcome == "refused:not_officer");
  // An officer action from that connection is refused too.
  a.send(console, json{{"type", "terminate"}, {"meeting", "m-1"}, {"code", "violation_phone"}});
  CHECK(cs->pop()["code"] == "not_authenticated");
  CHECK(a.store.find("m-1")->state == MeetingState::Waiting);
  CHECK(a.call(http::verb::post, "/api/logout", token).status == 200);
}

TEST_CASE("HttpApi: archive file names are never paths, and only files of the manifest are served") {
  ArchiveApi a;
  auto token = a.login_token("dang", kArchivistPassword);
  write_file(a.archive_dir / "m-1" / "notes.txt", "not in the manifest");
  struct Case {
    std::string path;
    unsigned status;
    const char* code;
  };
  for (const auto& c : std::vector<Case>{
           {"/api/archives/m-1/files/../../huijian.sqlite3", 400, "bad_name"},
           {"/api/archives/m-1/files/..", 400, "bad_name"},
           {"/api/archives/m-1/files/.hidden", 400, "bad_name"},
           {"/api/archives/m-1/files/%2e%2e%2fmanifest.json", 400, "bad_name"},
           {"/api/archives/m-1/files/a/b.mkv", 400, "bad_name"},
           {"/api/archives/m-1/files/", 400, "bad_name"},
           {"/api/archives/m-1/files/manifest.json", 404, "no_file"},
           {"/api/archives/m-1/files/notes.txt", 404, "no_file"},
           {"/api/archives/m-1/files/lawyer-00001.mkv", 404, "no_file"},
           {"/api/archives/m-9/files/lawyer-00000.mkv", 404, "no_archive"},
           {"/api/archives/..%2fx/files/lawyer-00000.mkv", 404, "no_archive"},
           {"/api/archives/m-9", 404, "no_archive"}}) {
    INFO(c.path);
    auto r = a.call(http::verb::get, c.path, token);
    CHECK(r.status == c.status);
    CHECK(r.body["code"] == c.code);
    auto e = a.audit_entries().back();
    CHECK(e.actor == "dang");
    CHECK(e.action == "GET " + c.path);
    CHECK(e.outcome == std::string("refused:") + c.code);
  }
  // Listed but gone from the disk.
  std::filesystem::remove(a.archive_dir / "m-1" / "detainee-00000.mkv");
  auto gone = a.call(http::verb::get, "/api/archives/m-1/files/detainee-00000.mkv", token);
  CHECK(gone.status == 404);
  CHECK(gone.body["code"] == "no_file");
  // A symlink in place of a segment is not followed.
  std::filesystem::create_symlink(a.archive_dir / "m-1" / "notes.txt", a.archive_dir / "m-1" / "detainee-00000.mkv");
  CHECK(a.call(http::verb::get, "/api/archives/m-1/files/detainee-00000.mkv", token).status == 404);
  CHECK(a.call(http::verb::delete_, "/api/archives/m-1/files/lawyer-00000.mkv", token).status == 405);
}

TEST_CASE("HttpApi: an administrator creates an archivist account over REST, who can then read the archive") {
  ArchiveApi a;
  auto created = a.call(http::verb::post, "/api/accounts", kAdminToken,
                        json{{"username", "lu"}, {"name", "陆档案员"}, {"role", "archivist"},
                             {"password", "lu-archive-password"}}
                            .dump());
  REQUIRE(created.status == 201);
  CHECK(created.body["role"] == "archivist");
  auto bad = a.call(http::verb::post, "/api/accounts", kAdminToken,
                    json{{"username", "x"}, {"name", "x"}, {"role", "archive"}, {"password", "long-enough-1"}}.dump());
  CHECK(bad.status == 400);
  CHECK(bad.body["message"] == "field \"role\" must be \"officer\", \"admin\" or \"archivist\"");
  auto token = a.login_token("lu", "lu-archive-password");
  CHECK(a.call(http::verb::get, "/api/archives", token).body["count"] == 1);
  CHECK(a.call(http::verb::get, "/api/officer/meetings", token).status == 403);
}

TEST_CASE("HttpApi: the archive search takes dates, lawyer, detainee and case, and names a bad filter") {
  ArchiveApi a;
  auto token = a.login_token("dang", kArchivistPassword);
  ArchiveRecord r;
  r.meeting_id = "m-2";
  r.lawyer_device = "lawyer-2";
  r.detainee_device = "detainee-1";
  r.case_id = "(2026)京0105刑初200号";
  r.started_at = "2026-11-24T09:00:00.000Z";
  a.archives.put_archive(r);
  r.meeting_id = "m-3";
  r.lawyer_device = "lawyer-1";
  r.detainee_device = "detainee-3";
  r.case_id = "";
  r.started_at = "2026-11-25T09:00:00.000Z";
  a.archives.put_archive(r);
  auto meetings = [&](const std::string& query) {
    auto res = a.call(http::verb::get, "/api/archives" + query, token);
    REQUIRE(res.status == 200);
    std::vector<std::string> out;
    for (const auto& row : res.body["archives"]) out.push_back(row["meeting"]);
    return out;
  };
  using V = std::vector<std::string>;
  CHECK(meetings("") == V{"m-3", "m-2", "m-1"});
  CHECK(meetings("?limit=1") == V{"m-3"});
  CHECK(meetings("?from=2026-11-24") == V{"m-3", "m-2"});
  CHECK(meetings("?from=2026-11-24&to=2026-11-25") == V{"m-2"});
  CHECK(meetings("?to=2026-11-23T10:00:00.021Z") == V{"m-1"});
  CHECK(meetings("?lawyer=lawyer-1") == V{"m-3", "m-1"});
  CHECK(meetings("?detainee=detainee-1") == V{"m-2", "m-1"});
  CHECK(meetings("?case=%E5%88%91%E5%88%9D200") == V{"m-2"});  // 刑初200
  CHECK(meetings("?lawyer=lawyer-1&detainee=detainee-3") == V{"m-3"});
  CHECK(meetings("?lawyer=nobody").empty());
  auto audit = a.last_audit("GET /api/archives");
  CHECK(audit->detail.rfind("0 found; lawyer=nobody", 0) == 0);
  for (const char* bad : {"?from=yesterday", "?to=2026-11-24%00", "?limit=0", "?limit=1001", "?case=%zz",
                          "?lawyer=a%0Ab"}) {
    INFO(bad);
    auto res = a.call(http::verb::get, std::string("/api/archives") + bad, token);
    CHECK(res.status == 400);
    CHECK(res.body["code"] == "bad_field");
    CHECK(a.audit_entries().back().outcome == "refused:bad_field");
  }
}

TEST_CASE("HttpApi: case records are set by administrators, with bounded fields named when wrong") {
  ArchiveApi a;
  auto admin = a.login_token("root", kAdminPassword);
  CHECK(a.call(http::verb::get, "/api/meetings/m-1/case", admin).body["code"] == "no_case");
  json good{{"case_id", "(2026)京0105刑初123号"}, {"lawyer_name", "张三"}, {"lawyer_license", "11101201010000001"},
            {"lawyer_firm", "北京某律师事务所"}, {"detainee_name", "李四"}, {"detainee_id_number", "110101199001011234"}};
  auto put = a.call(http::verb::put, "/api/meetings/m-1/case", admin, good.dump());
  REQUIRE(put.status == 200);
  CHECK(put.body["lawyer_firm"] == "北京某律师事务所");
  CHECK(put.body["letter"].is_null());
  auto got = a.call(http::verb::get, "/api/meetings/m-1/case", kAdminToken);
  CHECK(got.status == 200);
  CHECK(got.body["detainee_id_number"] == "110101199001011234");
  CHECK(a.archives.find_case("m-1")->lawyer_name == "张三");
  CHECK(a.last_audit("PUT /api/meetings/m-1/case")->outcome == "ok");

  struct Bad {
    json body;
    const char* code;
    const char* names;
  };
  for (const auto& b : std::vector<Bad>{
           {json{{"lawyer_name", chars("张", 51)}}, "bad_field", "lawyer_name"},
           {json{{"lawyer_name", std::string(51, 'x')}}, "bad_field", "lawyer_name"},
           {json{{"detainee_id_number", "1\n2"}}, "bad_field", "detainee_id_number"},
           {json{{"case_id", 5}}, "bad_field", "case_id"},
           {json{{"lawyer", "张三"}}, "bad_field", "lawyer"},
           {json::array(), "bad_json", "JSON object"}}) {
    INFO(b.body.dump());
    auto r = a.call(http::verb::put, "/api/meetings/m-1/case", admin, b.body.dump());
    CHECK(r.status == 400);
    CHECK(r.body["code"] == b.code);
    CHECK(r.body["message"].get<std::string>().find(b.names) != std::string::npos);
    CHECK(a.audit_entries().back().outcome == std::string("refused:") + b.code);
  }
  CHECK(a.call(http::verb::put, "/api/meetings/m-1/case", admin, json{{"lawyer_name", chars("张", 50)}}.dump())
            .status == 200);  // 50 characters (150 bytes) are within the limit
  CHECK(a.call(http::verb::put, "/api/meetings/m-9/case", admin, good.dump()).body["code"] == "no_meeting");
  auto officer = a.login_token("wang", kOfficerPassword);
  CHECK(a.call(http::verb::put, "/api/meetings/m-1/case", officer, good.dump()).status == 403);
  CHECK(a.call(http::verb::get, "/api/meetings/m-1/case", officer).status == 403);
  CHECK(a.call(http::verb::get, "/api/meetings/m-1/case", std::nullopt).status == 401);
}

TEST_CASE("HttpApi: a letter is checked by type and magic bytes and stored by its SHA-256, mode 0600") {
  ArchiveApi a;
  const std::string url = "/api/meetings/m-1/letter?kind=commission";
  // Refusals first: nothing is stored.
  auto png_as_pdf = a.raw(http::verb::put, url, kAdminToken, png_bytes(), "application/pdf");
  CHECK(png_as_pdf.result_int() == 400);
  CHECK(json::parse(png_as_pdf.body())["code"] == "bad_file");
  CHECK(json::parse(png_as_pdf.body())["message"] == "the body is not a PDF file (it must start with %PDF-)");
  CHECK(a.last_audit("PUT /api/meetings/m-1/letter")->outcome == "refused:bad_file");
  CHECK(json::parse(a.raw(http::verb::put, url, kAdminToken, pdf_bytes(), "image/jpeg").body())["code"] == "bad_file");
  CHECK(a.raw(http::verb::put, url, kAdminToken, "hello", "text/plain").result_int() == 415);
  CHECK(a.raw(http::verb::put, url, kAdminToken, pdf_bytes(), "").result_int() == 415);
  CHECK(json::parse(a.raw(http::verb::put, "/api/meetings/m-1/letter?kind=other", kAdminToken, pdf_bytes(),
                          "application/pdf")
                        .body())["code"] == "bad_field");
  CHECK(a.raw(http::verb::put, "/api/meetings/m-9/letter?kind=commission", kAdminToken, pdf_bytes(),
              "application/pdf")
            .result_int() == 404);
  auto officer = a.login_token("wang", kOfficerPassword);
  CHECK(a.raw(http::verb::put, url, officer, pdf_bytes(), "application/pdf").result_int() == 403);
  auto archivist = a.login_token("dang", kArchivistPassword);
  CHECK(a.raw(http::verb::put, url, archivist, pdf_bytes(), "application/pdf").result_int() == 403);
  CHECK(a.raw(http::verb::put, url, std::nullopt, pdf_bytes(), "application/pdf").result_int() == 401);
  CHECK_FALSE((std::filesystem::exists(a.documents_dir) && !std::filesystem::is_empty(a.documents_dir)));
  CHECK_FALSE(a.archives.find_case("m-1"));

  auto ok = a.raw(http::verb::put, url, kAdminToken, pdf_bytes(), "application/pdf; charset=binary");
  REQUIRE(ok.result_int() == 200);
  const std::string sha = huijian::recorder::sha256_hex(pdf_bytes());
  auto body = json::parse(ok.body());
  CHECK(body["letter"] == json{{"kind", "commission"}, {"file", sha + ".pdf"}, {"sha256", sha},
                               {"content_type", "application/pdf"}});
  const auto stored = a.documents_dir / (sha + ".pdf");
  REQUIRE(std::filesystem::is_regular_file(stored));
  struct stat st {};
  REQUIRE(::stat(stored.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  std::ifstream in(stored, std::ios::binary);
  CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == pdf_bytes());
  auto c = a.archives.find_case("m-1");
  REQUIRE(c);
  CHECK(c->letter_kind == "commission");
  CHECK(c->letter_sha256 == sha);
  CHECK(a.last_audit("PUT /api/meetings/m-1/letter")->detail.find(sha) != std::string::npos);

  // The case fields set later keep the letter; a PNG legal-aid letter replaces it.
  REQUIRE(a.call(http::verb::put, "/api/meetings/m-1/case", kAdminToken, json{{"lawyer_name", "张三"}}.dump()).status ==
          200);
  CHECK(a.archives.find_case("m-1")->letter_file == sha + ".pdf");
  auto png = a.raw(http::verb::put, "/api/meetings/m-1/letter?kind=legal_aid", kAdminToken, png_bytes(), "image/png");
  REQUIRE(png.result_int() == 200);
  CHECK(a.archives.find_case("m-1")->letter_file == huijian::recorder::sha256_hex(png_bytes()) + ".png");
  CHECK(a.archives.find_case("m-1")->lawyer_name == "张三");

  // The archivist downloads the letter of the archive by its name, and nothing else of documents/.
  auto letter = a.raw(http::verb::get, "/api/archives/m-1/files/" + huijian::recorder::sha256_hex(png_bytes()) + ".png",
                      archivist);
  REQUIRE(letter.result_int() == 200);
  CHECK(letter[http::field::content_type] == "image/png");
  CHECK(letter.body() == png_bytes());
  CHECK(a.raw(http::verb::get, "/api/archives/m-1/files/" + sha + ".pdf", archivist).result_int() == 404);
}

TEST_CASE("HttpApi: the body limit is 8 MiB for a letter upload and 64 KiB for everything else") {
  CHECK(HttpApi::body_limit(http::verb::put, "/api/meetings/m-1/letter?kind=commission") == kMaxLetterBytes);
  CHECK(HttpApi::body_limit(http::verb::put, "/api/meetings/m-1/letter") == kMaxLetterBytes);
  CHECK(HttpApi::body_limit(http::verb::post, "/api/meetings/m-1/letter") == kMaxRequestBodyBytes);
  CHECK(HttpApi::body_limit(http::verb::put, "/api/meetings/m-1/case") == kMaxRequestBodyBytes);
  CHECK(HttpApi::body_limit(http::verb::put, "/api/meetings/a/b/letter") == kMaxRequestBodyBytes);
  CHECK(HttpApi::body_limit(http::verb::put, "/api/meetings//letter") == kMaxRequestBodyBytes);
  CHECK(HttpApi::body_limit(http::verb::put, "/api/login") == kMaxRequestBodyBytes);
  auto res = HttpApi::too_large(11, kMaxLetterBytes);
  CHECK(res.result_int() == 413);
  CHECK(json::parse(res.body())["message"] == "the request body is larger than 8388608 bytes");
  ArchiveApi a;
  auto big = a.raw(http::verb::put, "/api/meetings/m-1/letter?kind=commission", kAdminToken,
                   "%PDF-" + std::string(kMaxLetterBytes, 'x'), "application/pdf");
  CHECK(big.result_int() == 413);
}

TEST_CASE("HttpApi: a composite is 404 until asked, 202 while it is made, then 200 with the mp4") {
  ArchiveApi a;
  auto token = a.login_token("dang", kArchivistPassword);
  const std::string url = "/api/archives/m-1/composite";
  auto never = a.call(http::verb::get, url, token);
  CHECK(never.status == 404);
  CHECK(never.body["code"] == "not_exported");
  CHECK(a.call(http::verb::post, "/api/archives/m-9/composite", token).body["code"] == "no_archive");

  auto started = a.call(http::verb::post, url, token);
  CHECK(started.status == 202);
  CHECK((started.body["state"] == "queued" || started.body["state"] == "running"));
  CHECK(a.last_audit("POST " + url)->outcome == "ok");
  for (int i = 0; i < 500 && a.gate.calls == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(a.gate.calls == 1);
  auto running = a.call(http::verb::get, url, token);
  CHECK(running.status == 202);
  CHECK(running.body == json{{"meeting", "m-1"}, {"state", "running"}});
  CHECK(a.call(http::verb::post, url, token).body["state"] == "running");  // not started twice
  a.release_exports();
  HttpResponse done;
  for (int i = 0; i < 500; ++i) {
    done = a.raw(http::verb::get, url, token);
    if (done.result_int() != 202) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(done.result_int() == 200);
  CHECK(done.body() == "mp4 of m-1");
  CHECK(done[http::field::content_type] == "video/mp4");
  CHECK(std::filesystem::is_regular_file(a.data_dir / "exports" / "m-1.mp4"));
  CHECK_FALSE(std::filesystem::exists(a.data_dir / "exports" / ".partial" / "m-1.mp4"));
  CHECK(a.call(http::verb::post, url, token).status == 200);  // cached: not made again
  CHECK(a.gate.calls == 1);
  CHECK(a.call(http::verb::get, url, a.login_token("wang", kOfficerPassword)).status == 403);
}

TEST_CASE("HttpApi: a failed composite answers 500 with the exporter's reason and may be asked again") {
  ArchiveApi a;
  a.gate.fail = true;
  a.release_exports();
  auto token = a.login_token("dang", kArchivistPassword);
  const std::string url = "/api/archives/m-1/composite";
  REQUIRE(a.call(http::verb::post, url, token).status == 202);
  Api::Answer failed;
  for (int i = 0; i < 500; ++i) {
    failed = a.call(http::verb::get, url, token);
    if (failed.status != 202) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(failed.status == 500);
  CHECK(failed.body["code"] == "export_failed");
  CHECK(failed.body["message"] == "the export of m-1 failed: no picture in m-1");
  CHECK(a.audit_entries().back().outcome == "refused:export_failed");
  CHECK_FALSE(std::filesystem::exists(a.data_dir / "exports" / "m-1.mp4"));
  CHECK(a.call(http::verb::post, url, token).status == 202);  // tried again
}
