#pragma once
// One object of a kind per GMainContext (a worker's socket reader, its timer
// queue), made on first use and shared by everything on that context; it
// lives while some user holds it, and a later user gets a new one.

#include <glib.h>

#include <map>
#include <memory>
#include <mutex>

namespace huijian::media {

template <class T>
class ContextRegistry {
 public:
  // The live object of `context`, or the one `make()` returns, kept for the next caller.
  template <class Make>
  std::shared_ptr<T> get(GMainContext* context, Make make) {
    std::lock_guard lock(mutex_);
    auto& slot = slots_[context];
    if (auto existing = slot.lock()) return existing;
    std::shared_ptr<T> made = make();
    slot = made;
    return made;
  }

 private:
  std::mutex mutex_;
  std::map<GMainContext*, std::weak_ptr<T>> slots_;
};

}  // namespace huijian::media
