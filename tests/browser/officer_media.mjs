#!/usr/bin/env node
// Drives the officer console (/officer.html) in Debian's Chromium against a
// huijiand whose meeting m-1 runs between two native terminals, and checks
// the console's media: the pictures of both parties arrive, no sound reaches
// the officer, and the push-to-talk voice goes out.
//
//   node officer_media.mjs --base https://127.0.0.1:PORT --officer wang --password P \
//        [--meeting m-1] [--talk-seconds 3] [--out report.json] [--timeout 150]
//        [--screenshot shot.png] [--chromium /usr/bin/chromium]
//
// Steps, each bounded in time:
//  1. the officer signs in through the form and sees the meeting connected;
//  2. the console watches it: both pictures decode (framesDecoded > 0), the
//     <video> elements show them;
//  3. no sound for the officer: no inbound-rtp audio in getStats(), no audio
//     m-line of the officer's offer is recvonly/sendrecv, the server's answer
//     has its audio recvonly or rejected;
//  4. push-to-talk: the talk button is held --talk-seconds with real mouse
//     events (talk_start_ms just before the press, talk_stop_ms right after
//     the release, both Date.now() in the page); then 3 s without talking;
//     still no inbound audio;
//  5. terminate with violation_phone: the first press arms, the second
//     confirms (terminate_click_ms = Date.now() in the page right before it);
//     the tile goes away.
// The report (--out) has the times, the pictures' numbers, the audio samples
// and the SDP checks; the Python test (supervision_officer_media.py) compares
// the times with the terminals' reports.
//
// Exit code: 0 when every step passed, 1 when one failed, 2 for bad
// arguments, 3 when the hard timeout fired. The browser is always closed and
// its profile removed; the report is always written.

import fs from 'node:fs';

import { launchChromium, closeChromium, capturePage, stepper } from './chromium.mjs';

const opts = {
  base: null, officer: null, password: null, meeting: 'm-1', talkSeconds: 3,
  out: null, timeout: 150, screenshot: null, chromium: '/usr/bin/chromium',
};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const value = () => {
    if (i + 1 >= process.argv.length) { console.error(`${a} needs a value`); process.exit(2); }
    return process.argv[++i];
  };
  switch (a) {
    case '--base': opts.base = value(); break;
    case '--officer': opts.officer = value(); break;
    case '--password': opts.password = value(); break;
    case '--meeting': opts.meeting = value(); break;
    case '--talk-seconds': opts.talkSeconds = Number(value()); break;
    case '--out': opts.out = value(); break;
    case '--timeout': opts.timeout = Number(value()); break;
    case '--screenshot': opts.screenshot = value(); break;
    case '--chromium': opts.chromium = value(); break;
    default: console.error(`unknown option ${a}`); process.exit(2);
  }
}
if (!opts.base || !opts.officer || !opts.password || !(opts.timeout > 0) || !(opts.talkSeconds > 0)) {
  console.error('usage: officer_media.mjs --base URL --officer USER --password P [...]');
  process.exit(2);
}
if (!/^https:\/\/(127\.0\.0\.1|\[::1\]|localhost)(:\d+)?$/.test(opts.base)) {
  console.error(`--base must be a loopback https URL, not ${opts.base}`);
  process.exit(2);
}

const report = {
  steps: [], errors: [], console: [], meeting: opts.meeting,
  pictures: null, audio_samples: [], sdp: null, microphone: null,
  talk_start_ms: null, talk_stop_ms: null, terminate_click_ms: null,
  outbound_audio_during_talk: null, server_errors: [], watch: null, officer_events: null,
};
let context = null;
let profileDir = null;
let page = null;
let finished = false;

function log(...args) { console.log('[officer-media]', ...args); }

async function finish(code, why) {
  if (finished) return;
  finished = true;
  report.exit = { code, why };
  log(code === 0 ? 'PASS' : `FAIL: ${why}`);
  if (page && !report.officer_events) {
    // What the console saw, for the failure message (bounded: the page may hang).
    report.officer_events = await Promise.race([
      page.evaluate(() => window.huijianOfficer?.events.slice(-80)).catch(() => null),
      new Promise((r) => { setTimeout(() => r(null), 2000).unref(); }),
    ]);
  }
  await closeChromium(context, profileDir);
  if (opts.out) fs.writeFileSync(opts.out, JSON.stringify(report, null, 2));
  process.exit(code);
}

