#!/usr/bin/env node
// The officer console of bench/officer.sh: signs in to /officer.html in
// Debian's Chromium, lets the console watch every connected meeting, and
// writes a line to --ready once it decodes `--meetings` meetings' two
// pictures each. Then it keeps watching until SIGTERM or --timeout, and
// writes the pictures' counters to --out when it stops.
//
//   node officer_watch.mjs --base https://127.0.0.1:PORT --officer U --password P
//        --meetings 4 --ready FILE --out FILE [--timeout 180] [--chromium /usr/bin/chromium]
//
// Exit code: 0 when it stopped after being ready, 1 when the pictures never
// all decoded, 2 for bad arguments.

import fs from 'node:fs';

import { launchChromium, closeChromium } from './chromium.mjs';

const opts = { base: null, officer: null, password: null, meetings: 4, ready: null, out: null, timeout: 180,
  chromium: '/usr/bin/chromium' };
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
    case '--meetings': opts.meetings = Number(value()); break;
    case '--ready': opts.ready = value(); break;
    case '--out': opts.out = value(); break;
    case '--timeout': opts.timeout = Number(value()); break;
    case '--chromium': opts.chromium = value(); break;
    default: console.error(`unknown option ${a}`); process.exit(2);
  }
}
if (!opts.base || !opts.officer || !opts.password || !opts.ready || !opts.out || !(opts.meetings > 0)
    || !(opts.timeout > 0)) {
  console.error('usage: officer_watch.mjs --base URL --officer U --password P --meetings N --ready F --out F');
  process.exit(2);
}

let context = null;
let page = null;
let profileDir = null;
let ready = false;
let stopping = false;

async function stop(code, why) {
  if (stopping) return;
  stopping = true;
  const result = { code, why, ready, meetings: null };
  try {
    if (page) {
      result.meetings = await page.evaluate(() => window.huijianOfficer.watchStats());
      if (!ready) {
        result.console = await page.evaluate(() => ({
          state: window.huijianOfficer.state, errors: window.huijianOfficer.errors,
          watches: window.huijianOfficer.watches(), events: window.huijianOfficer.events.slice(-30),
        }));
      }
    }
  } catch { /* closing anyway */ }
  await closeChromium(context, profileDir);
  fs.writeFileSync(opts.out, JSON.stringify(result, null, 2));
  process.exit(code);
}

process.on('SIGTERM', () => stop(ready ? 0 : 1, 'stopped'));
process.on('SIGINT', () => stop(ready ? 0 : 1, 'interrupted'));
setTimeout(() => stop(ready ? 0 : 1, `timeout of ${opts.timeout} s`), opts.timeout * 1000).unref();

async function main() {
  ({ context, profileDir } = await launchChromium(opts.chromium, { fps: 30 }));
  page = context.pages()[0] ?? await context.newPage();
  await page.goto(`${opts.base}/officer.html`, { waitUntil: 'load', timeout: 20000 });
  await page.fill('#username', opts.officer);
  await page.fill('#password', opts.password);
  await page.click('#login-button');
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    const stats = await page.evaluate(() => window.huijianOfficer.watchStats());
    const decoding = Object.values(stats).filter((m) =>
      ['lawyer', 'detainee'].every((p) => (m.pictures?.[p]?.framesDecoded ?? 0) > 0)).length;
    if (decoding >= opts.meetings) {
      ready = true;
      fs.writeFileSync(opts.ready, `${decoding} meetings decoding\n`);
      return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop(1, `fewer than ${opts.meetings} meetings had both pictures decoding after 60 s`);
}

main().catch((e) => stop(1, String(e.message || e)));
