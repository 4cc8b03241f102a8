// huijian officer console (browser). Served by huijiand as /officer.js.
//
// The supervising officer logs in (POST /api/login -> token), then opens
// wss://<host>/ws and sends {"type":"officer_hello","token":...}. The server
// answers officer_welcome (the reasons an officer may end a meeting with, and
// the limits) and pushes "meetings" (every meeting that has not ended) on each
// change. Per meeting the console shows lawyer, detainee, their terminals,
// state, elapsed and remaining time, and lets the officer change the call
// time, send a text notice, interject (push-to-talk: the control messages;
// the audio comes with the media part) and terminate with a reason.
// The pictures of both parties go into the placeholder of each tile later;
// the officer never gets sound.
//
// The token lives in sessionStorage (this tab only) and is dropped when the
// server says it is no longer valid. window.huijianOfficer exposes the state
// for tests.

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
  template: $('tile-template'),
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
  for (const tile of tiles.values()) tile.el.remove();
  tiles.clear();
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
    case 'pong': return undefined;
    default: record('ws', { ignored: msg.type });
  }
  return undefined;
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
  for (const tile of tiles.values()) fillReasons(tile);
  record('state', { state: 'signed-in', username: msg.username });
}

function onOk(msg) {
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
  const tile = { id, el, data: null, talking: false, terminateArmedUntil: 0 };
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
}

function setTalking(tile, on) {
  tile.talking = on;
  const talk = q(tile.el, '.talk');
  talk.setAttribute('aria-pressed', on ? 'true' : 'false');
  talk.textContent = on ? '正在插话… 松开结束 · Speaking… release to stop' : '按住插话 · Hold to interject';
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

// ------------------------------------------------------------------- start

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) openConsole(saved, 0);
