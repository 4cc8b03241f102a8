#include "recorder/file_digest.hpp"

#include "scratch_dir.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <string>

using huijian::recorder::sha256_file_hex;
using huijian::recorder::sha256_hex;
using huijian::recorder::testing::ScratchDir;

namespace {
void write_file(const std::filesystem::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary);
  out << bytes;
}
}  // namespace

TEST_CASE("sha256_hex: matches the FIPS 180-2 vectors", "[file_digest]") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("sha256_file_hex: digests the whole file across chunk boundaries", "[file_digest]") {
  ScratchDir dir("digest");
  // One million 'a' (FIPS 180-2 vector), spanning 16 chunks of 64 KiB with a partial last one.
  const std::string million(1000000, 'a');
  write_file(dir.path() / "million", million);
  CHECK(sha256_file_hex(dir.path() / "million") ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Exactly one chunk, and the string and file digests agree.
  const std::string chunk(64 * 1024, '\x5a');
  write_file(dir.path() / "chunk", chunk);
  CHECK(sha256_file_hex(dir.path() / "chunk") == sha256_hex(chunk));
  write_file(dir.path() / "empty", "");
  CHECK(sha256_file_hex(dir.path() / "empty") == sha256_hex(""));
}

TEST_CASE("sha256_file_hex: names a file it cannot read", "[file_digest]") {
  ScratchDir dir("digest");
  const auto missing = dir.path() / "no-such-segment.mkv";
  CHECK_THROWS_WITH(sha256_file_hex(missing), Catch::Contains("no-such-segment.mkv"));
  CHECK_THROWS_AS(sha256_file_hex(dir.path()), std::runtime_error);  // a directory is not readable as a file
}
