#pragma once
// The GStreamer pipeline of a terminal as gst-launch text, and the one fix-up
// the offer SDP needs. Pure functions, so the choices are unit-tested.

#include "terminals/terminal_options.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace huijian::terminals {

struct MediaConfig {
  SourceKind source = SourceKind::test;
  std::string camera_device;  // v4l2src device; empty = default
  int width = 1920;
  int height = 1080;
  int fps = 30;
  int bitrate_kbps = 4000;
  bool headless = false;      // fakesink instead of autovideosink/autoaudiosink
  bool self_test = false;     // no webrtcbin: payloaders feed fakesinks
  std::vector<std::string> ice_addresses;  // empty = all interfaces
};

MediaConfig media_config_from(const TerminalOptions& options);

// Element names the code looks up in the parsed pipeline.
namespace element {
inline constexpr const char* webrtc = "webrtc";
inline constexpr const char* file_source = "filesrc";        // location set after parsing
inline constexpr const char* name_overlay = "nameoverlay";   // device name
inline constexpr const char* clock_overlay = "clockoverlay"; // call time / status
inline constexpr const char* notice_overlay = "noticeoverlay"; // supervision: notices, warnings, end reason
inline constexpr const char* video_pay = "vpay";
inline constexpr const char* audio_pay = "apay";
inline constexpr const char* echo_probe = "echoprobe";
inline constexpr const char* playback_mixer = "playmix";
}  // namespace element

inline constexpr int kVideoPayloadType = 102;
inline constexpr int kAudioPayloadType = 111;
// The officer's voice arrives on a third, recvonly audio m-line (see
// docs/protocol.md "The officer's voice (terminals)"). Opus like the
// conversation, but on its own payload type, so webrtcbin can tell the two
// audio streams apart by payload type as well as by the SSRCs of the answer.
inline constexpr int kOfficerVoicePayloadType = 110;
static_assert(kOfficerVoicePayloadType != kAudioPayloadType && kOfficerVoicePayloadType != kVideoPayloadType);
inline constexpr const char* kH264ProfileLevelId = "42e01f";

// The sending side (+ the audio playback tail that carries the echo probe).
std::string describe_pipeline(const MediaConfig& config);

// The caps of the recvonly officer-voice transceiver (webrtcbin
// "add-transceiver"): Opus 48000/2 on kOfficerVoicePayloadType.
std::string officer_voice_caps();

// The decoding branch for one incoming stream, as bin text with one unlinked
// sink pad. `video` picks the H.264 or the Opus branch; the officer's voice
// uses the Opus branch too and is mixed into the same playback.
std::string describe_receive_branch(bool video, bool headless);

// webrtcbin writes the profile-level-id of the SPS (e.g. 42c028 for 1080p,
// level 4) into the offer; the server's rule is the WebRTC baseline
// 42e01f with level-asymmetry-allowed=1. Rewrites every H.264 fmtp line of
// the SDP that way and leaves all other lines untouched.
std::string fix_h264_fmtp(std::string_view sdp);

}  // namespace huijian::terminals
