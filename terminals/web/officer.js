// huijian officer console (browser). Served by huijiand as /officer.js.
//
// The supervising officer logs in (POST /api/login -> token), then opens
// wss://<host>/ws and sends {"type":"officer_hello","token":...}. The server
// answers officer_welcome (the reasons an officer may end a meeting with, and
// the limits) and pushes "meetings" (every meeting that has not ended) on each
// change. Per meeting the console shows lawyer, detainee, their terminals,
// state, elapsed and remaining time, and lets the officer change the call
// time, send a text notice, interject (push-to-talk) and terminate with a
// reason.
//
// Pictures and voice ("watch", docs/protocol.md): for every connected meeting
// the console opens one RTCPeerConnection with two recvonly video sections
// (the lawyer's and the detainee's picture) and one sendonly audio section
// carrying the officer's microphone, which is enabled only while the talk
// button is held (the relay forwards it only during an interjection). There
// is never a receiving audio section: the officer sees, never hears.
//
// The token lives in sessionStorage (this tab only) and is dropped when the
// server says it is no longer valid. window.huijianOfficer exposes the state
// for tests (watchStats() samples the pictures and audio counters per meeting).

import { preferH264 as preferVideoCodecs } from './h264.js';

const MAX_MESSAGE_CHARS = 256 * 1024;
const MAX_EVENTS = 2000;
const MAX_RECONNECTS = 5;
const TOKEN_KEY = 'huijian.officer.token';

const $ = (id) => document.getElementById(id);
const ui = {
  login: $('login'), username: $('username'), password: $('password'), loginButton: $('login-button'),
  loginStatus: $('login-status'), facts: $('facts'), officerName: $('officer-name'), meetingCount: $('meeting-count'),
  connectionText: $('connection-text'), expires: $('expires'), console: $('console'), grid: $('grid'), empty: $('empty'),
  logout: $('logout-button'), banner: $('error-banner'), bannerText: $('error-text'), bannerClose: $('error-close'),
  template: $('tile-template'), micStatus: $('mic-status'),
};

const STATE_TEXT = {
  waiting: '等待在押人员就位 · Waiting for the detainee',
  detainee_ready: '在押人员已就位 · Detainee ready',
  connected: '会见中 · In meeting',
};

const officer = {
  state: 'signed-out',
  username: null,
  name: null,
  role: null,
  reasons: [],
  limits: {},
  meetings: [],
  events: [],
  errors: [],
  ws: null,
  setTime: (meeting, fields) => act('set_time', meeting, fields),
  notice: (meeting, text) => act('notice', meeting, { text }),
  interjectionStart: (meeting) => act('interjection_start', meeting, {}),
  interjectionStop: (meeting) => act('interjection_stop', meeting, {}),
  terminate: (meeting, code, text) => act('terminate', meeting, text ? { code, text } : { code }),
  // Per watched meeting: pictures (framesDecoded, frameWidth, frameHeight,
  // packetsReceived), inbound/outbound audio counters, both SDPs, states.
  watchStats: () => watchStats(),
  // Per meeting with a tile: the watch's state, synchronously.
  watches: () => watchSummary(),
  get microphone() { return mic.state; },
};
window.huijianOfficer = officer;

function record(kind, detail) {
  officer.events.push({ at: new Date().toISOString(), kind, ...detail });
  if (officer.events.length > MAX_EVENTS) officer.events.splice(0, officer.events.length - MAX_EVENTS);
}

function showError(text) {
  officer.errors.push({ at: new Date().toISOString(), text });
  if (officer.errors.length > MAX_EVENTS) officer.errors.shift();
  ui.bannerText.textContent = text;
  ui.banner.hidden = false;
  record('error', { text });
}
ui.bannerClose.addEventListener('click', () => { ui.banner.hidden = true; });

function pad2(n) { return String(n).padStart(2, '0'); }
function formatDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  return `${pad2(Math.floor(total / 3600))}:${pad2(Math.floor(total / 60) % 60)}:${pad2(total % 60)}`;
}
function isoMs(text) {
  const t = typeof text === 'string' ? Date.parse(text) : NaN;
  return Number.isFinite(t) ? t : null;
}

// ------------------------------------------------------------------- login

async function login(username, password) {
  ui.loginButton.disabled = true;
  ui.loginStatus.textContent = '正在登录… · Signing in…';
  try {
    const res = await fetch('/api/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username, password }),
      cache: 'no-store',
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      ui.loginStatus.textContent = `登录失败 · Sign-in failed: ${body.message || res.status}`;
      record('login', { ok: false, code: body.code });
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, body.token);
    ui.password.value = '';
    record('login', { ok: true, role: body.role });
    openConsole(body.token, 0);
  } catch (e) {
    ui.loginStatus.textContent = `无法连接服务器 · Cannot reach the server: ${e.message}`;
  } finally {
    ui.loginButton.disabled = false;
  }
}

