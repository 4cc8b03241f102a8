#!/usr/bin/env node
// Drives the officer console (/officer.html) and the browser lawyer terminal
// (/lawyer.html) side by side in Debian's Chromium, against a huijiand whose
// meeting m-1 has a native detainee terminal on the other end.
//
//   node officer_console.mjs --base https://127.0.0.1:PORT --lawyer-secret S \
//        --officer wang --password P [--notice TEXT] [--out report.json]
//        [--timeout 150] [--screenshot shot.png] [--chromium /usr/bin/chromium]
//
// Steps, each bounded in time: the lawyer page signs in (auto=1) and connects;
// the officer signs in through the form and sees the meeting tile with both
// terminals and the two picture placeholders; sends a notice (the lawyer page
// shows it), holds the talk button (the lawyer page shows "监管民警插话"),
// adds 5 minutes (the lawyer page gets the new end time), and terminates with
// "violation_phone" after the confirming second press (the lawyer page shows
// the reason; the tile goes away).
//
// Exit code: 0 when every step passed, 1 when one failed, 2 for bad
// arguments, 3 when the hard timeout fired. The browser is always closed and
// its profile removed; the report (steps, errors, console) is always written.

import fs from 'node:fs';

import { launchChromium, closeChromium, capturePage, stepper } from './chromium.mjs';

const opts = {
  base: null, lawyerDevice: 'lawyer-1', lawyerSecret: null, officer: null, password: null,
  notice: '请勿出示手机 · browser test', out: null, timeout: 150, screenshot: null, chromium: '/usr/bin/chromium',
};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const value = () => {
    if (i + 1 >= process.argv.length) { console.error(`${a} needs a value`); process.exit(2); }
    return process.argv[++i];
  };
  switch (a) {
    case '--base': opts.base = value(); break;
    case '--lawyer-device': opts.lawyerDevice = value(); break;
    case '--lawyer-secret': opts.lawyerSecret = value(); break;
    case '--officer': opts.officer = value(); break;
    case '--password': opts.password = value(); break;
    case '--notice': opts.notice = value(); break;
    case '--out': opts.out = value(); break;
    case '--timeout': opts.timeout = Number(value()); break;
    case '--screenshot': opts.screenshot = value(); break;
    case '--chromium': opts.chromium = value(); break;
    default: console.error(`unknown option ${a}`); process.exit(2);
  }
}
if (!opts.base || !opts.lawyerSecret || !opts.officer || !opts.password || !(opts.timeout > 0)) {
  console.error('usage: officer_console.mjs --base URL --lawyer-secret S --officer USER --password P [...]');
  process.exit(2);
}

const report = { steps: [], errors: [], console: [], lawyer: null, officer: null };
let context = null;
let profileDir = null;
let finished = false;

function log(...args) { console.log('[officer-console]', ...args); }

async function finish(code, why) {
  if (finished) return;
  finished = true;
  report.exit = { code, why };
  log(code === 0 ? 'PASS' : `FAIL: ${why}`);
  await closeChromium(context, profileDir);
  if (opts.out) fs.writeFileSync(opts.out, JSON.stringify(report, null, 2));
  process.exit(code);
}

const hardStop = setTimeout(() => finish(3, `hard timeout of ${opts.timeout} s`), opts.timeout * 1000);
hardStop.unref();

const step = stepper(report, log);


