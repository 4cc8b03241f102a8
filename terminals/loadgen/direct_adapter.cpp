#include "terminals/loadgen/direct_adapter.hpp"

#include <future>
#include <memory>

#include "terminals/loadgen/load_run.hpp"

namespace huijian::terminals::loadgen {

void DirectAdapter::set_up(LoadRun& run, std::size_t meetings, std::chrono::steady_clock::time_point deadline) {
  auto wait = [&](std::future<std::string>& ready, const std::string& what) {
    if (ready.wait_until(deadline) != std::future_status::ready)
      throw AdapterError("timed out waiting for the " + what + " to gather its candidates");
    return ready.get();
  };
  for (std::size_t i = 0; i < meetings; ++i) {
    const std::string where = "meeting " + std::to_string(i + 1) + ": ";
    try {
      auto offer_promise = std::make_shared<std::promise<std::string>>();
      auto offer_ready = offer_promise->get_future();
      run.worker().call([&] {
        run.peer(i, Party::Lawyer).create_offer([offer_promise](std::string sdp) { offer_promise->set_value(sdp); });
      });
      const std::string offer = wait(offer_ready, "lawyer's offer");
      auto answer_promise = std::make_shared<std::promise<std::string>>();
      auto answer_ready = answer_promise->get_future();
      run.worker().call([&] {
        run.peer(i, Party::Detainee).answer_offer(offer, [answer_promise](std::string sdp) {
          answer_promise->set_value(sdp);
        });
      });
      const std::string answer = wait(answer_ready, "detainee's answer");
      run.worker().call([&] { run.peer(i, Party::Lawyer).accept_answer(answer); });
    } catch (const std::exception& e) {
      throw AdapterError(where + e.what());
    }
    const std::string failure = run.first_failure();
    if (!failure.empty()) throw AdapterError(failure);
  }
}

}  // namespace huijian::terminals::loadgen
