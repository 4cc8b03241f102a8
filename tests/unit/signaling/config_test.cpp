#include <catch2/catch.hpp>

#include "signaling/config.hpp"
#include "signaling/errors.hpp"

using namespace huijian::signaling;

namespace {

const char* kGood = R"(
[server]
listen = "127.0.0.1:9443"
data_dir = "data"
admin_token = "0123456789abcdef0123"
max_message_bytes = 32768

[media]
addresses = ["127.0.0.1", "::1"]
port_min = 40000
port_max = 40100
workers = 2
video_bitrate_kbps = 6000

[[device]]
id = "lawyer-1"
name = "律师会见室 1"
role = "lawyer-terminal"
secret = "lawyer-secret-1"

[[device]]
id = "detainee-1"
name = "会见室 A"
role = "detainee-terminal"
secret = "detainee-secret-1"

[[meeting]]
id = "m-1"
lawyer_device = "lawyer-1"
detainee_device = "detainee-1"
case_id = "(2026)京0105刑初123号"
)";

std::string error_of(const std::string& text) {
  try {
    parse_config(text, "/etc/huijian", "test.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("Config: a complete file is read into every field") {
  auto c = parse_config(kGood, "/etc/huijian", "test.toml");
  CHECK(c.listen_address == "127.0.0.1");
  CHECK(c.listen_port == 9443);
  CHECK(c.data_dir == std::filesystem::path("/etc/huijian/data"));
  CHECK(c.web_root.empty());
  CHECK(c.admin_token == "0123456789abcdef0123");
  CHECK(c.max_message_bytes == 32768);
  CHECK(c.media.addresses == std::vector<std::string>{"127.0.0.1", "::1"});
  CHECK(c.media.port_min == 40000);
  CHECK(c.media.port_max == 40100);
  CHECK(c.media.workers == 2);
  CHECK(c.media.video_bitrate_kbps == 6000);
  REQUIRE(c.devices.size() == 2);
  CHECK(c.devices[0].name == "律师会见室 1");
  CHECK(c.devices[1].role == DeviceRole::DetaineeTerminal);
  REQUIRE(c.find_device("detainee-1") != nullptr);
  CHECK(c.find_device("detainee-1")->secret == "detainee-secret-1");
  CHECK(c.find_device("nobody") == nullptr);
  REQUIRE(c.meetings.size() == 1);
  CHECK(c.meetings[0].case_id == "(2026)京0105刑初123号");
}

TEST_CASE("Config: an empty file gives the defaults") {
  auto c = parse_config("", "/srv", "empty.toml");
  CHECK(c.listen_address == "127.0.0.1");
  CHECK(c.listen_port == 8443);
  CHECK(c.data_dir == std::filesystem::path("/srv/huijian-data"));
  CHECK(c.admin_token.empty());
  CHECK(c.max_message_bytes == 65536);
  CHECK(c.media.addresses == std::vector<std::string>{"127.0.0.1"});
  CHECK(c.media.video_bitrate_kbps == 4000);
  CHECK(c.devices.empty());
}

TEST_CASE("Config: an unknown key is refused with its name and line") {
  CHECK(error_of("[server]\nlisten = \"127.0.0.1:1\"\nlisten_port = 5\n") ==
        "test.toml: unknown key \"listen_port\" in [server] (line 3); allowed keys are: listen, data_dir, "
        "web_root, admin_token, max_message_bytes");
  CHECK(error_of("\n[serverr]\n").find("unknown key \"serverr\" (line 2)") != std::string::npos);
  CHECK(error_of("[[device]]\nid = \"a\"\nrole = \"lawyer-terminal\"\nsecret = \"12345678\"\ncolour = 1\n")
            .find("unknown key \"colour\" in [device] (line 5)") != std::string::npos);
}

TEST_CASE("Config: bad values are refused with a message naming the key") {
  CHECK(error_of("[server]\nlisten = 8443\n").find("server.listen must be a string (line 2)") != std::string::npos);
  CHECK(error_of("[server]\nlisten = \"localhost:8443\"\n").find("is not an IP address") != std::string::npos);
  CHECK(error_of("[server]\nlisten = \"127.0.0.1:70000\"\n").find("not a number from 0 to 65535") != std::string::npos);
  CHECK(error_of("[server]\nmax_message_bytes = 10\n").find("server.max_message_bytes = 10 is out of range") !=
        std::string::npos);
  CHECK(error_of("[media]\nport_min = 5000\nport_max = 4000\n").find("must not be greater") != std::string::npos);
  CHECK(error_of("[media]\nvideo_bitrate_kbps = 100\n").find("media.video_bitrate_kbps = 100 is out of range") !=
        std::string::npos);
  CHECK(error_of("[media]\naddresses = [\"not-an-ip\"]\n").find("\"not-an-ip\" is not an IP address") !=
        std::string::npos);
  CHECK(error_of("[[device]]\nid = \"a\"\nrole = \"officer\"\nsecret = \"12345678\"\n")
            .find("device.role \"officer\" of device \"a\" is not one of lawyer-terminal, detainee-terminal (line 3)") !=
        std::string::npos);
  CHECK(error_of("[[device]]\nid = \"a b\"\nrole = \"lawyer-terminal\"\nsecret = \"12345678\"\n")
            .find("device id \"a b\" is not a valid id") != std::string::npos);
  // An id names a folder (a meeting's archive): "..", "." and hidden names are refused.
  CHECK(error_of("[[device]]\nid = \"..\"\nrole = \"lawyer-terminal\"\nsecret = \"12345678\"\n")
            .find("not starting with '.'") != std::string::npos);
  CHECK(error_of("[[device]]\nid = \"a\"\nrole = \"lawyer-terminal\"\nsecret = \"short\"\n")
            .find("must be 8 to 256 characters long") != std::string::npos);
  CHECK(error_of("[server]\nadmin_token = \"abc\"\n").find("server.admin_token is too short") != std::string::npos);
}

TEST_CASE("Config: a meeting must name configured devices of the right roles") {
  std::string devices =
      "[[device]]\nid = \"l\"\nrole = \"lawyer-terminal\"\nsecret = \"12345678\"\n"
      "[[device]]\nid = \"d\"\nrole = \"detainee-terminal\"\nsecret = \"12345678\"\n";
  CHECK(error_of(devices + "[[meeting]]\nid = \"m\"\nlawyer_device = \"d\"\ndetainee_device = \"d\"\n")
            .find("lawyer_device \"d\" is not a configured lawyer-terminal device") != std::string::npos);
  CHECK(error_of(devices + "[[meeting]]\nid = \"m\"\nlawyer_device = \"l\"\ndetainee_device = \"x\"\n")
            .find("detainee_device \"x\" is not a configured detainee-terminal device") != std::string::npos);
  CHECK(error_of(devices + "[[meeting]]\nid = \"m\"\nlawyer_device = \"l\"\n")
            .find("missing key \"detainee_device\" in [meeting]") != std::string::npos);
  CHECK(error_of(devices + devices).find("device id \"l\" is used twice") != std::string::npos);
}

TEST_CASE("Config: a TOML syntax error names the line") {
  CHECK(error_of("[server]\nlisten = \"127.0.0.1:1\n").find("test.toml: TOML syntax error at line 2") == 0);
}

TEST_CASE("Config: listen addresses accept IPv4 and bracketed IPv6") {
  std::string address;
  std::uint16_t port = 0;
  parse_listen("[::1]:8443", address, port);
  CHECK(address == "::1");
  CHECK(port == 8443);
  parse_listen("127.0.0.1:0", address, port);
  CHECK(port == 0);
  CHECK_THROWS_AS(parse_listen("127.0.0.1", address, port), ConfigError);
  CHECK_THROWS_AS(parse_listen("127.0.0.1:", address, port), ConfigError);
  CHECK_THROWS_AS(parse_listen("127.0.0.1:8x", address, port), ConfigError);
}

TEST_CASE("Config: [supervision], [[officer]] and a meeting's minutes are read") {
  auto c = parse_config(std::string(kGood) + R"(
minutes = 25

[supervision]
default_minutes = 45
warning_seconds = [600, 300, 60]
session_minutes = 120

[[officer]]
username = "wang"
name = "王警官"
password = "officer-password-1"

[[officer]]
username = "root"
role = "admin"
password_hash = "pbkdf2-sha256$210000$000102030405060708090a0b0c0d0e0f$02169e674d80c0fc7292e8610c8f17be140df062af9aa33ea85eaabecffdf08d"
)",
                        "/etc/huijian", "test.toml");
  CHECK(c.meetings[0].minutes == std::optional<int>(25));
  CHECK(c.supervision.default_minutes == 45);
  CHECK(c.supervision.warning_seconds == std::vector<int>{600, 300, 60});
  CHECK(c.supervision.session_minutes == 120);
  REQUIRE(c.officers.size() == 2);
  CHECK(c.officers[0].name == "王警官");
  CHECK(c.officers[0].role == AccountRole::Officer);
  CHECK(c.officers[0].password == "officer-password-1");
  CHECK(c.officers[1].name == "root");
  CHECK(c.officers[1].role == AccountRole::Admin);
  CHECK(c.officers[1].password.empty());

  auto d = parse_config("", "/srv", "empty.toml");
  CHECK(d.supervision.default_minutes == 60);
  CHECK(d.supervision.warning_seconds == std::vector<int>{300, 60});
  CHECK(d.supervision.session_minutes == 480);
  CHECK(d.officers.empty());
}

TEST_CASE("Config: bad supervision and officer values are refused with the key named") {
  CHECK(error_of("[supervision]\ndefault_minutes = 0\n").find("supervision.default_minutes = 0 is out of range") !=
        std::string::npos);
  CHECK(error_of("[supervision]\ndefault_minutes = 481\n").find("between 1 and 480") != std::string::npos);
  CHECK(error_of("[supervision]\nwarning_seconds = [60, 60]\n").find("60 is given twice") != std::string::npos);
  CHECK(error_of("[supervision]\nwarning_seconds = [0]\n").find("from 1 to 3600") != std::string::npos);
  CHECK(error_of("[supervision]\nwarnings = [60]\n").find("unknown key \"warnings\" in [supervision]") !=
        std::string::npos);
  CHECK(error_of("[[officer]]\nusername = \"w\"\n").find("needs exactly one of password_hash") != std::string::npos);
  CHECK(error_of("[[officer]]\nusername = \"w\"\npassword = \"short\"\n").find("must be 10 to 256 characters") !=
        std::string::npos);
  CHECK(error_of("[[officer]]\nusername = \"w\"\npassword_hash = \"plain\"\n").find("is not of the form pbkdf2-sha256") !=
        std::string::npos);
  CHECK(error_of("[[officer]]\nusername = \"w\"\npassword_hash = \"pbkdf2-sha256$1000$000102030405060708090a0b0c0d0e0f$"
                 "02169e674d80c0fc7292e8610c8f17be140df062af9aa33ea85eaabecffdf08d\"\n")
            .find("uses 1000 PBKDF2 iterations; at least 200000 are required") != std::string::npos);
  CHECK(error_of("[[officer]]\nusername = \"w\"\nrole = \"boss\"\npassword = \"long-enough-1\"\n")
            .find("officer.role \"boss\" of \"w\" is not one of officer, admin") != std::string::npos);
  CHECK(error_of("[[officer]]\nusername = \"w\"\npassword = \"long-enough-1\"\n"
                 "[[officer]]\nusername = \"w\"\npassword = \"long-enough-1\"\n")
            .find("officer username \"w\" is used twice") != std::string::npos);
  // The error never repeats a password.
  CHECK(error_of("[[officer]]\nusername = \"w\"\npassword = \"secret!\"\n").find("secret!") == std::string::npos);
}

TEST_CASE("Config: [recorder] is read; its folders default to data_dir and follow a later data_dir") {
  auto d = parse_config("[server]\ndata_dir = \"data\"\n", "/srv", "test.toml");
  CHECK(d.recorder.archive_dir.empty());
  CHECK(d.recorder.documents_dir.empty());
  CHECK(d.recorder.segment_seconds == 180);
  CHECK(d.recorder.no_video_ms == 1000);
  CHECK(archive_dir_of(d) == std::filesystem::path("/srv/data/archive"));
  CHECK(documents_dir_of(d) == std::filesystem::path("/srv/data/documents"));
  d.data_dir = "/var/lib/huijian";  // what --data-dir does after the file was read
  CHECK(archive_dir_of(d) == std::filesystem::path("/var/lib/huijian/archive"));
  CHECK(documents_dir_of(d) == std::filesystem::path("/var/lib/huijian/documents"));

  auto c = parse_config(R"(
[recorder]
archive_dir = "../archive"
documents_dir = "/mnt/docs"
segment_seconds = 60
no_video_ms = 500
)",
                        "/etc/huijian", "test.toml");
  CHECK(c.recorder.archive_dir == std::filesystem::path("/etc/archive"));
  CHECK(archive_dir_of(c) == std::filesystem::path("/etc/archive"));
  CHECK(documents_dir_of(c) == std::filesystem::path("/mnt/docs"));
  CHECK(c.recorder.segment_seconds == 60);
  CHECK(c.recorder.no_video_ms == 500);
}