function signedOut(text) {
  sessionStorage.removeItem(TOKEN_KEY);
  officer.state = 'signed-out';
  if (officer.ws) { try { officer.ws.close(); } catch { /* closing anyway */ } }
  officer.ws = null;
  ui.console.hidden = true;
  ui.facts.hidden = true;
  ui.login.hidden = false;
  ui.loginStatus.textContent = text || '';
  for (const tile of tiles.values()) {
    dropWatch(tile);
    tile.el.remove();
  }
  tiles.clear();
  pendingRequests.watch.length = 0;
  pendingRequests.unwatch.length = 0;
  releaseMicrophone();
  record('state', { state: 'signed-out', text });
}

ui.login.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const username = ui.username.value.trim();
  if (!username || !ui.password.value) {
    ui.loginStatus.textContent = '请填写用户名和密码 · Enter user name and password';
    return;
  }
  login(username, ui.password.value);
});

ui.logout.addEventListener('click', async () => {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) {
    await fetch('/api/logout', { method: 'POST', headers: { Authorization: `Bearer ${token}` } }).catch(() => {});
  }
  signedOut('已退出登录 · Signed out');
});

// ----------------------------------------------------------------- console

function openConsole(token, attempt) {
  const scheme = location.protocol === 'http:' ? 'ws' : 'wss';
  const ws = new WebSocket(`${scheme}://${location.host}/ws`);
  officer.ws = ws;
  officer.state = 'connecting';
  ui.connectionText.textContent = '正在连接 · Connecting';
  let welcomed = false;
  ws.addEventListener('open', () => ws.send(JSON.stringify({ type: 'officer_hello', token })));
  ws.addEventListener('message', (ev) => {
    if (typeof ev.data !== 'string' || ev.data.length > MAX_MESSAGE_CHARS) return;
    let msg;
    try { msg = JSON.parse(ev.data); } catch { return; }
    if (!msg || typeof msg.type !== 'string') return;
    if (msg.type === 'officer_welcome') welcomed = true;
    try {
      handle(msg);
    } catch (e) {
      showError(`处理服务器消息出错 · Could not handle "${msg.type}": ${e.message}`);
    }
  });
  ws.addEventListener('close', (ev) => {
    record('ws', { closed: ev.code });
    if (officer.ws !== ws) return;
    officer.ws = null;
    // The server ends every watch of a closed connection; they start again
    // after the next officer_welcome.
    pendingRequests.watch.length = 0;
    pendingRequests.unwatch.length = 0;
    for (const tile of tiles.values()) {
      dropWatch(tile, '与服务器断开，重新连接后恢复画面 · Disconnected: the pictures return after reconnecting');
    }
    if (officer.state === 'signed-out') return;
    ui.connectionText.textContent = '已断开 · Disconnected';
    const again = sessionStorage.getItem(TOKEN_KEY);
    if (again && (welcomed || attempt < MAX_RECONNECTS)) {
      const next = welcomed ? 0 : attempt + 1;
      if (next < MAX_RECONNECTS) {
        setTimeout(() => { if (!officer.ws && sessionStorage.getItem(TOKEN_KEY)) openConsole(again, next); },
          1000 * (next + 1));
        return;
      }
    }
    if (officer.state !== 'signed-out') showError('与服务器的连接已断开 · Connection to the server was lost');
  });
}

// The last action per meeting, so an error ("ref") can be shown on its tile.
let lastAction = null;

function act(type, meeting, fields) {
  const ws = officer.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN) {
    showError('未连接服务器 · Not connected to the server');
    return false;
  }
  lastAction = { type, meeting };
  ws.send(JSON.stringify({ type, meeting, ...fields }));
  record('sent', { type, meeting });
  return true;
}

function handle(msg) {
  switch (msg.type) {
    case 'officer_welcome': return onWelcome(msg);
    case 'meetings': return onMeetings(msg);
    case 'ok': return onOk(msg);
    case 'error': return onError(msg);
    case 'watch_answer': return void onWatchAnswer(msg).catch((e) => asyncFailed(msg, e));
    case 'watch_candidate': return void onWatchCandidate(msg).catch((e) => asyncFailed(msg, e));
    case 'watch_state': return onWatchState(msg);
    case 'watch_ended': return onWatchEnded(msg);
    case 'pong': return undefined;
    default: record('ws', { ignored: msg.type });
  }
  return undefined;
}

function asyncFailed(msg, e) {
  showError(`处理服务器消息出错 · Could not handle "${msg.type}": ${e.message}`);
}

function onWelcome(msg) {
  officer.state = 'signed-in';
  officer.username = msg.username;
  officer.name = msg.name;
  officer.role = msg.role;
  officer.reasons = Array.isArray(msg.reasons) ? msg.reasons : [];
  officer.limits = msg.limits || {};
  ui.login.hidden = true;
  ui.console.hidden = false;
  ui.facts.hidden = false;
  ui.banner.hidden = true;
  ui.officerName.textContent = `${msg.name || msg.username} (${msg.username})`;
  ui.expires.textContent = msg.expires_at ? new Date(msg.expires_at).toLocaleString() : '—';
  ui.connectionText.textContent = '已连接 · Connected';
  for (const tile of tiles.values()) {
    fillReasons(tile);
    tile.watchRetries = 0;
    tile.watchBlocked = false;
  }
  record('state', { state: 'signed-in', username: msg.username });
  requestMicrophone();
}

