#pragma once
// Storage of what the archive adds: case metadata per meeting (case, lawyer,
// detainee, the commission or legal-aid letter) and the index of finished
// archives that archivists search. Behind an interface so a PostgreSQL
// backend can replace SQLite.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace huijian::signaling {

// Case metadata of one meeting; every field but meeting_id may be empty.
struct CaseRecord {
  std::string meeting_id;
  std::string case_id;
  std::string lawyer_name;
  std::string lawyer_license;
  std::string lawyer_firm;
  std::string detainee_name;
  std::string detainee_id_number;
  std::string letter_kind;    // "commission" or "legal_aid", empty when no letter was uploaded
  std::string letter_file;    // name under <data_dir>/documents/
  std::string letter_sha256;
  std::string letter_content_type;
  std::string updated_at;
};

// One finished (or recovered) archive.
struct ArchiveRecord {
  std::string meeting_id;
  std::string case_id;
  std::string lawyer_device;
  std::string detainee_device;
  std::string lawyer_name;     // from the manifest's copy of the case record, empty when none
  std::string detainee_name;
  std::string started_at;      // recording_started_at
  std::string ended_at;        // recording_ended_at
  bool ended_normally = true;
  std::string faults;          // recorder faults, empty when none
  std::int64_t duration_ms = 0;
  std::uint64_t bytes = 0;     // segments together
  std::string manifest_sha256;
  std::string indexed_at;
};

struct ArchiveFilter {
  std::string from;           // started_at >= from (ISO-8601 prefix compare); empty = any
  std::string to;             // started_at < to; empty = any
  std::string lawyer;         // lawyer device id (exact) or part of the lawyer's name (case record or
                              // the manifest's copy); empty = any
  std::string detainee;       // detainee device id (exact) or part of the detainee's name; empty = any
  std::string case_id;        // part of the case id (index row or case record); empty = any
  std::size_t limit = 1000;
};

class ArchiveRepository {
 public:
  virtual ~ArchiveRepository() = default;

  virtual void put_case(const CaseRecord& record) = 0;
  virtual std::optional<CaseRecord> find_case(const std::string& meeting_id) = 0;

  // Inserts or replaces the index row of one meeting's archive.
  virtual void put_archive(const ArchiveRecord& record) = 0;
  virtual std::optional<ArchiveRecord> find_archive(const std::string& meeting_id) = 0;
  // Newest first.
  virtual std::vector<ArchiveRecord> search_archives(const ArchiveFilter& filter) = 0;
};

}  // namespace huijian::signaling
