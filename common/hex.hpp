#pragma once
// Bytes as lowercase hexadecimal: digests, token hashes, key ids.

#include <cstddef>
#include <string>

namespace huijian::common {

std::string to_hex(const unsigned char* data, std::size_t size);

}  // namespace huijian::common
