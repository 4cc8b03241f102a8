#pragma once
// MeetingRepository on one SQLite file (WAL mode), schema migrations in code:
// the table schema_version holds the number of the last migration applied.
// The migrations cover the whole file, including the tables of
// SqliteSupervisionRepository, which shares this object's database.

#include <filesystem>
#include <memory>

#include "signaling/meeting_repository.hpp"

namespace SQLite {
class Database;
}

namespace huijian::signaling {

class SqliteMeetingRepository final : public MeetingRepository {
 public:
  // Opens or creates the file and applies missing migrations. Throws StoreError.
  explicit SqliteMeetingRepository(const std::filesystem::path& file);
  ~SqliteMeetingRepository() override;

  static int latest_schema_version() noexcept;
  int schema_version();

  bool insert_if_absent(const MeetingRecord& meeting, const std::string& at,
                        const std::string& actor) override;
  void update_parties(const MeetingRecord& meeting) override;
  std::optional<MeetingRecord> find(const std::string& id) override;
  std::optional<MeetingRecord> find_open_for_device(const std::string& device) override;
  std::vector<MeetingRecord> open_meetings() override;
  void record_state(const std::string& meeting_id, MeetingState state, const std::string& at,
                    const std::string& actor, const std::string& detail) override;
  void record_time(const std::string& meeting_id, std::optional<int> minutes, const std::string& ends_at,
                   const std::string& at, const std::string& actor, const std::string& detail) override;
  void set_ends_at(const std::string& meeting_id, const std::string& ends_at) override;
  std::vector<MeetingEvent> events(const std::string& meeting_id) override;

  // The open database, for the other repositories on the same file
  // (SqliteSupervisionRepository). Valid as long as this object lives.
  SQLite::Database& database() noexcept { return *db_; }

 private:
  void migrate();
  std::unique_ptr<SQLite::Database> db_;
};

}  // namespace huijian::signaling
