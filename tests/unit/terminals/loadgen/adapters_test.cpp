#include <catch2/catch.hpp>

#include <toml++/toml.h>

#include "terminals/loadgen/huijian_adapter.hpp"
#include "terminals/loadgen/janus_adapter.hpp"

using namespace huijian::terminals::loadgen;

TEST_CASE("huijian_devices_toml: one lawyer, one detainee and one meeting per synthetic meeting") {
  const auto text = huijian_devices_toml(3, "s3cret");
  const auto table = toml::parse(text);
  const auto* devices = table["device"].as_array();
  const auto* meetings = table["meeting"].as_array();
  REQUIRE(devices);
  REQUIRE(meetings);
  CHECK(devices->size() == 6);
  CHECK(meetings->size() == 3);
  const auto& second = *meetings->get(1)->as_table();
  CHECK(second["id"].value<std::string>() == "lg-m-2");
  CHECK(second["lawyer_device"].value<std::string>() == "lg-lawyer-2");
  CHECK(second["detainee_device"].value<std::string>() == "lg-detainee-2");
  const auto& first_device = *devices->get(0)->as_table();
  CHECK(first_device["secret"].value<std::string>() == "s3cret-lg-lawyer-1");
  CHECK(first_device["role"].value<std::string>() == "lawyer-terminal");
}

TEST_CASE("parse_janus_url: splits host, port and base path") {
  auto url = parse_janus_url("http://127.0.0.1:8088/janus");
  CHECK(url.host == "127.0.0.1");
  CHECK(url.port == "8088");
  CHECK(url.base == "/janus");
  auto v6 = parse_janus_url("http://[::1]:9000/janus/");
  CHECK(v6.host == "::1");
  CHECK(v6.base == "/janus");
}

TEST_CASE("parse_janus_url: refuses other schemes and hosts that are not loopback") {
  CHECK_THROWS_AS(parse_janus_url("https://127.0.0.1:8089/janus"), AdapterError);
  CHECK_THROWS_WITH(parse_janus_url("http://203.0.113.7:8088/janus"), Catch::Contains("loopback"));
  CHECK_THROWS_AS(parse_janus_url("http://:8088/janus"), AdapterError);
}