const hardStop = setTimeout(() => finish(3, `hard timeout of ${opts.timeout} s`), opts.timeout * 1000);
hardStop.unref();

const step = stepper(report, log);

// The a=<direction> of every m-section of one kind ("audio", "video"), with
// its port (0 = rejected).
function sections(sdp, kind) {
  const out = [];
  let cur = null;
  for (const line of (sdp || '').split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      const [media, port] = line.slice(2).split(' ');
      cur = media === kind ? { port: Number(port), direction: 'sendrecv', mid: null } : null;
      if (cur) out.push(cur);
    } else if (cur && /^a=(sendrecv|sendonly|recvonly|inactive)$/.test(line)) {
      cur.direction = line.slice(2);
    } else if (cur && line.startsWith('a=mid:')) {
      cur.mid = line.slice(6);
    }
  }
  return out;
}

// The server's refusals of watch requests, to say why no picture came.
async function watchErrors() {
  return page.evaluate(() => window.huijianOfficer.events
    .filter((e) => e.kind === 'watch' && (e.error || e.closed || e.ended))
    .slice(-10));
}

// Polls an async check from Node until it returns something truthy (bounded).
// (page.waitForFunction does not await a predicate that returns a promise:
// the promise itself counts as true, so async page checks go through here.)
async function poll(fn, seconds, what) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const got = await fn();
    if (got) return got;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${seconds} s`);
    await new Promise((r) => { setTimeout(r, 200); });
  }
}

async function stats() {
  const all = await page.evaluate(() => window.huijianOfficer.watchStats());
  return all[opts.meeting] || null;
}

async function sampleAudio(label) {
  const s = await stats();
  if (!s) throw new Error(`${label}: the console has no watch of ${opts.meeting}`);
  const sample = {
    label, at_ms: await page.evaluate(() => Date.now()), inboundAudio: s.inboundAudio,
    inboundAudioPackets: s.inboundAudioPackets, outboundAudioPackets: s.outboundAudioPackets,
    connectionState: s.connectionState, microphone: s.microphone, micEnabled: s.micEnabled,
  };
  report.audio_samples.push(sample);
  log(`${label}: inbound audio entries ${s.inboundAudio}, packets ${s.inboundAudioPackets}; `
    + `outbound audio packets ${s.outboundAudioPackets}; microphone ${s.microphone}, enabled ${s.micEnabled}`);
  if (s.inboundAudio !== 0 || s.inboundAudioPackets !== 0) {
    throw new Error(`${label}: the officer RECEIVES audio: ${s.inboundAudio} inbound-rtp audio entries, `
      + `${s.inboundAudioPackets} packets`);
  }
  return s;
}

async function main() {
  ({ context, profileDir } = await launchChromium(opts.chromium, { fps: 15 }));
  page = context.pages()[0] ?? await context.newPage();
  capturePage(page, report, 'officer');
  const tile = page.locator(`.tile[data-meeting="${opts.meeting}"]`);
  const wait = (fn, arg, seconds = 15) => page.waitForFunction(fn, arg, { timeout: seconds * 1000, polling: 200 });

  await step('officer signs in and sees the meeting connected', async () => {
    await page.goto(`${opts.base}/officer.html`, { waitUntil: 'load', timeout: 20000 });
    await page.fill('#username', opts.officer);
    await page.fill('#password', opts.password);
    await page.click('#login-button');
    await tile.and(page.locator('[data-state="connected"]')).waitFor({ timeout: 60000 });
  });

  await step('the console watches the meeting and both pictures decode', async () => {
    try {
      await poll(async () => {
        const s = await stats();
        return s && s.pictures.lawyer.framesDecoded > 0 && s.pictures.detainee.framesDecoded > 0;
      }, 45, 'both pictures decoded');
    } catch (e) {
      const errors = await watchErrors();
      const s = await stats();
      const pics = s ? JSON.stringify(s.pictures) : 'no watch';
      const refused = errors.find((x) => x.error);
      const why = refused
        ? `the server refused "${refused.ref}": ${refused.error} ${refused.message || ''}`
          + (refused.error === 'unknown_type' ? ' (this huijiand has no watch yet)' : '')
        : `watch events ${JSON.stringify(errors)}`;
      throw new Error(`no picture of both parties within 45 s: ${why}; pictures ${pics}; `
        + `connection ${s?.connectionState}, relay ${s?.serverState}`);
    }
    // The <video> elements show them (muted, the right party in each slot).
    await wait((m) => [...document.querySelectorAll(`.tile[data-meeting="${m}"] .video-slot`)]
      .every((el) => el.dataset.picture === '1' && el.querySelector('video').videoWidth > 0), opts.meeting, 10);
    const s = await stats();
    report.pictures = s.pictures;
    report.mids = s.mids;
    report.watch = await page.evaluate((m) => window.huijianOfficer.watches()[m], opts.meeting);
    report.videos = await page.evaluate((m) => [...document.querySelectorAll(`.tile[data-meeting="${m}"] .video-slot`)]
      .map((el) => ({ party: el.dataset.party, who: el.querySelector('.who').textContent,
        muted: el.querySelector('video').muted, width: el.querySelector('video').videoWidth,
        height: el.querySelector('video').videoHeight })), opts.meeting);
    for (const v of report.videos) {
      if (!v.muted) throw new Error(`the ${v.party} video element is not muted`);
      if (!v.who) throw new Error(`the ${v.party} picture does not name the device`);
    }
    for (const party of ['lawyer', 'detainee']) {
      const p = s.pictures[party];
      log(`picture ${party}: ${p.frameWidth}x${p.frameHeight}, ${p.framesDecoded} frames decoded, `
        + `${p.packetsReceived} packets (mid ${s.mids?.[party]})`);
    }
  });

  await step('no sound reaches the officer (stats and SDP)', async () => {
    const s = await sampleAudio('after the pictures');
    const local = sections(s.localSdp, 'audio');
    const remote = sections(s.remoteSdp, 'audio');
    const localVideo = sections(s.localSdp, 'video');
    report.sdp = { local_audio: local, remote_audio: remote, local_video: localVideo,
      local: s.localSdp, remote: s.remoteSdp };
    log(`SDP audio sections: offer ${JSON.stringify(local)}, answer ${JSON.stringify(remote)}`);
    const receiving = local.filter((x) => x.direction === 'recvonly' || x.direction === 'sendrecv');
    if (receiving.length) throw new Error(`the officer's offer has receiving audio: ${JSON.stringify(receiving)}`);
    if (local.length > 1) throw new Error(`the officer's offer has ${local.length} audio m-lines (at most one)`);
    const sending = remote.filter((x) => x.port !== 0 && x.direction !== 'recvonly');
    if (sending.length) throw new Error(`the server's answer may send audio: ${JSON.stringify(sending)}`);
    if (localVideo.length !== 2 || localVideo.some((x) => x.direction !== 'recvonly')) {
      throw new Error(`the officer's offer needs two recvonly video m-lines: ${JSON.stringify(localVideo)}`);
    }
    if (!/^a=rtpmap:\d+ H264\/90000/m.test(s.remoteSdp || '')) throw new Error('the answer has no H.264');
  });

  await step(`push-to-talk held ${opts.talkSeconds} s`, async () => {
    await wait(() => window.huijianOfficer.microphone === 'ok' || window.huijianOfficer.microphone === 'missing',
      null, 10);
    report.microphone = await page.evaluate(() => window.huijianOfficer.microphone);
    if (report.microphone !== 'ok') throw new Error(`the fake microphone did not open: ${report.microphone}`);
    const talk = tile.locator('.talk');
    await talk.scrollIntoViewIfNeeded();
    const box = await talk.boundingBox();
    if (!box) throw new Error('the talk button is not visible');
    const before = await stats();
    if (before.micEnabled) throw new Error('the microphone is enabled before talking');
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    report.talk_start_ms = await page.evaluate(() => Date.now());
    await page.mouse.down();
    const pressed = Date.now();
    await wait((m) => document.querySelector(`.tile[data-meeting="${m}"]`)?.dataset.speaking === '1', opts.meeting, 5);
    const during = await stats();
    if (!during.micEnabled) throw new Error('the microphone track is not enabled while talking');
    await page.waitForTimeout(Math.max(0, opts.talkSeconds * 1000 - (Date.now() - pressed)));
    await page.mouse.up();
    report.talk_stop_ms = await page.evaluate(() => Date.now());
    const after = await stats();
    report.outbound_audio_during_talk = after.outboundAudioPackets - before.outboundAudioPackets;
    if (after.micEnabled) throw new Error('the microphone track stays enabled after the release');
    await wait((m) => document.querySelector(`.tile[data-meeting="${m}"]`)?.dataset.speaking === '0', opts.meeting, 5);
    const stopped = await page.evaluate(() => window.huijianOfficer.events
      .filter((e) => e.kind === 'ok' && e.ref === 'interjection_stop').length);
    if (stopped < 1) throw new Error('the server did not confirm interjection_stop');
    // When the page itself handled the press and the release (its 'talk' records), for context:
    // talk_start_ms/talk_stop_ms bracket them.
    report.talk_page_events = await page.evaluate((m) => window.huijianOfficer.events
      .filter((e) => e.kind === 'talk' && e.meeting === m).map((e) => ({ on: e.on, at_ms: Date.parse(e.at) })), opts.meeting);
    const signed = (n) => (n >= 0 ? `+${n}` : `${n}`);
    const seen = report.talk_page_events.map((e) => `${e.on ? 'press' : 'release'} `
      + `${signed(e.at_ms - (e.on ? report.talk_start_ms : report.talk_stop_ms))} ms`).join(', ');
    log(`talked ${report.talk_stop_ms - report.talk_start_ms} ms (page clock ${report.talk_start_ms} -> `
      + `${report.talk_stop_ms}; handled by the page: ${seen}); `
      + `${report.outbound_audio_during_talk} audio packets sent meanwhile`);
    if (report.outbound_audio_during_talk < 20) {
      throw new Error(`only ${report.outbound_audio_during_talk} audio packets left the console while talking`);
    }
  });

  await step('3 s without talking, still no sound for the officer', async () => {
    await page.waitForTimeout(3000);
    await sampleAudio('before the termination');
    const s = await stats();
    report.pictures_before_terminate = s.pictures;
  });

  if (opts.screenshot) await page.screenshot({ path: opts.screenshot });

  await step('terminate with violation_phone after the confirming second press', async () => {
    await tile.locator('.reason').selectOption('violation_phone');
    await tile.locator('.terminate').click();
    await page.waitForTimeout(300);
    if (await tile.count() !== 1) throw new Error('one press ended the meeting');
    const terminate = tile.locator('.terminate');
    const box = await terminate.boundingBox();
    if (!box) throw new Error('the terminate button is not visible');
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    report.terminate_click_ms = await page.evaluate(() => Date.now());
    await page.mouse.down();
    await page.mouse.up();
    await tile.waitFor({ state: 'detached', timeout: 10000 });
    const answered = await page.evaluate(() => window.huijianOfficer.events
      .filter((e) => e.kind === 'ok' && e.ref === 'terminate').length);
    if (answered < 1) throw new Error('the server did not confirm the termination');
    const left = await page.evaluate((m) => window.huijianOfficer.watches()[m] ?? null, opts.meeting);
    if (left) throw new Error(`the console still holds the meeting: ${JSON.stringify(left)}`);
  });

  report.server_errors = await page.evaluate(() => window.huijianOfficer.events
    .filter((e) => e.kind === 'server-error' || (e.kind === 'watch' && e.error)));
  report.officer_events = await page.evaluate(() => window.huijianOfficer.events.slice(-80));
  if (report.errors.length) return finish(1, `page errors: ${report.errors.join('; ')}`);
  return finish(0, 'all steps passed');
}

main().catch((e) => finish(1, e.message));
