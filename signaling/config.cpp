#include "signaling/config.hpp"

#include <boost/asio/ip/address.hpp>
#include <fmt/format.h>

#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "signaling/errors.hpp"
#include "signaling/password_hash.hpp"
#include "signaling/client_message.hpp"

namespace huijian::signaling {
namespace {

constexpr std::size_t kMaxConfigBytes = 4 * 1024 * 1024;

std::string where(const toml::node& node) {
  const auto& src = node.source();
  if (src.begin.line == 0) return {};
  return fmt::format(" (line {})", src.begin.line);
}

void check_keys(const toml::table& table, std::string_view section,
                std::initializer_list<std::string_view> allowed) {
  for (auto&& [key, value] : table) {
    bool known = false;
    for (auto a : allowed) known = known || key.str() == a;
    if (!known) {
      std::string allowed_list;
      for (auto a : allowed) allowed_list += (allowed_list.empty() ? "" : ", ") + std::string(a);
      throw ConfigError(fmt::format("unknown key \"{}\" in [{}]{}; allowed keys are: {}", key.str(),
                                    section, where(value), allowed_list));
    }
  }
}

std::string get_string(const toml::table& table, std::string_view section, std::string_view key,
                       bool required, std::string fallback = {}) {
  const toml::node* node = table.get(key);
  if (!node) {
    if (required)
      throw ConfigError(fmt::format("missing key \"{}\" in [{}]{}", key, section, where(table)));
    return fallback;
  }
  if (!node->is_string())
    throw ConfigError(
        fmt::format("{}.{} must be a string{}", section, key, where(*node)));
  return node->as_string()->get();
}

std::int64_t get_int(const toml::table& table, std::string_view section, std::string_view key,
                     std::int64_t fallback, std::int64_t min, std::int64_t max) {
  const toml::node* node = table.get(key);
  if (!node) return fallback;
  if (!node->is_integer())
    throw ConfigError(fmt::format("{}.{} must be an integer{}", section, key, where(*node)));
  auto v = node->as_integer()->get();
  if (v < min || v > max)
    throw ConfigError(fmt::format("{}.{} = {} is out of range; it must be between {} and {}{}",
                                  section, key, v, min, max, where(*node)));
  return v;
}

std::filesystem::path resolve(const std::filesystem::path& base, const std::string& p) {
  std::filesystem::path path(p);
  if (path.is_relative()) path = base / path;
  return path.lexically_normal();
}

void check_id(std::string_view what, const std::string& id, const toml::node& at) {
  if (!is_valid_id(id))
    throw ConfigError(fmt::format(
        "{} \"{}\" is not a valid id: use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'{}", what, id,
        where(at)));
}

}  // namespace

const char* to_string(DeviceRole role) noexcept {
  return role == DeviceRole::LawyerTerminal ? "lawyer-terminal" : "detainee-terminal";
}

const char* to_string(AccountRole role) noexcept {
  switch (role) {
    case AccountRole::Admin: return "admin";
    case AccountRole::Archivist: return "archivist";
    case AccountRole::Officer: break;
  }
  return "officer";
}

std::optional<AccountRole> account_role_from_string(std::string_view text) noexcept {
  if (text == "officer") return AccountRole::Officer;
  if (text == "admin") return AccountRole::Admin;
  if (text == "archivist") return AccountRole::Archivist;
  return std::nullopt;
}

const DeviceConfig* Config::find_device(std::string_view id) const noexcept {
  for (const auto& d : devices)
    if (d.id == id) return &d;
  return nullptr;
}

bool is_valid_id(std::string_view id) noexcept {
  // Not starting with '.': an id names folders (the meeting's archive), and "." or ".." must never be one.
  if (id.empty() || id.size() > 64 || id.front() == '.') return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void parse_listen(std::string_view text, std::string& address, std::uint16_t& port) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == text.size())
    throw ConfigError(fmt::format(
        "listen address \"{}\" must be host:port, for example \"127.0.0.1:8443\"", text));
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned long value = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9' || value > 65535)
      throw ConfigError(fmt::format("listen port \"{}\" is not a number from 0 to 65535", port_text));
    value = value * 10 + static_cast<unsigned long>(c - '0');
  }
  if (value > 65535 || port_text.size() > 5)
    throw ConfigError(fmt::format("listen port \"{}\" is not a number from 0 to 65535", port_text));
  boost::system::error_code ec;
  boost::asio::ip::make_address(std::string(host), ec);
  if (ec)
    throw ConfigError(fmt::format(
        "listen host \"{}\" is not an IP address (use for example 127.0.0.1 or [::1])", host));
  address = std::string(host);
  port = static_cast<std::uint16_t>(value);
}

