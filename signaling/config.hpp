#pragma once
// huijiand's configuration: a TOML file (docs/configuration.md) or defaults.
// Unknown keys and bad values are refused with a ConfigError that names the
// key and its line.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "media/relay.hpp"

namespace huijian::signaling {

enum class DeviceRole { LawyerTerminal, DetaineeTerminal };
const char* to_string(DeviceRole role) noexcept;

// Accounts of people (not terminals): a supervising officer; an
// administrator, who may also do everything an officer may; an archivist, who
// may only search and read the meeting archive (and log in and out).
enum class AccountRole { Officer, Admin, Archivist };
const char* to_string(AccountRole role) noexcept;
// Parses "officer" | "admin" | "archivist".
std::optional<AccountRole> account_role_from_string(std::string_view text) noexcept;

// Longest meeting an officer or the configuration may set.
inline constexpr int kMaxMeetingMinutes = 480;

struct DeviceConfig {
  std::string id;
  std::string name;
  DeviceRole role = DeviceRole::LawyerTerminal;
  std::string secret;
};

struct MeetingConfig {
  std::string id;
  std::string lawyer_device;
  std::string detainee_device;
  std::string case_id;
  std::optional<int> minutes;  // call time from "connected"; empty = supervision.default_minutes
};

// An [[officer]] table: exactly one of password_hash and password is set.
struct OfficerConfig {
  std::string username;
  std::string name;
  AccountRole role = AccountRole::Officer;
  std::string password_hash;  // "pbkdf2-sha256$<iterations>$<salt>$<key>"
  std::string password;       // plain (tests): hashed at start, never stored or logged
};

// [supervision]: call time, its warnings, and officer sessions.
struct SupervisionConfig {
  int default_minutes = 60;                 // 1..kMaxMeetingMinutes
  std::vector<int> warning_seconds{300, 60};  // warnings this long before the end
  int session_minutes = 480;                // lifetime of a login token
};

// [recorder]: where the meeting archive and the case documents go, and how
// footage is cut. An empty path means the default under data_dir, resolved at
// use (archive_dir_of, documents_dir_of), because --data-dir may replace
// data_dir after the file was read.
struct RecorderSettings {
  std::filesystem::path archive_dir;    // empty = <data_dir>/archive
  std::filesystem::path documents_dir;  // empty = <data_dir>/documents
  int segment_seconds = 180;            // a new Matroska segment this often, 10..3600
  int no_video_ms = 1000;               // a party's picture absent this long is a gap, 200..60000
};

struct Config {
  std::string listen_address = "127.0.0.1";
  std::uint16_t listen_port = 8443;
  std::filesystem::path data_dir = "huijian-data";
  std::filesystem::path web_root;  // empty = HUIJIAN_WEB_ROOT
  std::string admin_token;         // empty = REST writes disabled
  std::size_t max_message_bytes = 65536;
  media::RelayConfig media;
  std::vector<DeviceConfig> devices;
  std::vector<MeetingConfig> meetings;
  SupervisionConfig supervision;
  std::vector<OfficerConfig> officers;
  RecorderSettings recorder;

  const DeviceConfig* find_device(std::string_view id) const noexcept;
};

// The archive folder: recorder.archive_dir, or <data_dir>/archive when empty.
std::filesystem::path archive_dir_of(const Config& config);
// The folder of uploaded letters: recorder.documents_dir, or <data_dir>/documents.
std::filesystem::path documents_dir_of(const Config& config);

// Defaults; relative paths are resolved against `base_dir`.
Config default_config(const std::filesystem::path& base_dir);
// Parses TOML text; `source_name` is used in messages, relative paths are
// resolved against `base_dir`. Throws ConfigError.
Config parse_config(std::string_view toml_text, const std::filesystem::path& base_dir,
                    std::string_view source_name = "config");
// Reads and parses a file; relative paths are resolved against its folder.
Config load_config(const std::filesystem::path& file);

// "host:port" or "[v6]:port"; throws ConfigError.
void parse_listen(std::string_view text, std::string& address, std::uint16_t& port);
// Device and meeting ids: 1..64 of [A-Za-z0-9._-].
bool is_valid_id(std::string_view id) noexcept;

}  // namespace huijian::signaling
