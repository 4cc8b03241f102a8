// What every browser driver here shares: Debian's Chromium with the flags
// the project requires (docs in README.md), on a fresh temporary profile,
// and the collection of a page's console output and errors into a report.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Launches Chromium with a fake camera/microphone at `fps` frames a second.
// Returns { context, profileDir }; pass both to closeChromium.
export async function launchChromium(executablePath, { fps = 30 } = {}) {
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'huijian-chromium-'));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath,
    headless: true,
    ignoreHTTPSErrors: true,
    viewport: { width: 1600, height: 900 },
    args: [
      '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--use-fake-device-for-media-stream=fps=${fps}`, '--use-fake-ui-for-media-stream',
      '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required',
      // Chromium would otherwise look up outside hosts.
      '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
    ],
  });
  return { context, profileDir };
}

// Closes the browser (if it was started) and removes its profile; never throws.
export async function closeChromium(context, profileDir) {
  try { if (context) await context.close(); } catch { /* closing anyway */ }
  if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
}

// Keeps the page's console lines (the last 500, each cut to 500 characters),
// page errors and crashes in report.console / report.errors, prefixed by `label`.
export function capturePage(page, report, label) {
  const prefix = label ? `${label} ` : '';
  page.on('console', (m) => {
    report.console.push(`${prefix}${m.type()}: ${m.text()}`.slice(0, 500));
    if (report.console.length > 500) report.console.shift();
  });
  page.on('pageerror', (e) => report.errors.push(`${prefix}pageerror: ${e.message}`));
  page.on('crash', () => report.errors.push(`${prefix}page crashed`));
}

// A named, timed step: recorded in report.steps; a failure is rethrown with the step's name.
export function stepper(report, log) {
  return async function step(name, fn) {
    const t0 = Date.now();
    try {
      await fn();
      report.steps.push({ name, ok: true, ms: Date.now() - t0 });
      log(`ok: ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      report.steps.push({ name, ok: false, ms: Date.now() - t0, error: String(e.message || e).slice(0, 800) });
      throw new Error(`${name}: ${String(e.message || e).split('\n')[0]}`);
    }
  };
}
