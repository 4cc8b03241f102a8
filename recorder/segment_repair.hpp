#pragma once
// Rewrites a Matroska segment that was cut short (the server was killed, or
// the disk filled up) into a whole file: demux, parse, mux again, no
// decoding. What the cut file held plays; the index and the duration are
// written properly.

#include <filesystem>
#include <optional>
#include <string>

namespace huijian::recorder {

// Remuxes `file` in place (through file + ".repair"). Returns an error text,
// or nullopt when the file was rewritten.
std::optional<std::string> repair_segment(const std::filesystem::path& file);

}  // namespace huijian::recorder
