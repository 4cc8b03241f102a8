#include "media/media_worker.hpp"

namespace huijian::media {

namespace {

gboolean run_task(gpointer data) {
  (*static_cast<std::function<void()>*>(data))();
  return G_SOURCE_REMOVE;
}

void delete_task(gpointer data) { delete static_cast<std::function<void()>*>(data); }

}  // namespace

MediaWorker::MediaWorker(std::string name)
    : name_(std::move(name)), context_(g_main_context_new()), loop_(g_main_loop_new(context_.get(), FALSE)) {
  thread_ = std::thread([this] {
    g_main_context_push_thread_default(context_.get());
    g_main_loop_run(loop_.get());
    // Run what is still queued (peer tear-down) before leaving.
    while (g_main_context_iteration(context_.get(), FALSE)) {
    }
    g_main_context_pop_thread_default(context_.get());
  });
}

MediaWorker::~MediaWorker() {
  post([this] { g_main_loop_quit(loop_.get()); });
  if (thread_.joinable()) thread_.join();
}

void MediaWorker::post(std::function<void()> task) {
  auto* heap = new std::function<void()>(std::move(task));
  g_main_context_invoke_full(context_.get(), G_PRIORITY_DEFAULT, run_task, heap, delete_task);
}

}  // namespace huijian::media
