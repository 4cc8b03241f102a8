#!/usr/bin/env node
// Drives the browser lawyer terminal (huijiand's /lawyer.html) in Debian's
// Chromium with fake camera and microphone, waits until the meeting is
// connected, samples RTCPeerConnection.getStats() for a while and writes a
// JSON report.
//
//   node lawyer_meeting.mjs --url 'https://127.0.0.1:18443/lawyer.html?device=lawyer-1&secret=s1&auto=1' \
//        [--seconds 10] [--out report.json] [--connect-timeout 60] [--timeout SECONDS]
//        [--screenshot shot.png] [--no-end] [--chromium /usr/bin/chromium]
//
// Exit code: 0 when the meeting connected and was sampled, 1 when it did not
// connect (or the page failed), 2 for bad arguments, 3 when the hard timeout
// (--timeout, default seconds + connect-timeout + 60) fired. The browser is
// always closed and its profile directory removed. The report is written in
// every case.

import fs from 'node:fs';

import { launchChromium, capturePage } from './chromium.mjs';

function usage(msg) {
  if (msg) console.error(`lawyer_meeting: ${msg}`);
  console.error('usage: lawyer_meeting.mjs --url URL [--seconds N] [--out FILE] [--connect-timeout S] '
    + '[--timeout S] [--screenshot FILE] [--no-end] [--chromium PATH]');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    url: null, seconds: 10, out: null, connectTimeout: 60, timeout: null,
    screenshot: null, end: true, chromium: '/usr/bin/chromium',
  };
  const number = (name, v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || n > 3600) usage(`${name} needs a number of seconds in (0, 3600], got "${v}"`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--url': opts.url = value(); break;
      case '--seconds': opts.seconds = number(a, value()); break;
      case '--out': opts.out = value(); break;
      case '--connect-timeout': opts.connectTimeout = number(a, value()); break;
      case '--timeout': opts.timeout = number(a, value()); break;
      case '--screenshot': opts.screenshot = value(); break;
      case '--no-end': opts.end = false; break;
      case '--chromium': opts.chromium = value(); break;
      case '-h': case '--help': usage();
      default: usage(`unknown argument "${a}"`);
    }
  }
  if (!opts.url) usage('--url is required');
  let u;
  try { u = new URL(opts.url); } catch { usage(`--url is not a URL: ${opts.url}`); }
  // Network rule: the browser talks to loopback only.
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) usage(`--url must point at loopback, got ${u.hostname}`);
  if (opts.timeout === null) opts.timeout = opts.seconds + opts.connectTimeout + 60;
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const redact = (url) => url.replace(/([?&]secret=)[^&#]*/g, '$1***');

const startedAt = Date.now();
const report = {
  ok: false,
  exit_reason: null,
  url: redact(opts.url),
  started_at: new Date(startedAt).toISOString(),
  time_to_connected_ms: null,
  time_to_first_remote_frame_ms: null,
  sampled_seconds: 0,
  video_in: null,
  audio_in: null,
  video_out: null,
  audio_out: null,
  selected_candidate_pair: null,
  meeting_states: [],
  connection_states: [],
  ended: null,
  errors: [],
  samples: [],
  events: [],
  console: [],
};

let context = null;
let profileDir = null;
let finished = false;

function writeReport() {
  const text = JSON.stringify(report, null, 2) + '\n';
  if (opts.out) fs.writeFileSync(opts.out, text);
  else process.stdout.write(text);
}

async function closeBrowser() {
  const ctx = context;
  context = null;
  if (ctx) {
    await Promise.race([ctx.close().catch(() => {}), sleep(10000)]);
  }
  if (profileDir) {
    fs.rmSync(profileDir, { recursive: true, force: true });
    profileDir = null;
  }
}

async function finish(code, reason) {
  if (finished) return;
  finished = true;
  report.exit_reason = reason;
  report.ok = code === 0;
  clearTimeout(hardTimer);
  try { writeReport(); } catch (e) { console.error(`lawyer_meeting: cannot write report: ${e.message}`); }
  await closeBrowser();
  console.error(`lawyer_meeting: ${reason} (exit ${code})`);
  process.exit(code);
}

let page = null;
const hardTimer = setTimeout(async () => {
  report.errors.push(`hard timeout after ${opts.timeout} s`);
  if (page) absorb(await Promise.race([page.evaluate(pageState).catch(() => null), sleep(2000)]));
  finish(3, 'hard timeout').catch(() => process.exit(3));
}, opts.timeout * 1000);

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { report.errors.push(`got ${sig}`); finish(1, `killed by ${sig}`).catch(() => process.exit(1)); });
}

