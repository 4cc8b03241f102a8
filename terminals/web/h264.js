// Video codec order for the pages' transceivers: H.264 constrained baseline
// 42e01f with packetization-mode=1 first (what the native terminals send and
// the relay forwards without decoding), then other H.264 with
// packetization-mode=1, then everything else in the browser's order.

function fmtp(codec) {
  const out = {};
  for (const part of (codec.sdpFmtpLine || '').split(';')) {
    const [k, v] = part.split('=');
    if (k) out[k.trim().toLowerCase()] = (v ?? '').trim().toLowerCase();
  }
  return out;
}

function videoCodecRank(codec) {
  if (codec.mimeType.toLowerCase() !== 'video/h264') return 2;
  const f = fmtp(codec);
  if (f['packetization-mode'] !== '1') return 2;
  return f['profile-level-id'] === '42e01f' ? 0 : 1;
}

// Sets the order on `transceiver`. Returns { ok, codecs } where ok says
// whether the first is 42e01f packetization-mode=1, or { error } when the
// browser cannot set preferences; null when it has no such API.
export function preferH264(transceiver) {
  if (typeof transceiver.setCodecPreferences !== 'function' || !window.RTCRtpReceiver?.getCapabilities) return null;
  const sorted = (RTCRtpReceiver.getCapabilities('video')?.codecs ?? [])
    .map((c, i) => ({ c, i, r: videoCodecRank(c) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.c);
  const ok = sorted.length > 0 && videoCodecRank(sorted[0]) === 0;
  try {
    transceiver.setCodecPreferences(sorted);
  } catch (e) {
    return { ok, error: e.message };
  }
  return { ok, codecs: sorted.slice(0, 3).map((c) => `${c.mimeType} ${c.sdpFmtpLine || ''}`) };
}