function onOk(msg) {
  if (msg.ref === 'unwatch') {
    unwatchAnswered(msg.meeting);
    record('ok', { ref: msg.ref, meeting: msg.meeting });
    return;
  }
  const tile = tiles.get(msg.meeting);
  const text = {
    set_time: '时长已调整 · Time changed',
    notice: '通知已发送 · Notice sent',
    interjection_start: '正在插话 · Speaking',
    interjection_stop: `插话结束 · Stopped (${Math.round((msg.duration_ms || 0) / 100) / 10} s)`,
    terminate: msg.violation ? `会见已终止，违规记录 #${msg.violation} · Terminated, violation recorded`
                             : '会见已终止 · Terminated',
  }[msg.ref] || msg.ref;
  if (tile) setResult(tile, text, false);
  record('ok', { ref: msg.ref, meeting: msg.meeting });
}

function onError(msg) {
  const text = `${msg.message || '错误 · Error'}${msg.code ? ` (${msg.code})` : ''}`;
  record('server-error', { code: msg.code, ref: msg.ref });
  if (['bad_token', 'session_expired', 'logged_out'].includes(msg.code)) {
    signedOut(`请重新登录 · Please sign in again: ${text}`);
    return;
  }
  if (['watch', 'watch_candidate', 'unwatch'].includes(msg.ref)) {
    onWatchError(msg, text);
    return;
  }
  const tile = lastAction && msg.ref === lastAction.type ? tiles.get(lastAction.meeting) : null;
  if (tile) {
    setResult(tile, text, true);
    if (msg.ref === 'interjection_start') setTalking(tile, false);
  } else {
    showError(text);
  }
}

// ------------------------------------------------------------------ tiles

const tiles = new Map();  // meeting id -> { el, data, connectedLocal, endsLocal, ... }
let serverOffset = 0;     // server clock - this browser's clock (ms)

function onMeetings(msg) {
  const serverNow = isoMs(msg.now);
  if (serverNow !== null) serverOffset = serverNow - Date.now();
  const list = Array.isArray(msg.meetings) ? msg.meetings : [];
  officer.meetings = list;
  const seen = new Set();
  for (const m of list) {
    if (!m || typeof m.id !== 'string') continue;
    seen.add(m.id);
    let tile = tiles.get(m.id);
    if (!tile) {
      tile = createTile(m.id);
      tiles.set(m.id, tile);
    }
    updateTile(tile, m);
  }
  for (const [id, tile] of tiles) {
    if (!seen.has(id)) {
      // The meeting ended: the relay ends its watch by itself, no unwatch.
      dropWatch(tile);
      tile.el.remove();
      tiles.delete(id);
    }
  }
  ui.meetingCount.textContent = String(tiles.size);
  ui.empty.hidden = tiles.size > 0;
  tickTiles();
}

function q(el, selector) { return el.querySelector(selector); }

function createTile(id) {
  const el = ui.template.content.firstElementChild.cloneNode(true);
  el.dataset.meeting = id;
  const tile = {
    id, el, data: null, talking: false, terminateArmedUntil: 0,
    watch: null, watchRetries: 0, watchRetryTimer: null, watchBlocked: false,
  };
  fillReasons(tile);
  q(el, '.set-minutes').addEventListener('click', () => {
    const minutes = Number(q(el, '.minutes').value);
    const max = officer.limits.max_minutes || 480;
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > max) {
      setResult(tile, `请输入 1 到 ${max} 分钟 · Enter 1 to ${max} minutes`, true);
      return;
    }
    act('set_time', id, { minutes });
  });
  q(el, '.plus5').addEventListener('click', () => {
    const d = tile.data;
    if (!d) return;
    if (d.state === 'connected' && tile.endsLocal !== null) {
      const left = Math.max(0, Math.round((tile.endsLocal - Date.now()) / 1000));
      act('set_time', id, { remaining_seconds: left + 300 });
    } else {
      act('set_time', id, { minutes: Math.min(officer.limits.max_minutes || 480, (d.minutes || 0) + 5) });
    }
  });
  q(el, '.send-notice').addEventListener('click', () => {
    const input = q(el, '.notice-text');
    const text = input.value.trim();
    if (!text) {
      setResult(tile, '请输入通知内容 · Type the notice first', true);
      return;
    }
    if (act('notice', id, { text })) input.value = '';
  });
  const talk = q(el, '.talk');
  const start = (ev) => {
    ev.preventDefault();
    // Hold on to the pointer: the tile's layout may move under it while the
    // officer speaks (the state line grows), which must not end the talk.
    if (ev.pointerId !== undefined) {
      try { talk.setPointerCapture(ev.pointerId); } catch { /* a synthetic event has no active pointer */ }
    }
    if (tile.talking) return;
    if (act('interjection_start', id, {})) setTalking(tile, true);
  };
  const stop = () => {
    if (!tile.talking) return;
    setTalking(tile, false);
    act('interjection_stop', id, {});
  };
  talk.addEventListener('pointerdown', start);
  talk.addEventListener('pointerup', stop);
  talk.addEventListener('pointerleave', stop);
  talk.addEventListener('pointercancel', stop);
  talk.addEventListener('keydown', (ev) => { if ((ev.key === ' ' || ev.key === 'Enter') && !ev.repeat) start(ev); });
  talk.addEventListener('keyup', (ev) => { if (ev.key === ' ' || ev.key === 'Enter') stop(); });
  talk.addEventListener('blur', stop);
  const terminate = q(el, '.terminate');
  terminate.addEventListener('click', () => {
    const code = q(el, '.reason').value;
    const text = q(el, '.reason-text').value.trim();
    const reason = officer.reasons.find((r) => r.code === code);
    if (!reason) {
      setResult(tile, '请选择终止原因 · Choose a reason', true);
      return;
    }
    if (reason.needs_text && !text) {
      setResult(tile, '此原因需要填写说明 · This reason needs details', true);
      return;
    }
    // Two presses within 5 s, so a stray click does not end a meeting.
    const now = Date.now();
    if (now > tile.terminateArmedUntil) {
      tile.terminateArmedUntil = now + 5000;
      terminate.textContent = '再按一次确认终止 · Press again to confirm';
      setTimeout(() => {
        if (Date.now() >= tile.terminateArmedUntil) terminate.textContent = '终止会见 · Terminate';
      }, 5100);
      return;
    }
    tile.terminateArmedUntil = 0;
    terminate.textContent = '终止会见 · Terminate';
    act('terminate', id, text ? { code, text } : { code });
  });
  ui.grid.appendChild(el);
  return tile;
}