// Runs in the page: one compact summary of pc.getStats().
async function pageStats() {
  const h = window.huijian;
  const pc = h && h.pc;
  if (!pc) return null;
  let stats;
  try {
    stats = await pc.getStats();
  } catch (e) {
    return { error: String(e && e.message) };
  }
  const all = new Map();
  stats.forEach((s) => all.set(s.id, s));
  const codec = (s) => {
    const c = s && s.codecId ? all.get(s.codecId) : null;
    return c ? { mime_type: c.mimeType, sdp_fmtp_line: c.sdpFmtpLine ?? null, payload_type: c.payloadType } : null;
  };
  const out = { t: Date.now(), video_in: null, audio_in: null, video_out: null, audio_out: null, pair: null };
  for (const s of all.values()) {
    if (s.type === 'inbound-rtp' && s.kind === 'video') {
      out.video_in = {
        frames_decoded: s.framesDecoded ?? 0, frames_received: s.framesReceived ?? 0,
        key_frames_decoded: s.keyFramesDecoded ?? 0, frame_width: s.frameWidth ?? 0, frame_height: s.frameHeight ?? 0,
        frames_per_second: s.framesPerSecond ?? 0, packets_received: s.packetsReceived ?? 0,
        packets_lost: s.packetsLost ?? 0, bytes_received: s.bytesReceived ?? 0, freeze_count: s.freezeCount ?? 0,
        nack_count: s.nackCount ?? 0, pli_count: s.pliCount ?? 0, decoder: s.decoderImplementation ?? null,
        codec: codec(s),
      };
    } else if (s.type === 'inbound-rtp' && s.kind === 'audio') {
      out.audio_in = {
        packets_received: s.packetsReceived ?? 0, packets_lost: s.packetsLost ?? 0,
        bytes_received: s.bytesReceived ?? 0, jitter: s.jitter ?? null, codec: codec(s),
      };
    } else if (s.type === 'outbound-rtp' && s.kind === 'video') {
      out.video_out = {
        frame_width: s.frameWidth ?? 0, frame_height: s.frameHeight ?? 0, frames_encoded: s.framesEncoded ?? 0,
        frames_sent: s.framesSent ?? 0, frames_per_second: s.framesPerSecond ?? 0, packets_sent: s.packetsSent ?? 0,
        bytes_sent: s.bytesSent ?? 0, target_bitrate: s.targetBitrate ?? null,
        quality_limitation_reason: s.qualityLimitationReason ?? null, encoder: s.encoderImplementation ?? null,
        nack_count: s.nackCount ?? 0, pli_count: s.pliCount ?? 0, codec: codec(s),
      };
    } else if (s.type === 'outbound-rtp' && s.kind === 'audio') {
      out.audio_out = { packets_sent: s.packetsSent ?? 0, bytes_sent: s.bytesSent ?? 0, codec: codec(s) };
    } else if (s.type === 'transport' && s.selectedCandidatePairId) {
      const p = all.get(s.selectedCandidatePairId);
      const l = p && all.get(p.localCandidateId);
      const r = p && all.get(p.remoteCandidateId);
      out.pair = p ? {
        state: p.state,
        local: l ? `${l.address}:${l.port}/${l.protocol} ${l.candidateType}` : null,
        remote: r ? `${r.address}:${r.port}/${r.protocol} ${r.candidateType}` : null,
        current_round_trip_time: p.currentRoundTripTime ?? null,
        available_outgoing_bitrate: p.availableOutgoingBitrate ?? null,
        dtls_state: s.dtlsState, srtp_cipher: s.srtpCipher ?? null, tls_version: s.tlsVersion ?? null,
      } : null;
    }
  }
  return out;
}

function pageState() {
  const h = window.huijian;
  if (!h) return null;
  return {
    state: h.state, connectedAt: h.connectedAt, endedAt: h.endedAt, endReason: h.endReason,
    errors: h.errors.slice(), events: h.events.slice(),
  };
}

function absorb(st) {
  if (!st) return;
  report.events = st.events;
  report.meeting_states = st.events.filter((e) => e.kind === 'state').map((e) => ({ state: e.state, at: e.at, by: e.by ?? null }));
  report.connection_states = st.events
    .filter((e) => e.kind === 'pc' || (e.kind === 'ice' && (e.iceConnectionState || e.iceGatheringState)))
    .map((e) => ({ at: e.at, state: e.connectionState ?? e.iceConnectionState ?? e.iceGatheringState ?? (e.closed ? 'closed' : null), kind: e.connectionState ? 'peer' : e.iceConnectionState ? 'ice' : e.iceGatheringState ? 'gathering' : 'peer' }));
  for (const e of st.errors) {
    const text = `page: ${e.text}`;
    if (!report.errors.includes(text)) report.errors.push(text);
  }
}