TEST_CASE("Config: bad [recorder] values and unknown keys are refused with the key named") {
  CHECK(error_of("[recorder]\nsegment_seconds = 9\n").find("recorder.segment_seconds = 9 is out of range; it must be "
                                                           "between 10 and 3600 (line 2)") != std::string::npos);
  CHECK(error_of("[recorder]\nsegment_seconds = 3601\n").find("recorder.segment_seconds = 3601 is out of range") !=
        std::string::npos);
  CHECK(error_of("[recorder]\nno_video_ms = 199\n").find("recorder.no_video_ms = 199 is out of range") !=
        std::string::npos);
  CHECK(error_of("[recorder]\nno_video_ms = 60001\n").find("between 200 and 60000") != std::string::npos);
  CHECK(error_of("[recorder]\nsegment_seconds = \"60\"\n").find("recorder.segment_seconds must be an integer") !=
        std::string::npos);
  CHECK(error_of("[recorder]\narchive_dir = \"\"\n").find("recorder.archive_dir must not be empty") !=
        std::string::npos);
  CHECK(error_of("[recorder]\ndocuments_dir = 5\n").find("recorder.documents_dir must be a string") !=
        std::string::npos);
  CHECK(error_of("[recorder]\narchive = \"x\"\n") ==
        "test.toml: unknown key \"archive\" in [recorder] (line 2); allowed keys are: archive_dir, documents_dir, "
        "segment_seconds, no_video_ms");
  CHECK(error_of("recorder = 5\n").find("[recorder] must be a table") != std::string::npos);
}

TEST_CASE("Config: an [[officer]] may be an archivist") {
  auto c = parse_config("[[officer]]\nusername = \"dang\"\nrole = \"archivist\"\npassword = \"archivist-pass-1\"\n",
                        "/srv", "test.toml");
  REQUIRE(c.officers.size() == 1);
  CHECK(c.officers[0].role == AccountRole::Archivist);
  CHECK(std::string(to_string(AccountRole::Archivist)) == "archivist");
  CHECK(account_role_from_string("archivist") == std::optional<AccountRole>(AccountRole::Archivist));
  CHECK(error_of("[[officer]]\nusername = \"w\"\nrole = \"archive\"\npassword = \"long-enough-1\"\n")
            .find("is not one of officer, admin, archivist") != std::string::npos);
}