function fillReasons(tile) {
  const select = q(tile.el, '.reason');
  const current = select.value;
  select.textContent = '';
  const placeholder = document.createElement('option');
  placeholder.value = '';
  placeholder.textContent = '终止原因 · Reason…';
  select.appendChild(placeholder);
  for (const r of officer.reasons) {
    const option = document.createElement('option');
    option.value = r.code;
    option.textContent = `${r.text_zh} · ${r.text_en}`;
    select.appendChild(option);
  }
  select.value = current;
}

function partyText(p) {
  if (!p) return '—';
  const name = p.name && p.name !== p.device ? `${p.name} (${p.device})` : p.device;
  return `${name} · ${p.online ? '在线 online' : '离线 offline'}`;
}

function updateTile(tile, m) {
  tile.data = m;
  const el = tile.el;
  el.dataset.state = m.state;
  el.dataset.speaking = m.officer_speaking ? '1' : '0';
  q(el, '.title').textContent = `会见 ${m.id}`;
  const speaking = m.officer_speaking ? ` · ${m.officer_speaking.name || m.officer_speaking.username} 插话中 speaking` : '';
  q(el, '.state').textContent = (STATE_TEXT[m.state] || m.state) + speaking;
  const lawyer = q(el, '.lawyer');
  lawyer.textContent = partyText(m.lawyer);
  lawyer.className = `lawyer ${m.lawyer?.online ? 'online' : 'offline'}`;
  const detainee = q(el, '.detainee');
  detainee.textContent = partyText(m.detainee);
  detainee.className = `detainee ${m.detainee?.online ? 'online' : 'offline'}`;
  q(el, '[data-party="lawyer"] .who').textContent = m.lawyer?.name || m.lawyer?.device || '';
  q(el, '[data-party="detainee"] .who').textContent = m.detainee?.name || m.detainee?.device || '';
  q(el, '.case').textContent = m.case_id || '—';
  // The picture-only recorder's state: "recording", "fault: <what>", or null (not recorded).
  const recording = q(el, '.recording');
  const fault = typeof m.recording === 'string' && m.recording.startsWith('fault');
  recording.textContent = fault ? `录像故障 · Recording fault: ${m.recording.slice(6).trim()}`
    : m.recording === 'recording' ? '录像中（仅画面）· Recording (picture only)' : '—';
  recording.className = fault ? 'recording fault' : 'recording';
  el.dataset.recordingFault = fault ? '1' : '0';
  const connected = isoMs(m.connected_at);
  tile.connectedLocal = connected !== null ? connected - serverOffset : null;
  const ends = isoMs(m.ends_at);
  tile.endsLocal = ends !== null ? ends - serverOffset : null;
  const minutes = q(el, '.minutes');
  if (document.activeElement !== minutes) minutes.value = m.minutes ?? '';
  q(el, '.talk').disabled = m.state !== 'connected';
  if (m.state !== 'connected' && tile.talking) setTalking(tile, false);
  if (m.state === 'connected') maybeWatch(tile);
  else if (tile.watch) closeWatch(tile, { text: WATCH_TEXT.waiting });
  else if (!tile.watchBlocked) setWatchText(tile, WATCH_TEXT.waiting);
}

function setTalking(tile, on) {
  tile.talking = on;
  const talk = q(tile.el, '.talk');
  talk.setAttribute('aria-pressed', on ? 'true' : 'false');
  talk.textContent = on ? '正在插话… 松开结束 · Speaking… release to stop' : '按住插话 · Hold to interject';
  // The microphone sends sound only while the button is held (the relay also
  // drops the officer's audio outside an interjection).
  if (tile.watch?.micTrack) tile.watch.micTrack.enabled = on;
  record('talk', { meeting: tile.id, on, microphone: mic.state, micTrack: Boolean(tile.watch?.micTrack) });
}

function setResult(tile, text, isError) {
  const p = q(tile.el, '.result');
  p.textContent = text;
  p.classList.toggle('error', isError);
}