std::filesystem::path archive_dir_of(const Config& config) {
  return config.recorder.archive_dir.empty() ? config.data_dir / "archive" : config.recorder.archive_dir;
}

std::filesystem::path documents_dir_of(const Config& config) {
  return config.recorder.documents_dir.empty() ? config.data_dir / "documents" : config.recorder.documents_dir;
}

Config default_config(const std::filesystem::path& base_dir) {
  Config config;
  config.data_dir = resolve(base_dir, "huijian-data");
  return config;
}

Config parse_config(std::string_view toml_text, const std::filesystem::path& base_dir,
                    std::string_view source_name) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("{}: TOML syntax error at line {}, column {}: {}", source_name,
                                  e.source().begin.line, e.source().begin.column, e.description()));
  }
  Config config = default_config(base_dir);
  try {
    for (auto&& [key, value] : root) {
      auto k = key.str();
      if (k != "server" && k != "media" && k != "device" && k != "meeting" && k != "supervision" &&
          k != "officer" && k != "recorder")
        throw ConfigError(fmt::format(
            "unknown key \"{}\"{}; allowed top-level keys are: server, media, supervision, recorder, device, meeting, "
            "officer",
            k, where(value)));
    }
    if (const toml::node* server_node = root.get("server")) {
      const toml::table* server = server_node->as_table();
      if (!server) throw ConfigError(fmt::format("[server] must be a table{}", where(*server_node)));
      check_keys(*server, "server",
                 {"listen", "data_dir", "web_root", "admin_token", "max_message_bytes"});
      if (server->get("listen")) {
        auto listen = get_string(*server, "server", "listen", true);
        try {
          parse_listen(listen, config.listen_address, config.listen_port);
        } catch (const ConfigError& e) {
          throw ConfigError(fmt::format("server.listen: {}{}", e.what(), where(*server->get("listen"))));
        }
      }
      auto data_dir = get_string(*server, "server", "data_dir", false, "huijian-data");
      if (data_dir.empty())
        throw ConfigError(fmt::format("server.data_dir must not be empty{}", where(*server)));
      config.data_dir = resolve(base_dir, data_dir);
      auto web_root = get_string(*server, "server", "web_root", false);
      if (!web_root.empty()) config.web_root = resolve(base_dir, web_root);
      config.admin_token = get_string(*server, "server", "admin_token", false);
      if (!config.admin_token.empty() && config.admin_token.size() < 16)
        throw ConfigError(fmt::format(
            "server.admin_token is too short: use at least 16 characters, or \"\" to disable REST writes{}",
            where(*server->get("admin_token"))));
      config.max_message_bytes = static_cast<std::size_t>(
          get_int(*server, "server", "max_message_bytes", 65536, 1024, 1024 * 1024));
    }
    if (const toml::node* media_node = root.get("media")) {
      const toml::table* media = media_node->as_table();
      if (!media) throw ConfigError(fmt::format("[media] must be a table{}", where(*media_node)));
      check_keys(*media, "media", {"addresses", "port_min", "port_max", "workers", "video_bitrate_kbps"});
      if (const toml::node* addrs = media->get("addresses")) {
        const toml::array* arr = addrs->as_array();
        if (!arr || arr->empty())
          throw ConfigError(fmt::format(
              "media.addresses must be a non-empty array of IP addresses{}", where(*addrs)));
        config.media.addresses.clear();
        for (const auto& item : *arr) {
          if (!item.is_string())
            throw ConfigError(fmt::format("media.addresses must hold strings{}", where(item)));
          std::string a = item.as_string()->get();
          boost::system::error_code ec;
          boost::asio::ip::make_address(a, ec);
          if (ec)
            throw ConfigError(fmt::format("media.addresses: \"{}\" is not an IP address{}", a, where(item)));
          config.media.addresses.push_back(a);
        }
      }
      config.media.port_min = static_cast<std::uint16_t>(get_int(*media, "media", "port_min", 0, 0, 65535));
      config.media.port_max = static_cast<std::uint16_t>(get_int(*media, "media", "port_max", 0, 0, 65535));
      if (config.media.port_min > config.media.port_max)
        throw ConfigError(fmt::format("media.port_min ({}) must not be greater than media.port_max ({}){}",
                                      config.media.port_min, config.media.port_max, where(*media)));
      if ((config.media.port_min == 0) != (config.media.port_max == 0))
        throw ConfigError(fmt::format(
            "media.port_min and media.port_max must both be 0 (any port) or both be set{}", where(*media)));
      config.media.workers = static_cast<unsigned>(get_int(*media, "media", "workers", 1, 1, 64));
      config.media.video_bitrate_kbps =
          static_cast<std::uint32_t>(get_int(*media, "media", "video_bitrate_kbps", 4000, 300, 50000));
    }
    if (const toml::node* sup_node = root.get("supervision")) {
      const toml::table* sup = sup_node->as_table();
      if (!sup) throw ConfigError(fmt::format("[supervision] must be a table{}", where(*sup_node)));
      check_keys(*sup, "supervision", {"default_minutes", "warning_seconds", "session_minutes"});
      config.supervision.default_minutes =
          static_cast<int>(get_int(*sup, "supervision", "default_minutes", 60, 1, kMaxMeetingMinutes));
      config.supervision.session_minutes =
          static_cast<int>(get_int(*sup, "supervision", "session_minutes", 480, 1, 24 * 60));
      if (const toml::node* warn = sup->get("warning_seconds")) {
        const toml::array* arr = warn->as_array();
        if (!arr || arr->size() > 8)
          throw ConfigError(fmt::format(
              "supervision.warning_seconds must be an array of at most 8 whole seconds, e.g. [300, 60]{}",
              where(*warn)));
        std::set<int> seen;
        config.supervision.warning_seconds.clear();
        for (const auto& item : *arr) {
          if (!item.is_integer() || item.as_integer()->get() < 1 || item.as_integer()->get() > 3600)
            throw ConfigError(fmt::format(
                "supervision.warning_seconds: each warning must be a whole number of seconds from 1 to 3600{}",
                where(item)));
          int v = static_cast<int>(item.as_integer()->get());
          if (!seen.insert(v).second)
            throw ConfigError(fmt::format("supervision.warning_seconds: {} is given twice{}", v, where(item)));
          config.supervision.warning_seconds.push_back(v);
        }
      }
    }
    if (const toml::node* rec_node = root.get("recorder")) {
      const toml::table* rec = rec_node->as_table();
      if (!rec) throw ConfigError(fmt::format("[recorder] must be a table{}", where(*rec_node)));
      check_keys(*rec, "recorder", {"archive_dir", "documents_dir", "segment_seconds", "no_video_ms"});
      for (auto [key, target] : {std::pair{"archive_dir", &config.recorder.archive_dir},
                                 std::pair{"documents_dir", &config.recorder.documents_dir}}) {
        if (!rec->get(key)) continue;
        auto dir = get_string(*rec, "recorder", key, true);
        if (dir.empty())
          throw ConfigError(fmt::format("recorder.{} must not be empty (leave it out for the default under "
                                        "data_dir){}",
                                        key, where(*rec->get(key))));
        *target = resolve(base_dir, dir);
      }
      config.recorder.segment_seconds =
          static_cast<int>(get_int(*rec, "recorder", "segment_seconds", 180, 10, 3600));
      config.recorder.no_video_ms = static_cast<int>(get_int(*rec, "recorder", "no_video_ms", 1000, 200, 60000));
    }
    std::set<std::string> device_ids;
    if (const toml::node* devices = root.get("device")) {
      const toml::array* arr = devices->as_array();
      if (!arr) throw ConfigError(fmt::format("device must be written as [[device]] tables{}", where(*devices)));
      for (const auto& item : *arr) {
        const toml::table* t = item.as_table();
        if (!t) throw ConfigError(fmt::format("device must be written as [[device]] tables{}", where(item)));
        check_keys(*t, "device", {"id", "name", "role", "secret"});
        DeviceConfig d;
        d.id = get_string(*t, "device", "id", true);
        check_id("device id", d.id, *t->get("id"));
        d.name = get_string(*t, "device", "name", false, d.id);
        if (d.name.size() > 200)
          throw ConfigError(fmt::format("device.name of \"{}\" is longer than 200 bytes{}", d.id, where(*t)));
        auto role = get_string(*t, "device", "role", true);
        if (role == "lawyer-terminal") d.role = DeviceRole::LawyerTerminal;
        else if (role == "detainee-terminal") d.role = DeviceRole::DetaineeTerminal;
        else
          throw ConfigError(fmt::format(
              "device.role \"{}\" of device \"{}\" is not one of lawyer-terminal, detainee-terminal{}",
              role, d.id, where(*t->get("role"))));
        d.secret = get_string(*t, "device", "secret", true);
        if (d.secret.size() < 8 || d.secret.size() > 256)
          throw ConfigError(fmt::format(
              "device.secret of device \"{}\" must be 8 to 256 characters long{}", d.id,
              where(*t->get("secret"))));
        if (!device_ids.insert(d.id).second)
          throw ConfigError(fmt::format("device id \"{}\" is used twice{}", d.id, where(*t)));
        config.devices.push_back(std::move(d));
      }
    }
    std::set<std::string> meeting_ids;
    if (const toml::node* meetings = root.get("meeting")) {
      const toml::array* arr = meetings->as_array();
      if (!arr) throw ConfigError(fmt::format("meeting must be written as [[meeting]] tables{}", where(*meetings)));
      for (const auto& item : *arr) {
        const toml::table* t = item.as_table();
        if (!t) throw ConfigError(fmt::format("meeting must be written as [[meeting]] tables{}", where(item)));
        check_keys(*t, "meeting", {"id", "lawyer_device", "detainee_device", "case_id", "minutes"});
        MeetingConfig m;
        m.id = get_string(*t, "meeting", "id", true);
        check_id("meeting id", m.id, *t->get("id"));
        m.lawyer_device = get_string(*t, "meeting", "lawyer_device", true);
        m.detainee_device = get_string(*t, "meeting", "detainee_device", true);
        m.case_id = get_string(*t, "meeting", "case_id", false);
        if (m.case_id.size() > 200)
          throw ConfigError(fmt::format("meeting.case_id of \"{}\" is longer than 200 bytes{}", m.id, where(*t)));
        if (t->get("minutes"))
          m.minutes = static_cast<int>(get_int(*t, "meeting", "minutes", 0, 1, kMaxMeetingMinutes));
        const DeviceConfig* lawyer = config.find_device(m.lawyer_device);
        if (!lawyer || lawyer->role != DeviceRole::LawyerTerminal)
          throw ConfigError(fmt::format(
              "meeting \"{}\": lawyer_device \"{}\" is not a configured lawyer-terminal device{}", m.id,
              m.lawyer_device, where(*t->get("lawyer_device"))));
        const DeviceConfig* detainee = config.find_device(m.detainee_device);
        if (!detainee || detainee->role != DeviceRole::DetaineeTerminal)
          throw ConfigError(fmt::format(
              "meeting \"{}\": detainee_device \"{}\" is not a configured detainee-terminal device{}",
              m.id, m.detainee_device, where(*t->get("detainee_device"))));
        if (!meeting_ids.insert(m.id).second)
          throw ConfigError(fmt::format("meeting id \"{}\" is used twice{}", m.id, where(*t)));
        config.meetings.push_back(std::move(m));
      }
    }
    std::set<std::string> usernames;
    if (const toml::node* officers = root.get("officer")) {
      const toml::array* arr = officers->as_array();
      if (!arr) throw ConfigError(fmt::format("officer must be written as [[officer]] tables{}", where(*officers)));
      for (const auto& item : *arr) {
        const toml::table* t = item.as_table();
        if (!t) throw ConfigError(fmt::format("officer must be written as [[officer]] tables{}", where(item)));
        check_keys(*t, "officer", {"username", "name", "role", "password_hash", "password"});
        OfficerConfig o;
        o.username = get_string(*t, "officer", "username", true);
        check_id("officer username", o.username, *t->get("username"));
        o.name = get_string(*t, "officer", "name", false, o.username);
        if (o.name.empty() || o.name.size() > 200)
          throw ConfigError(fmt::format("officer.name of \"{}\" must be 1 to 200 bytes{}", o.username, where(*t)));
        auto role = get_string(*t, "officer", "role", false, "officer");
        auto parsed_role = account_role_from_string(role);
        if (!parsed_role)
          throw ConfigError(fmt::format("officer.role \"{}\" of \"{}\" is not one of officer, admin, archivist{}", role,
                                        o.username, where(*t->get("role"))));
        o.role = *parsed_role;
        bool has_hash = t->get("password_hash") != nullptr, has_plain = t->get("password") != nullptr;
        if (has_hash == has_plain)
          throw ConfigError(fmt::format(
              "officer \"{}\" needs exactly one of password_hash (from huijiand --hash-password) or password{}",
              o.username, where(*t)));
        if (has_hash) {
          o.password_hash = get_string(*t, "officer", "password_hash", true);
          auto iterations = PasswordHash::iterations_of(o.password_hash);
          if (!iterations)
            throw ConfigError(fmt::format(
                "officer.password_hash of \"{}\" is not of the form pbkdf2-sha256$<iterations>$<32 hex salt>$<64 hex key>; "
                "make one with huijiand --hash-password{}",
                o.username, where(*t->get("password_hash"))));
          if (*iterations < kMinPasswordIterations)
            throw ConfigError(fmt::format(
                "officer.password_hash of \"{}\" uses {} PBKDF2 iterations; at least {} are required{}", o.username,
                *iterations, kMinPasswordIterations, where(*t->get("password_hash"))));
        } else {
          o.password = get_string(*t, "officer", "password", true);
          if (utf8_length(o.password) < kMinPasswordChars || o.password.size() > kMaxPasswordBytes)
            throw ConfigError(fmt::format("officer.password of \"{}\" must be {} to {} characters long{}",
                                          o.username, kMinPasswordChars, kMaxPasswordBytes,
                                          where(*t->get("password"))));
        }
        if (!usernames.insert(o.username).second)
          throw ConfigError(fmt::format("officer username \"{}\" is used twice{}", o.username, where(*t)));
        config.officers.push_back(std::move(o));
      }
    }
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("{}: {}", source_name, e.what()));
  }
  return config;
}

Config load_config(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("cannot read the configuration file {}", file.string()));
  std::string text;
  text.resize(kMaxConfigBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxConfigBytes)
    throw ConfigError(fmt::format("the configuration file {} is larger than 4 MiB", file.string()));
  auto base = std::filesystem::absolute(file).parent_path();
  return parse_config(text, base, file.string());
}

}  // namespace huijian::signaling
