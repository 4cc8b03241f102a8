// libFuzzer target: parse_sdp, choose_sections and build_answer on hostile
// text. Whatever the relay answers must parse again and pass its own rules.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "media/sdp.hpp"

using namespace huijian::media;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  SessionDescription offer;
  std::vector<AcceptedSection> accepted;
  try {
    offer = parse_sdp(text);
    accepted = choose_sections(offer);
  } catch (const SdpError&) {
    return 0;
  }
  AnswerParams params;
  params.ice_ufrag = "fuzzUfrag";
  params.ice_pwd = "fuzzPasswordOf24Chars000";
  params.fingerprint_sha256 = "00:11:22:33";
  params.cname = "cname";
  params.stream_id = "stream";
  for (const AcceptedSection& section : accepted) {
    params.outgoing.push_back({section.mid, 1000 + static_cast<std::uint32_t>(section.index), Direction::SendRecv});
  }
  std::string answer;
  try {
    answer = build_answer(offer, accepted, params);
  } catch (const SdpError&) {
    std::abort();  // every accepted section has an Outgoing entry: must not fail
  }
  try {
    const SessionDescription reparsed = parse_sdp(answer);
    if (choose_sections(reparsed).size() != accepted.size()) {
      std::abort();
    }
  } catch (const SdpError&) {
    std::abort();
  }
  return 0;
}