function tickTiles() {
  const now = Date.now();
  for (const tile of tiles.values()) {
    q(tile.el, '.elapsed').textContent = tile.connectedLocal !== null ? formatDuration(now - tile.connectedLocal) : '—';
    const remaining = q(tile.el, '.remaining');
    if (tile.endsLocal !== null) {
      remaining.textContent = formatDuration(tile.endsLocal - now + 999);
      remaining.classList.toggle('soon', tile.endsLocal - now <= 60000);
    } else {
      remaining.textContent = tile.data?.minutes ? `计划 ${tile.data.minutes} 分钟 · planned` : '—';
      remaining.classList.remove('soon');
    }
  }
}
setInterval(tickTiles, 500);

// ------------------------------------------------------- pictures and voice
//
// One watch per connected meeting (docs/protocol.md "watch"): an
// RTCPeerConnection with two recvonly video transceivers (first the lawyer's
// picture, then the detainee's) and one sendonly audio transceiver for the
// officer's microphone. No audio transceiver ever receives: the officer's
// SDP has no section the relay could send sound on.

const PARTIES = ['lawyer', 'detainee'];
const WATCH_RETRIES = 3;                 // after media_failed, while the meeting is connected
const WATCH_RETRY_MS = 3000;
const WATCH_ANSWER_TIMEOUT_MS = 20000;
const NO_PICTURE_AFTER_MS = 3000;        // "no picture" when no frame was decoded for this long
const MAX_WATCH_CANDIDATES = 64;

const WATCH_TEXT = {
  idle: '未接入 · Not watching',
  waiting: '会见接通后显示画面 · Pictures once the meeting is connected',
  connecting: '正在接通画面… · Connecting the pictures…',
  connected: '画面已接通 · Pictures connected',
};

// Requests sent and not yet answered, oldest first, for answers that do not
// name their meeting (an error carries only "ref").
const pendingRequests = { watch: [], unwatch: [] };

function takePending(kind, meeting) {
  const list = pendingRequests[kind];
  const i = typeof meeting === 'string' ? list.indexOf(meeting) : 0;
  if (i < 0 || i >= list.length) return typeof meeting === 'string' ? meeting : null;
  return list.splice(i, 1)[0];
}

// ---- the microphone: asked once per console, cloned into each watch

const mic = { state: 'none', track: null, generation: 0 };  // none | asking | ok | missing

function requestMicrophone() {
  if (mic.state !== 'none') return;
  const generation = ++mic.generation;
  mic.state = 'asking';
  (async () => {
    let track = null;
    let why = '';
    try {
      if (!navigator.mediaDevices?.getUserMedia) throw new Error('getUserMedia is not available');
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
      track = stream.getAudioTracks()[0] || null;
      if (!track) why = 'no audio track';
    } catch (e) {
      why = `${e.name}: ${e.message}`;
    }
    if (generation !== mic.generation) {
      if (track) track.stop();
      return;
    }
    if (!track) {
      microphoneMissing(why);
      return;
    }
    track.enabled = false;
    mic.track = track;
    mic.state = 'ok';
    track.addEventListener('ended', () => {
      if (mic.track !== track) return;
      mic.track = null;
      microphoneMissing('the microphone was removed');
      for (const tile of tiles.values()) {
        const w = tile.watch;
        if (w?.micTrack) {
          w.micTrack.stop();
          w.micTrack = null;
          w.audio.sender.replaceTrack(null).catch(() => {});
        }
      }
    });
    record('mic', { state: 'ok', label: track.label });
    showMicrophone();
    for (const tile of tiles.values()) if (tile.watch) attachMicrophone(tile);
  })();
}

function microphoneMissing(why) {
  mic.state = 'missing';
  record('mic', { state: 'missing', why });
  showMicrophone();
}

function releaseMicrophone() {
  mic.generation += 1;
  if (mic.track) mic.track.stop();
  mic.track = null;
  mic.state = 'none';
  showMicrophone();
}

function showMicrophone() {
  ui.micStatus.textContent = mic.state === 'missing'
    ? '无麦克风，插话仅显示提示 · No microphone: interjection shows the indicator only' : '';
}

// Each watch sends its own clone, enabled only while the officer talks in
// that meeting.
function attachMicrophone(tile) {
  const w = tile.watch;
  if (!w || w.closed || w.micTrack || !mic.track) return;
  const track = mic.track.clone();
  track.enabled = tile.talking;
  w.micTrack = track;
  w.audio.sender.replaceTrack(track)
    .catch((e) => record('watch', { meeting: tile.id, microphoneFailed: e.message }));
}

// ---- codecs: H.264 constrained baseline first (h264.js), as the terminals send it.

function preferH264(transceiver, meeting) {
  const result = preferVideoCodecs(transceiver);
  if (!result) return;
  if (!result.ok) record('watch', { meeting, codecs: 'no H.264 constrained baseline in this browser' });
  if (result.error) record('watch', { meeting, setCodecPreferencesFailed: result.error });
}

// ---- starting and ending a watch

function canWatch() {
  return officer.state === 'signed-in' && officer.ws?.readyState === WebSocket.OPEN;
}

function slot(tile, party) { return q(tile.el, `.video-slot[data-party="${party}"]`); }

