#include "terminals/pipeline_description.hpp"

#include <fmt/format.h>

#include <set>
#include <sstream>
#include <vector>

namespace huijian::terminals {

namespace {

constexpr const char* kFont = "Noto Sans CJK SC, 28";

std::string video_source(const MediaConfig& c) {
  std::string raw_caps = fmt::format("video/x-raw,width={},height={},framerate={}/1", c.width, c.height, c.fps);
  std::string src;
  if (c.source == SourceKind::camera) {
    src = "v4l2src";
    if (!c.camera_device.empty()) src += fmt::format(" device=\"{}\"", c.camera_device);
    src += " ! videoconvert ! videoscale ! videorate ! " + raw_caps;
  } else {
    src = "videotestsrc is-live=true pattern=ball ! " + raw_caps;
  }
  return src +
         fmt::format(
             " ! textoverlay name={} valignment=top halignment=left font-desc=\"{}\" shaded-background=true text=\"\""
             " ! textoverlay name={} valignment=top halignment=right font-desc=\"{}\" shaded-background=true "
             "text=\"\""
             " ! textoverlay name={} valignment=bottom halignment=center font-desc=\"{}\" shaded-background=true "
             "text=\"\""
             " ! videoconvert ! video/x-raw,format=I420"
             " ! queue max-size-buffers=2 max-size-time=0 max-size-bytes=0 leaky=downstream"
             " ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={} bitrate={}"
             " ! video/x-h264,profile=constrained-baseline ! h264parse",
             element::name_overlay, kFont, element::clock_overlay, kFont, element::notice_overlay, kFont, 2 * c.fps,
             c.bitrate_kbps);
}

std::string file_source() {
  // Pre-encoded H.264 in Matroska, sent as it is: identity sync=true paces it
  // to the pipeline clock like a live source.
  return fmt::format(
      "filesrc name={} ! matroskademux ! queue max-size-time=2000000000 ! h264parse ! "
      "video/x-h264,stream-format=avc,alignment=au ! identity sync=true",
      element::file_source);
}

}  // namespace

MediaConfig media_config_from(const TerminalOptions& o) {
  MediaConfig c;
  c.source = o.source;
  c.camera_device = o.camera_device;
  c.width = o.width;
  c.height = o.height;
  c.fps = o.fps;
  c.bitrate_kbps = o.bitrate_kbps;
  c.headless = o.headless;
  c.self_test = o.self_test_s.has_value();
  c.ice_addresses = o.ice_addresses;
  return c;
}

std::string describe_pipeline(const MediaConfig& c) {
  std::string video = c.source == SourceKind::file ? file_source() : video_source(c);
  video += fmt::format(
      " ! rtph264pay name={} config-interval=-1 aggregate-mode=zero-latency pt={}"
      " ! application/x-rtp,media=video,encoding-name=H264,payload={},clock-rate=90000",
      element::video_pay, kVideoPayloadType, kVideoPayloadType);

  std::string mic = c.source == SourceKind::camera ? "autoaudiosrc" : "audiotestsrc is-live=true wave=ticks";
  std::string audio = fmt::format(
      "{} ! audioconvert ! audioresample ! audio/x-raw,rate=48000,channels=1"
      " ! webrtcdsp probe={} echo-cancel=true ! audioconvert"
      " ! opusenc bitrate=48000 frame-size=20 ! rtpopuspay name={} pt={}"
      " ! application/x-rtp,media=audio,encoding-name=OPUS,payload={},clock-rate=48000",
      mic, element::echo_probe, element::audio_pay, kAudioPayloadType, kAudioPayloadType);

  // Playback tail: always there, so webrtcdsp finds its echo probe at start;
  // remote audio is mixed in when it arrives, silence until then.
  std::string speaker = c.headless || c.self_test ? "fakesink sync=false async=false" : "autoaudiosink";
  std::string playback = fmt::format(
      "audiotestsrc is-live=true wave=silence ! audio/x-raw,rate=48000,channels=2 ! audiomixer name={}"
      " ! audioconvert ! audioresample ! webrtcechoprobe name={} ! audioconvert ! audioresample ! {}",
      element::playback_mixer, element::echo_probe, speaker);

  if (c.self_test) {
    return video + " ! fakesink sync=false async=false  " + audio + " ! fakesink sync=false async=false  " + playback;
  }
  return fmt::format("webrtcbin name={} bundle-policy=max-bundle latency=200  ", element::webrtc) + video +
         " ! queue name=vsendqueue ! " + element::webrtc + ".  " + audio + " ! queue ! " + element::webrtc + ".  " + playback;
}

std::string officer_voice_caps() {
  // encoding-params: the relay accepts Opus only as OPUS/48000/2 in rtpmap.
  return fmt::format("application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,encoding-params=(string)2,"
                     "payload={}",
                     kOfficerVoicePayloadType);
}

std::string describe_receive_branch(bool video, bool headless) {
  if (video) {
    return std::string("queue ! rtph264depay ! h264parse ! avdec_h264 name=remote_vdec ! videoconvert"
                       " ! queue name=remote_vqueue max-size-buffers=3 leaky=downstream ! ") +
           (headless ? "fakesink sync=false async=false" : "autovideosink sync=true");
  }
  return "queue ! rtpopusdepay ! opusdec ! audioconvert ! audioresample"
         " ! audio/x-raw,rate=48000,channels=2 ! queue name=remote_aqueue";
}

std::string fix_h264_fmtp(std::string_view sdp) {
  // First pass: which payload types are H264 (a=rtpmap:<pt> H264/90000)?
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  while (pos < sdp.size()) {
    std::size_t eol = sdp.find('\n', pos);
    if (eol == std::string_view::npos) {
      lines.push_back(sdp.substr(pos));
      break;
    }
    lines.push_back(sdp.substr(pos, eol + 1 - pos));
    pos = eol + 1;
  }
  auto body = [](std::string_view line) {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    return line;
  };
  std::set<std::string, std::less<>> h264_pts;
  for (auto raw : lines) {
    auto line = body(raw);
    if (line.rfind("a=rtpmap:", 0) != 0) continue;
    auto space = line.find(' ');
    if (space == std::string_view::npos) continue;
    auto codec = line.substr(space + 1);
    if (codec.size() >= 5 && (codec.substr(0, 5) == "H264/" || codec.substr(0, 5) == "h264/"))
      h264_pts.emplace(line.substr(9, space - 9));
  }
  std::string out;
  out.reserve(sdp.size() + 64);
  for (auto raw : lines) {
    auto line = body(raw);
    std::string_view ending = raw.substr(line.size());
    if (line.rfind("a=fmtp:", 0) == 0) {
      auto space = line.find(' ');
      if (space != std::string_view::npos && h264_pts.count(line.substr(7, space - 7))) {
        std::string params;
        bool have_asymmetry = false;
        bool have_profile = false;
        std::string_view rest = line.substr(space + 1);
        std::size_t p = 0;
        while (p <= rest.size()) {
          std::size_t semi = rest.find(';', p);
          std::string_view item = rest.substr(p, semi == std::string_view::npos ? std::string_view::npos : semi - p);
          while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
          if (!item.empty()) {
            std::string value(item);
            if (item.rfind("profile-level-id=", 0) == 0) {
              value = std::string("profile-level-id=") + kH264ProfileLevelId;
              have_profile = true;
            } else if (item.rfind("level-asymmetry-allowed=", 0) == 0) {
              value = "level-asymmetry-allowed=1";
              have_asymmetry = true;
            }
            if (!params.empty()) params += ';';
            params += value;
          }
          if (semi == std::string_view::npos) break;
          p = semi + 1;
        }
        if (!have_profile) params += std::string(params.empty() ? "" : ";") + "profile-level-id=" + kH264ProfileLevelId;
        if (!have_asymmetry) params += ";level-asymmetry-allowed=1";
        out += std::string(line.substr(0, space + 1)) + params + std::string(ending);
        continue;
      }
    }
    out += std::string(raw);
  }
  return out;
}

}  // namespace huijian::terminals