async function main() {
  ({ context, profileDir } = await launchChromium(opts.chromium, { fps: 15 }));
  const lawyer = context.pages()[0] ?? await context.newPage();
  const officerPage = await context.newPage();
  capturePage(lawyer, report, 'lawyer');
  capturePage(officerPage, report, 'officer');
  const tile = officerPage.locator('.tile[data-meeting="m-1"]');
  const wait = (page, fn, arg, seconds = 15) => page.waitForFunction(fn, arg, { timeout: seconds * 1000, polling: 100 });

  await step('lawyer page connects', async () => {
    const url = `${opts.base}/lawyer.html?device=${encodeURIComponent(opts.lawyerDevice)}`
      + `&secret=${encodeURIComponent(opts.lawyerSecret)}&auto=1`;
    await lawyer.goto(url, { waitUntil: 'load', timeout: 20000 });
    await wait(lawyer, () => window.huijian?.state === 'connected', null, 60);
    await wait(lawyer, () => window.huijian.endsAt !== null);
    const remaining = await lawyer.textContent('#remaining-time');
    if (!/^\d\d:\d\d:\d\d$/.test(remaining)) throw new Error(`remaining time shows "${remaining}"`);
  });

  await step('officer signs in and sees the meeting', async () => {
    await officerPage.goto(`${opts.base}/officer.html`, { waitUntil: 'load', timeout: 20000 });
    await officerPage.fill('#username', opts.officer);
    await officerPage.fill('#password', opts.password);
    await officerPage.click('#login-button');
    await tile.and(officerPage.locator('[data-state="connected"]')).waitFor({ timeout: 15000 });
    const text = await tile.textContent();
    for (const want of ['律师会见室 1', 'lawyer-1', 'detainee-1', '在线 online']) {
      if (!text.includes(want)) throw new Error(`the tile lacks "${want}": ${text.slice(0, 300)}`);
    }
    if (await tile.locator('.video-slot').count() !== 2) throw new Error('the tile needs two picture placeholders');
    await wait(officerPage, () => /^\d\d:\d\d:\d\d$/.test(document.querySelector('.tile .remaining')?.textContent));
    if (await officerPage.evaluate(() => sessionStorage.length) !== 1) throw new Error('the token is not kept for the tab');
  });

  await step('a notice reaches the lawyer page', async () => {
    await tile.locator('.notice-text').fill(opts.notice);
    await tile.locator('.send-notice').click();
    await wait(lawyer, (t) => window.huijian.notices.some((n) => n.text === t), opts.notice);
    await lawyer.locator('#notice-banner').waitFor({ state: 'visible', timeout: 5000 });
    const shown = await lawyer.textContent('#notice-text');
    if (!shown.includes(opts.notice)) throw new Error(`the banner shows "${shown}"`);
    await wait(officerPage, () => document.querySelector('.tile .result')?.textContent.includes('通知已发送'));
  });

  await step('holding the talk button shows "officer speaking" on the lawyer page', async () => {
    await tile.locator('.talk').dispatchEvent('pointerdown');
    await wait(lawyer, () => window.huijian.officerSpeaking === true);
    await lawyer.locator('#officer-speaking').waitFor({ state: 'visible', timeout: 5000 });
    await wait(officerPage, () => document.querySelector('.tile')?.dataset.speaking === '1');
    await officerPage.waitForTimeout(1000);
    await tile.locator('.talk').dispatchEvent('pointerup');
    await wait(lawyer, () => window.huijian.officerSpeaking === false);
    await lawyer.locator('#officer-speaking').waitFor({ state: 'hidden', timeout: 5000 });
  });

  await step('+5 minutes moves the end time on the lawyer page', async () => {
    const before = await lawyer.evaluate(() => window.huijian.endsAt);
    await tile.locator('.plus5').click();
    await wait(lawyer, (b) => window.huijian.endsAt !== b
      && window.huijian.timeUpdates.at(-1)?.by === 'officer', before);
    const after = await lawyer.evaluate(() => window.huijian.endsAt);
    const added = (Date.parse(after) - Date.parse(before)) / 1000;
    if (added < 290 || added > 310) throw new Error(`the end moved by ${added} s, not 300`);
  });

  if (opts.screenshot) await officerPage.screenshot({ path: opts.screenshot });

  await step('terminate with a violation after the confirming second press', async () => {
    await tile.locator('.reason').selectOption('violation_phone');
    await tile.locator('.terminate').click();
    await officerPage.waitForTimeout(300);
    if (await lawyer.evaluate(() => window.huijian.state) !== 'connected') throw new Error('one press ended the meeting');
    await tile.locator('.terminate').click();
    await wait(lawyer, () => window.huijian.state === 'ended' && window.huijian.endCode === 'violation_phone');
    const reason = await lawyer.textContent('#ended-reason');
    if (!reason.includes('违规：出示手机')) throw new Error(`the end overlay shows "${reason}"`);
    await tile.waitFor({ state: 'detached', timeout: 10000 });
  });

  report.lawyer = await lawyer.evaluate(() => ({
    notices: window.huijian.notices, warnings: window.huijian.warnings, timeUpdates: window.huijian.timeUpdates,
    endCode: window.huijian.endCode, endReason: window.huijian.endReason,
  }));
  report.officer = await officerPage.evaluate(() => ({ events: window.huijianOfficer.events.slice(-50) }));
  if (report.errors.length) return finish(1, `page errors: ${report.errors.join('; ')}`);
  return finish(0, 'all steps passed');
}

main().catch((e) => finish(1, e.message));