function setWatchText(tile, text, fault = false) {
  const dd = q(tile.el, '.watch');
  dd.textContent = text;
  dd.classList.toggle('fault', fault);
  for (const party of PARTIES) q(slot(tile, party), '.watch-text').textContent = text;
}

function clearPictures(tile) {
  for (const party of PARTIES) {
    const s = slot(tile, party);
    s.dataset.picture = '0';
    const video = q(s, 'video');
    video.srcObject = null;
  }
}

// Starts a watch when the meeting is connected and nothing stands in the way
// (a watch, a pending retry, an unanswered unwatch, a refusal).
function maybeWatch(tile) {
  if (tile.watch || tile.watchRetryTimer || tile.watchBlocked) return;
  if (tile.data?.state !== 'connected' || !canWatch()) return;
  if (pendingRequests.unwatch.includes(tile.id)) return;  // started again when it is answered
  if (typeof RTCPeerConnection !== 'function') {
    tile.watchBlocked = true;
    setWatchText(tile, '此浏览器不支持 WebRTC，无法显示画面 · This browser lacks WebRTC: no pictures', true);
    return;
  }
  startWatch(tile);
}

let watchSerial = 0;

function startWatch(tile) {
  const ws = officer.ws;
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require', iceServers: [] });
  const w = {
    serial: ++watchSerial, meeting: tile.id, pc, ws, video: [], audio: null, micTrack: null,
    receivers: {}, pictures: null, sent: false, answered: false, closed: false, serverState: null,
    pendingLocal: [], pendingRemote: [], endOfCandidatesSent: false, answerTimer: null, pollTimer: null,
    frames: { lawyer: { count: 0, at: 0 }, detainee: { count: 0, at: 0 } },
  };
  tile.watch = w;
  for (const party of PARTIES) {
    const t = pc.addTransceiver('video', { direction: 'recvonly' });
    preferH264(t, tile.id);
    w.video.push(t);
    w.receivers[party] = t.receiver;  // by order until the answer names the mids
  }
  // The officer's voice: send only. Without a microphone (yet) the section
  // is there without a track; the track is put in when the microphone opens.
  const track = mic.track ? mic.track.clone() : null;
  if (track) track.enabled = tile.talking;
  w.micTrack = track;
  w.audio = pc.addTransceiver(track || 'audio', { direction: 'sendonly' });

  pc.addEventListener('icecandidate', (ev) => onWatchLocalCandidate(w, ev.candidate));
  pc.addEventListener('connectionstatechange', () => {
    if (w.closed) return;
    record('watch', { meeting: tile.id, connectionState: pc.connectionState });
    if (pc.connectionState === 'connected') setWatchText(tile, WATCH_TEXT.connected);
    if (pc.connectionState === 'failed') {
      watchFailed(tile, w, '画面连接中断 · The picture connection failed');
    }
  });
  setWatchText(tile, WATCH_TEXT.connecting);
  w.pollTimer = setInterval(() => pollPictures(tile, w), 1000);

  (async () => {
    try {
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
    } catch (e) {
      if (tile.watch === w) {
        closeWatch(tile, { text: `无法创建画面连接 · Cannot set up the pictures: ${e.message}`, fault: true });
        tile.watchBlocked = true;
      }
      return;
    }
    if (tile.watch !== w || w.closed) return;
    if (officer.ws !== ws || ws.readyState !== WebSocket.OPEN) {
      closeWatch(tile, {});
      return;
    }
    ws.send(JSON.stringify({ type: 'watch', meeting: tile.id, sdp: pc.localDescription.sdp }));
    w.sent = true;
    pendingRequests.watch.push(tile.id);
    record('sent', { type: 'watch', meeting: tile.id });
    for (const c of w.pendingLocal.splice(0)) sendWatchCandidate(w, c);
    w.answerTimer = setTimeout(() => {
      if (tile.watch === w && !w.answered) {
        watchFailed(tile, w, '服务器未应答画面请求 · The server did not answer the picture request');
      }
    }, WATCH_ANSWER_TIMEOUT_MS);
  })();
}

// Ends the console's side of a watch. `unwatch`: tell the server (when the
// console itself gives the watch up while the server may still hold it).
function closeWatch(tile, { unwatch = false, text = WATCH_TEXT.idle, fault = false } = {}) {
  const w = tile.watch;
  if (!w) return;
  tile.watch = null;
  w.closed = true;
  clearTimeout(w.answerTimer);
  clearInterval(w.pollTimer);
  if (unwatch && w.sent && officer.ws === w.ws && w.ws.readyState === WebSocket.OPEN) {
    w.ws.send(JSON.stringify({ type: 'unwatch', meeting: tile.id }));
    pendingRequests.unwatch.push(tile.id);
    record('sent', { type: 'unwatch', meeting: tile.id });
  }
  try { w.pc.close(); } catch { /* closed already */ }
  if (w.micTrack) w.micTrack.stop();
  clearPictures(tile);
  setWatchText(tile, text, fault);
  record('watch', { meeting: tile.id, closed: true, unwatch, text });
}

// The tile goes away or the connection closed: no unwatch, no retry.
function dropWatch(tile, text) {
  clearTimeout(tile.watchRetryTimer);
  tile.watchRetryTimer = null;
  closeWatch(tile, text ? { text } : {});
}

