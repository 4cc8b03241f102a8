#pragma once
// Runs one store operation and turns SQLiteCpp's exceptions into StoreError
// naming the operation ("store: storing a notice failed: ..."). Shared by the
// SQLite repositories.

#include <SQLiteCpp/Exception.h>
#include <fmt/format.h>

#include "signaling/errors.hpp"

namespace huijian::signaling {

template <typename F>
auto sqlite_guarded(const char* what, F&& f) {
  try {
    return f();
  } catch (const SQLite::Exception& e) {
    throw StoreError(fmt::format("store: {} failed: {}", what, e.what()));
  }
}

}  // namespace huijian::signaling