function absorbSample(s) {
  if (!s || s.error) return;
  report.samples.push(s);
  if (report.samples.length > 600) report.samples.shift();
  if (s.video_in) {
    const prev = report.video_in;
    report.video_in = { ...s.video_in, max_frame_width: Math.max(prev?.max_frame_width ?? 0, s.video_in.frame_width), max_frame_height: Math.max(prev?.max_frame_height ?? 0, s.video_in.frame_height) };
  }
  if (s.audio_in) report.audio_in = s.audio_in;
  if (s.video_out) {
    report.video_out = {
      ...s.video_out,
      mime_type: s.video_out.codec?.mime_type ?? null,
      sdp_fmtp_line: s.video_out.codec?.sdp_fmtp_line ?? null,
      max_frame_width: Math.max(report.video_out?.max_frame_width ?? 0, s.video_out.frame_width),
    };
  }
  if (s.audio_out) report.audio_out = s.audio_out;
  if (s.pair) report.selected_candidate_pair = s.pair;
}

async function main() {
  ({ context, profileDir } = await launchChromium(opts.chromium, { fps: 30 }));
  page = context.pages()[0] ?? await context.newPage();
  capturePage(page, report, '');

  const resp = await page.goto(opts.url, { waitUntil: 'load', timeout: 20000 });
  if (!resp || !resp.ok()) {
    report.errors.push(`GET ${redact(opts.url)} -> ${resp ? resp.status() : 'no response'}`);
    return finish(1, 'page did not load');
  }

  // Wait for the meeting to connect (or end, or the hard stop).
  try {
    await page.waitForFunction(() => ['connected', 'ended', 'disconnected'].includes(window.huijian?.state),
      null, { timeout: opts.connectTimeout * 1000, polling: 100 });
  } catch {
    absorb(await page.evaluate(pageState).catch(() => null));
    if (opts.screenshot) await page.screenshot({ path: opts.screenshot }).catch(() => {});
    return finish(1, `meeting not connected within ${opts.connectTimeout} s (state ${report.meeting_states.at(-1)?.state ?? 'unknown'})`);
  }
  let st = await page.evaluate(pageState);
  absorb(st);
  if (st.state !== 'connected') {
    if (opts.screenshot) await page.screenshot({ path: opts.screenshot }).catch(() => {});
    return finish(1, `meeting went to "${st.state}" instead of connected`);
  }
  const connectedAt = Date.now();
  report.time_to_connected_ms = connectedAt - startedAt;

  // Sample: every 250 ms until the first remote frame is decoded, then every second.
  const sampleUntil = connectedAt + opts.seconds * 1000;
  while (Date.now() < sampleUntil) {
    const s = await page.evaluate(pageStats);
    absorbSample(s);
    if (report.time_to_first_remote_frame_ms === null && s?.video_in?.frames_decoded > 0) {
      report.time_to_first_remote_frame_ms = Date.now() - connectedAt;
    }
    const state = await page.evaluate(() => window.huijian.state);
    if (state !== 'connected') {
      absorb(await page.evaluate(pageState));
      report.errors.push(`meeting left connected state early: ${state}`);
      break;
    }
    await sleep(report.time_to_first_remote_frame_ms === null ? 250 : 1000);
  }
  report.sampled_seconds = Math.round((Date.now() - connectedAt) / 100) / 10;
  if (opts.screenshot) await page.screenshot({ path: opts.screenshot }).catch((e) => report.errors.push(`screenshot: ${e.message}`));

  // End the meeting from this side so the other terminal ends normally too.
  if (opts.end) {
    const sent = await page.evaluate(() => window.huijian.state === 'connected' && window.huijian.end('测试结束 · test finished'));
    if (sent) {
      try {
        await page.waitForFunction(() => window.huijian.state === 'ended', null, { timeout: 10000, polling: 100 });
      } catch {
        report.errors.push('meeting did not reach "ended" within 10 s after end was sent');
      }
    }
  }
  st = await page.evaluate(pageState);
  absorb(st);
  report.ended = st.state === 'ended' ? { at: st.endedAt ? new Date(st.endedAt).toISOString() : null, reason: st.endReason } : null;
  return finish(0, report.errors.length ? 'sampled, with errors' : 'sampled');
}

main().catch((e) => {
  report.errors.push(`driver: ${e.message}`);
  return finish(1, 'driver failed');
});