function watchFailed(tile, w, text) {
  if (tile.watch !== w) return;
  closeWatch(tile, { unwatch: true, text, fault: true });
  scheduleRetry(tile, text);
}

function scheduleRetry(tile, text) {
  if (tile.data?.state !== 'connected' || !canWatch()) return;
  if (tile.watchRetries >= WATCH_RETRIES) {
    tile.watchBlocked = true;
    setWatchText(tile, `${text}（已重试 ${WATCH_RETRIES} 次，不再重试 · gave up after ${WATCH_RETRIES} retries）`, true);
    return;
  }
  tile.watchRetries += 1;
  const seconds = WATCH_RETRY_MS / 1000;
  setWatchText(tile, `${text}（${seconds} 秒后重试 ${tile.watchRetries}/${WATCH_RETRIES} · `
    + `retrying in ${seconds} s, ${tile.watchRetries}/${WATCH_RETRIES}）`, true);
  tile.watchRetryTimer = setTimeout(() => {
    tile.watchRetryTimer = null;
    if (tiles.get(tile.id) === tile) maybeWatch(tile);
  }, WATCH_RETRY_MS);
}

function unwatchAnswered(meeting) {
  const id = takePending('unwatch', meeting);
  const tile = id ? tiles.get(id) : null;
  if (tile) maybeWatch(tile);
}

// ---- candidates

function onWatchLocalCandidate(w, candidate) {
  if (w.closed) return;
  let c;
  if (!candidate || !candidate.candidate) {
    if (w.endOfCandidatesSent) return;
    w.endOfCandidatesSent = true;
    c = { candidate: '', sdpMid: w.video[0]?.mid ?? '0', sdpMLineIndex: 0 };
  } else {
    c = { candidate: candidate.candidate, sdpMid: candidate.sdpMid ?? '0', sdpMLineIndex: candidate.sdpMLineIndex ?? 0 };
  }
  if (w.sent) sendWatchCandidate(w, c);
  else if (w.pendingLocal.length < MAX_WATCH_CANDIDATES) w.pendingLocal.push(c);
}

function sendWatchCandidate(w, c) {
  if (w.closed || officer.ws !== w.ws || w.ws.readyState !== WebSocket.OPEN) return;
  w.ws.send(JSON.stringify({ type: 'watch_candidate', meeting: w.meeting, ...c }));
}

function liveWatch(msg) {
  const tile = typeof msg.meeting === 'string' ? tiles.get(msg.meeting) : null;
  return tile?.watch ? { tile, w: tile.watch } : null;
}

async function onWatchCandidate(msg) {
  const live = liveWatch(msg);
  if (!live || typeof msg.candidate !== 'string') return;
  const { w } = live;
  if (!w.pc.remoteDescription) {
    if (w.pendingRemote.length < MAX_WATCH_CANDIDATES) w.pendingRemote.push(msg);
    return;
  }
  await addWatchCandidate(w, msg);
}

async function addWatchCandidate(w, msg) {
  if (w.closed) return;
  const init = {
    candidate: msg.candidate,
    sdpMid: typeof msg.sdpMid === 'string' ? msg.sdpMid : (w.video[0]?.mid ?? '0'),
    sdpMLineIndex: Number.isInteger(msg.sdpMLineIndex) ? msg.sdpMLineIndex : 0,
  };
  try {
    await w.pc.addIceCandidate(init);
  } catch (e) {
    record('watch', { meeting: w.meeting, remoteCandidateRejected: e.message });
  }
}

// ---- the server's messages about a watch

async function onWatchAnswer(msg) {
  takePending('watch', msg.meeting);
  const live = liveWatch(msg);
  if (!live || !live.w.sent || live.w.answered || typeof msg.sdp !== 'string') {
    record('watch', { meeting: msg.meeting, ignored: 'watch_answer' });
    return;
  }
  const { tile, w } = live;
  w.answered = true;
  clearTimeout(w.answerTimer);
  try {
    await w.pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
  } catch (e) {
    if (tile.watch === w) {
      closeWatch(tile, { unwatch: true, text: `服务器的画面应答无法使用 · The server's answer was rejected: ${e.message}`, fault: true });
      tile.watchBlocked = true;
    }
    return;
  }
  if (tile.watch !== w) return;
  // "pictures" names the mid of each party's picture; without a usable one,
  // the order of the offer (first the lawyer, then the detainee).
  const mids = w.video.map((t) => t.mid);
  const named = msg.pictures && typeof msg.pictures === 'object' ? msg.pictures : {};
  const usable = PARTIES.every((p) => mids.includes(named[p])) && named.lawyer !== named.detainee;
  if (!usable) record('watch', { meeting: tile.id, pictures: 'missing or unknown mids, using the offer order', named });
  w.pictures = {};
  PARTIES.forEach((party, i) => {
    const t = usable ? w.video.find((x) => x.mid === named[party]) : w.video[i];
    w.pictures[party] = t.mid;
    w.receivers[party] = t.receiver;
    const video = q(slot(tile, party), 'video');
    video.muted = true;
    video.srcObject = new MediaStream([t.receiver.track]);
    video.play().catch((e) => record('watch', { meeting: tile.id, party, play: e.name }));
  });
  record('watch', { meeting: tile.id, answered: true, pictures: w.pictures });
  for (const c of w.pendingRemote.splice(0)) await addWatchCandidate(w, c);
}

