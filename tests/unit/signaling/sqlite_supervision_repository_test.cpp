#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include "signaling/errors.hpp"
#include "signaling/sqlite_supervision_repository.hpp"

using namespace huijian::signaling;

namespace {

struct Store {
  SqliteMeetingRepository meetings{":memory:"};
  SqliteSupervisionRepository store{meetings};
  Store() {
    for (const char* id : {"m-1", "m-2", "m-3"}) {
      MeetingRecord m;
      m.id = id;
      m.lawyer_device = std::string(id) == "m-3" ? "lawyer-2" : "lawyer-1";
      m.detainee_device = "detainee-1";
      meetings.insert_if_absent(m, "2026-11-23T09:00:00.000Z", "config");
    }
  }
  ViolationRecord violation(const std::string& meeting, const std::string& lawyer, const std::string& code) {
    return ViolationRecord{0, meeting, lawyer, "detainee-1", code, "", "wang", "2026-11-23T09:10:00.000Z"};
  }
};

}  // namespace

TEST_CASE("SqliteSupervisionRepository: violations are stored, listed newest first and counted per code") {
  Store s;
  auto first = s.store.add_violation(s.violation("m-1", "lawyer-1", "violation_phone"));
  s.store.add_violation(s.violation("m-2", "lawyer-1", "violation_phone"));
  auto v3 = s.violation("m-3", "lawyer-2", "violation_other");
  v3.text = "传递纸条";
  auto third = s.store.add_violation(v3);
  CHECK(first < third);

  auto all = s.store.violations({});
  REQUIRE(all.size() == 3);
  CHECK(all[0].id == third);
  CHECK(all[0].text == "传递纸条");
  CHECK(all[0].lawyer_device == "lawyer-2");
  CHECK(all[0].officer == "wang");
  CHECK(all[2].id == first);

  ViolationFilter by_lawyer;
  by_lawyer.lawyer_device = "lawyer-1";
  CHECK(s.store.violations(by_lawyer).size() == 2);
  CHECK(s.store.count_violations(by_lawyer) == std::map<std::string, std::int64_t>{{"violation_phone", 2}});
  CHECK(s.store.count_violations({}) ==
        std::map<std::string, std::int64_t>{{"violation_other", 1}, {"violation_phone", 2}});
  ViolationFilter by_meeting;
  by_meeting.meeting_id = "m-2";
  CHECK(s.store.violations(by_meeting).size() == 1);
  ViolationFilter limited;
  limited.limit = 1;
  CHECK(s.store.violations(limited).size() == 1);
  // A violation must belong to a meeting that exists.
  CHECK_THROWS_AS(s.store.add_violation(s.violation("ghost", "lawyer-1", "violation_phone")), StoreError);
}

TEST_CASE("SqliteSupervisionRepository: the audit log and the records only grow: UPDATE and DELETE are refused") {
  Store s;
  auto id = s.store.append_audit({0, "2026-11-23T09:00:00.000Z", "wang", "officer", "login", "wang", "ok", ""});
  s.store.add_violation(s.violation("m-1", "lawyer-1", "violation_phone"));
  s.store.add_notice({0, "m-1", "wang", "2026-11-23T09:01:00.000Z", "注意"});
  s.store.add_interjection({0, "m-1", "wang", "2026-11-23T09:02:00.000Z", "2026-11-23T09:02:05.000Z", 5000});
  auto& db = s.meetings.database();
  for (const char* sql : {"UPDATE audit_log SET outcome = 'refused:x'", "DELETE FROM audit_log",
                          "UPDATE violations SET code = 'none'", "DELETE FROM violations",
                          "UPDATE notices SET text = 'x'", "DELETE FROM notices",
                          "UPDATE interjections SET duration_ms = 0", "DELETE FROM interjections"}) {
    INFO(sql);
    CHECK_THROWS_AS(db.exec(sql), SQLite::Exception);
  }
  auto trail = s.store.audit(0, 10);
  REQUIRE(trail.size() == 1);
  CHECK(trail[0].id == id);
  CHECK(trail[0].outcome == "ok");
  CHECK(s.store.violations({}).size() == 1);
}

TEST_CASE("SqliteSupervisionRepository: the audit log is read in pages after an id") {
  Store s;
  for (int i = 0; i < 5; ++i)
    s.store.append_audit({0, "2026-11-23T09:00:00.000Z", "wang", "officer", "notice", "m-1", "ok", std::to_string(i)});
  auto page = s.store.audit(0, 2);
  REQUIRE(page.size() == 2);
  CHECK(page[0].detail == "0");
  auto next = s.store.audit(page.back().id, 10);
  REQUIRE(next.size() == 3);
  CHECK(next[0].detail == "2");
  CHECK(s.store.audit(next.back().id, 10).empty());
}

TEST_CASE("SqliteSupervisionRepository: notices and interjections are kept per meeting in order") {
  Store s;
  s.store.add_notice({0, "m-1", "wang", "2026-11-23T09:01:00.000Z", "第一条"});
  s.store.add_notice({0, "m-2", "li", "2026-11-23T09:01:30.000Z", "other meeting"});
  s.store.add_notice({0, "m-1", "li", "2026-11-23T09:02:00.000Z", "第二条"});
  auto notices = s.store.notices("m-1");
  REQUIRE(notices.size() == 2);
  CHECK(notices[0].text == "第一条");
  CHECK(notices[1].officer == "li");
  s.store.add_interjection({0, "m-1", "wang", "2026-11-23T09:02:00.000Z", "2026-11-23T09:02:05.250Z", 5250});
  auto i = s.store.interjections("m-1");
  REQUIRE(i.size() == 1);
  CHECK(i[0].duration_ms == 5250);
  CHECK(s.store.interjections("m-2").empty());
}

TEST_CASE("SqliteSupervisionRepository: accounts are inserted once and upserted from the configuration") {
  Store s;
  AccountRecord a{"wang", "王警官", AccountRole::Officer, "pbkdf2-sha256$1$x$y", "api", "t0", "t0"};
  CHECK(s.store.insert_account(a));
  CHECK_FALSE(s.store.insert_account(a));
  a.name = "王警官 (改)";
  a.role = AccountRole::Admin;
  a.source = "config";
  a.updated_at = "t1";
  s.store.upsert_account(a);
  auto stored = s.store.find_account("wang");
  REQUIRE(stored);
  CHECK(stored->name == "王警官 (改)");
  CHECK(stored->role == AccountRole::Admin);
  CHECK(stored->created_at == "t0");
  CHECK(stored->updated_at == "t1");
  CHECK_FALSE(s.store.find_account("nobody"));
  CHECK(s.store.accounts().size() == 1);
}