function onWatchState(msg) {
  const live = liveWatch(msg);
  record('watch', { meeting: msg.meeting, serverState: msg.state, detail: msg.detail });
  if (!live) return;
  live.w.serverState = typeof msg.state === 'string' ? msg.state : null;
  const dd = q(live.tile.el, '.watch');
  dd.title = `服务器 · relay: ${msg.state}${msg.detail ? ` (${msg.detail})` : ''}`;
}

function onWatchEnded(msg) {
  const live = liveWatch(msg);
  record('watch', { meeting: msg.meeting, ended: msg.reason });
  if (!live) return;  // a watch this console closed itself
  const { tile } = live;
  if (msg.reason === 'media_failed') {
    const text = '画面连接中断 · The picture connection failed';
    closeWatch(tile, { text, fault: true });
    scheduleRetry(tile, text);
    return;
  }
  const text = {
    meeting_ended: '会见已结束，画面关闭 · The meeting ended: pictures closed',
    unwatched: '已停止观看 · Watching stopped',
  }[msg.reason] || `画面已结束 · Pictures ended: ${msg.reason}`;
  closeWatch(tile, { text });
  tile.watchBlocked = true;
}

function onWatchError(msg, text) {
  record('watch', { meeting: msg.meeting, error: msg.code, ref: msg.ref, message: msg.message });
  if (msg.ref === 'unwatch') {
    unwatchAnswered(msg.meeting);  // e.g. the watch had ended already
    return;
  }
  if (msg.ref === 'watch_candidate') return;  // one refused candidate; ICE goes on with the others
  const id = takePending('watch', msg.meeting);
  const tile = id ? tiles.get(id) : null;
  if (!tile?.watch || tile.watch.answered) return;
  const why = msg.code === 'unknown_type'
    ? `服务器不支持观看画面 · This server cannot show pictures: ${text}` : `无法观看画面 · Cannot watch: ${text}`;
  closeWatch(tile, { text: why, fault: true });
  tile.watchBlocked = true;
}

// ---- "no picture" and the numbers for tests

async function inboundVideo(receiver) {
  let found = null;
  (await receiver.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp' && (s.kind ?? s.mediaType) === 'video') found = s;
  });
  return {
    framesDecoded: found?.framesDecoded ?? 0,
    frameWidth: found?.frameWidth ?? 0,
    frameHeight: found?.frameHeight ?? 0,
    packetsReceived: found?.packetsReceived ?? 0,
  };
}

async function pollPictures(tile, w) {
  if (w.closed) return;
  const now = Date.now();
  for (const party of PARTIES) {
    let frames;
    try {
      frames = (await inboundVideo(w.receivers[party])).framesDecoded;
    } catch {
      return;
    }
    if (w.closed) return;
    const seen = w.frames[party];
    if (frames > seen.count) {
      seen.count = frames;
      seen.at = now;
    }
    slot(tile, party).dataset.picture = seen.at && now - seen.at < NO_PICTURE_AFTER_MS ? '1' : '0';
  }
}

async function watchStats() {
  const out = {};
  for (const tile of tiles.values()) {
    const w = tile.watch;
    if (!w || w.closed) continue;
    const entry = {
      pictures: {}, mids: w.pictures, inboundAudio: 0, inboundAudioPackets: 0, outboundAudioPackets: 0,
      localSdp: w.pc.localDescription?.sdp ?? null, remoteSdp: w.pc.remoteDescription?.sdp ?? null,
      connectionState: w.pc.connectionState, serverState: w.serverState,
      microphone: mic.state, micTrack: Boolean(w.micTrack), micEnabled: w.micTrack ? w.micTrack.enabled : false,
    };
    try {
      for (const party of PARTIES) entry.pictures[party] = await inboundVideo(w.receivers[party]);
      (await w.pc.getStats()).forEach((s) => {
        const kind = s.kind ?? s.mediaType;
        if (s.type === 'inbound-rtp' && kind === 'audio') {
          entry.inboundAudio += 1;
          entry.inboundAudioPackets += s.packetsReceived ?? 0;
        } else if (s.type === 'outbound-rtp' && kind === 'audio') {
          entry.outboundAudioPackets += s.packetsSent ?? 0;
        }
      });
    } catch (e) {
      entry.error = e.message;
    }
    out[tile.id] = entry;
  }
  return out;
}

function watchSummary() {
  const out = {};
  for (const tile of tiles.values()) {
    const w = tile.watch;
    out[tile.id] = {
      watching: Boolean(w), sent: w?.sent ?? false, answered: w?.answered ?? false,
      connectionState: w?.pc.connectionState ?? null, serverState: w?.serverState ?? null,
      retries: tile.watchRetries, blocked: tile.watchBlocked, text: q(tile.el, '.watch').textContent,
      pictures: Object.fromEntries(PARTIES.map((p) => [p, slot(tile, p).dataset.picture === '1'])),
    };
  }
  return out;
}

// ------------------------------------------------------------------- start

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) openConsole(saved, 0);
