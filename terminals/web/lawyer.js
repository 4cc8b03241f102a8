// huijian lawyer terminal (browser). Served by huijiand as /lawyer.js.
//
// Talks the terminal protocol of huijiand over wss://<host>/ws: hello ->
// welcome, then this page is the OFFERER: it sends its offer right after the
// welcome so media is ready when the meeting connects, trickles ICE candidates
// both ways ("candidate": "" ends them), shows "对方已就位" with a connect
// button when the detainee is ready, and shows both pictures and the running
// call time once the meeting is connected.
//
// Query parameters (for tests and kiosks): ?device=ID&secret=S prefill the
// form; &auto=1 signs in at once and presses connect as soon as the other side
// is ready and this page's own media to the server is up (secure), as a
// person would once they see their own picture. The secret is removed from
// the address bar after it is read.
//
// Supervision: the server sends the end time ("time", at connect and when an
// officer changes it), warnings before the end ("time_warning"), the
// officer's text notices ("notice"), "officer_speaking" true/false while the
// officer interjects, and the end reason with a code in "ended". The page
// shows the time left, the warnings and notices in a banner, the speaking
// indicator on the picture and the reason in the end overlay.
//
// The officer's voice: the offer has a third m-line, audio recvonly, after
// this page's own audio and video; the relay sends an interjecting officer's
// voice on it (docs/protocol.md "The officer's voice (terminals)"). It plays
// through its own hidden <audio> element; the detainee's sound keeps coming
// on the first audio m-line.
//
// window.huijian exposes the state for tests: { state, pc, events, connectedAt,
// meeting, endsAt, timeUpdates, warnings, notices, officerSpeaking, endCode,
// officerTransceiver, ... , connect(), end(reason), officerVoiceStats() }.

import { preferH264 as preferVideoCodecs } from './h264.js';

const MAX_MESSAGE_CHARS = 64 * 1024;   // the server's limit; anything larger is dropped
const MAX_EVENTS = 2000;               // bounded history for tests
const MAX_PENDING_CANDIDATES = 200;    // bound on candidates queued before the answer
const MAX_SUPERVISION_ENTRIES = 200;   // bounded history of times, warnings, notices
const WARNING_SHOWN_MS = 20000;
const NOTICE_SHOWN_MS = 30000;

const STATE_TEXT = {
  'signed-out': '未登录 · Signed out',
  'signing-in': '正在登录 · Signing in',
  'no-meeting': '暂无会见 · No meeting scheduled',
  waiting: '等待对方就位 · Waiting for the detainee',
  detainee_ready: '对方已就位 · Detainee ready',
  connected: '会见中 · In meeting',
  ended: '会见已结束 · Meeting ended',
  disconnected: '已断开 · Disconnected',
};

const MEDIA_TEXT = {
  connected: '已连接 · Connected',
  secure: '已加密 · Encrypted',
  failed: '连接失败 · Failed',
  closed: '已关闭 · Closed',
};

const $ = (id) => document.getElementById(id);

const ui = {
  login: $('login'), device: $('device'), secret: $('secret'), loginButton: $('login-button'),
  loginStatus: $('login-status'), facts: $('facts'), meetingId: $('meeting-id'), caseId: $('case-id'),
  peerName: $('peer-name'), stateText: $('state-text'), mediaText: $('media-text'), callTime: $('call-time'),
  callTimeBig: $('call-time-big'), remainingTime: $('remaining-time'), remainingBig: $('remaining-big'),
  noticeBanner: $('notice-banner'), noticeText: $('notice-text'), noticeClose: $('notice-close'),
  officerSpeaking: $('officer-speaking'), call: $('call'), remoteVideo: $('remote-video'), remoteAudio: $('remote-audio'),
  officerAudio: $('officer-audio'),
  remoteLabel: $('remote-label'), remotePlaceholder: $('remote-placeholder'), localVideo: $('local-video'),
  localLabel: $('local-label'), endButton: $('end-button'), readyOverlay: $('ready-overlay'),
  connectButton: $('connect-button'), endedOverlay: $('ended-overlay'), endedReason: $('ended-reason'),
  banner: $('error-banner'), bannerText: $('error-text'), bannerClose: $('error-close'),
};

const params = new URLSearchParams(location.search);
const autoMode = params.get('auto') === '1';

// Everything a test may want to look at lives on this one object.
const huijian = {
  state: 'signed-out',
  meetingState: null,
  mediaState: null,
  pc: null,
  ws: null,
  events: [],
  errors: [],
  connectedAt: null,
  endedAt: null,
  endReason: null,
  endCode: null,
  endsAt: null,          // server's end time (ISO) of the running meeting
  endsAtLocal: null,     // the same on this browser's clock (ms)
  timeUpdates: [],
  warnings: [],
  notices: [],
  officerSpeaking: false,
  device: null,
  name: null,
  role: null,
  meeting: null,
  auto: autoMode,
  localStream: null,
  remoteStream: null,
  officerTransceiver: null,  // the recvonly audio transceiver of the officer's voice
  connect: () => pressConnect('api'),
  end: (reason) => sendEnd(reason || '律师结束会见 · ended by the lawyer'),
  officerVoiceStats: () => officerVoiceStats(),
};
window.huijian = huijian;

function record(kind, detail) {
  const entry = { at: new Date().toISOString(), t: Math.round(performance.now()), kind, ...detail };
  huijian.events.push(entry);
  if (huijian.events.length > MAX_EVENTS) huijian.events.splice(0, huijian.events.length - MAX_EVENTS);
  console.log(`[huijian] ${kind}`, JSON.stringify(detail));
}

// ---------------------------------------------------------------- UI helpers

function showError(text) {
  huijian.errors.push({ at: new Date().toISOString(), text });
  ui.bannerText.textContent = text;
  ui.banner.hidden = false;
  record('error', { text });
}

ui.bannerClose.addEventListener('click', () => { ui.banner.hidden = true; });

function setState(state, extra = {}) {
  huijian.state = state;
  ui.stateText.textContent = STATE_TEXT[state] || state;
  document.body.dataset.state = state;
  record('state', { state, ...extra });
  render();
}

function render() {
  const s = huijian.state;
  const inMeeting = huijian.meeting && !['ended', 'disconnected', 'signed-out'].includes(s);
  ui.readyOverlay.hidden = s !== 'detainee_ready';
  ui.endedOverlay.hidden = s !== 'ended';
  ui.endButton.disabled = !inMeeting;
  ui.remotePlaceholder.hidden = s === 'connected' && remoteVideoPlaying;
}

function pad2(n) { return String(n).padStart(2, '0'); }

function formatDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  return `${pad2(Math.floor(total / 3600))}:${pad2(Math.floor(total / 60) % 60)}:${pad2(total % 60)}`;
}

let timerHandle = null;
function tick() {
  const until = huijian.endedAt ?? Date.now();
  const text = huijian.connectedAt ? formatDuration(until - huijian.connectedAt) : '00:00:00';
  ui.callTime.textContent = text;
  ui.callTimeBig.textContent = text;
  if (huijian.endsAtLocal !== null) {
    const left = formatDuration(Math.max(0, huijian.endsAtLocal - until) + 999);
    ui.remainingTime.textContent = left;
    ui.remainingBig.textContent = `剩余 ${left}`;
    ui.remainingBig.hidden = false;
    const soon = huijian.endsAtLocal - until <= 60000;
    ui.remainingTime.classList.toggle('soon', soon);
    ui.remainingBig.classList.toggle('soon', soon);
  }
}
function startTimer() {
  if (timerHandle === null) timerHandle = setInterval(tick, 250);
  tick();
}
function stopTimer() {
  if (timerHandle !== null) clearInterval(timerHandle);
  timerHandle = null;
  tick();
}

let remoteVideoPlaying = false;
ui.remoteVideo.addEventListener('playing', () => { remoteVideoPlaying = true; record('ui', { remoteVideo: 'playing' }); render(); });
ui.remoteVideo.addEventListener('resize', () => {
  record('ui', { remoteVideoSize: `${ui.remoteVideo.videoWidth}x${ui.remoteVideo.videoHeight}` });
});

// ----------------------------------------------------------------- signaling

function send(msg) {
  const ws = huijian.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN) {
    record('ws', { dropped: msg.type, why: 'socket not open' });
    return false;
  }
  ws.send(JSON.stringify(msg));
  if (msg.type !== 'candidate' && msg.type !== 'hello') record('sent', { type: msg.type });
  return true;
}

function signIn(device, secret) {
  if (huijian.ws) return;
  ui.loginButton.disabled = true;
  ui.loginStatus.textContent = '正在连接服务器… · Connecting to the server…';
  setState('signing-in');
  const scheme = location.protocol === 'http:' ? 'ws' : 'wss';
  let ws;
  try {
    ws = new WebSocket(`${scheme}://${location.host}/ws`);
  } catch (e) {
    failSignIn(`无法连接服务器 · Cannot reach the server: ${e.message}`);
    return;
  }
  huijian.ws = ws;
  let welcomed = false;
  ws.addEventListener('open', () => {
    record('ws', { open: true });
    ws.send(JSON.stringify({ type: 'hello', device, secret }));
  });
  ws.addEventListener('message', (ev) => {
    if (typeof ev.data !== 'string' || ev.data.length > MAX_MESSAGE_CHARS) {
      record('ws', { dropped: 'oversized or binary message' });
      return;
    }
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      record('ws', { dropped: 'invalid JSON' });
      return;
    }
    if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') {
      record('ws', { dropped: 'message without type' });
      return;
    }
    if (msg.type === 'welcome') welcomed = true;
    try {
      handleMessage(msg, welcomed);
    } catch (e) {
      showError(`处理服务器消息出错 · Could not handle "${msg.type}": ${e.message}`);
    }
  });
  ws.addEventListener('close', (ev) => {
    record('ws', { closed: true, code: ev.code, reason: ev.reason });
    if (huijian.ws !== ws) return; // already handled (sign-in failed and the page closed it)
    huijian.ws = null;
    if (!welcomed) {
      failSignIn(`登录失败：与服务器的连接已关闭 · Sign-in failed: the server closed the connection (${ev.code})`);
    } else if (huijian.state !== 'ended') {
      showError(`与服务器的连接已断开 · Connection to the server was lost (${ev.code}${ev.reason ? ': ' + ev.reason : ''})`);
      closeMedia();
      stopTimer();
      setState('disconnected');
    }
  });
  ws.addEventListener('error', () => record('ws', { error: true }));
}

function failSignIn(text) {
  ui.loginStatus.textContent = text;
  ui.loginButton.disabled = false;
  ui.login.hidden = false;
  if (huijian.ws) { try { huijian.ws.close(); } catch { /* already closing */ } }
  huijian.ws = null;
  showError(text);
  setState('signed-out');
}

function handleMessage(msg, welcomed) {
  switch (msg.type) {
    case 'welcome': return onWelcome(msg);
    case 'answer': return onAnswer(msg);
    case 'candidate': return onRemoteCandidate(msg);
    case 'state': return onMeetingState(msg);
    case 'peer_ready': return onPeerReady(msg);
    case 'ended': return onEnded(endText(msg), msg.by, msg.code);
    case 'media': return onMediaState(msg.state);
    case 'time': return onTime(msg);
    case 'time_warning': return onTimeWarning(msg);
    case 'notice': return onNotice(msg);
    case 'officer_speaking': return onOfficerSpeaking(msg);
    case 'error': {
      const text = `${msg.message || '服务器错误 · Server error'}${msg.code ? ` (${msg.code})` : ''}`;
      record('server-error', { code: msg.code, message: msg.message });
      if (!welcomed) failSignIn(`登录失败 · Sign-in failed: ${text}`);
      else showError(text);
      return;
    }
    default:
      record('ws', { ignored: msg.type });
  }
}

function onWelcome(msg) {
  huijian.device = msg.device ?? null;
  huijian.name = msg.name ?? msg.device ?? null;
  huijian.role = msg.role ?? null;
  record('welcome', { device: huijian.device, role: huijian.role, meeting: msg.meeting?.id ?? null });
  ui.login.hidden = true;
  ui.loginStatus.textContent = '';
  ui.banner.hidden = true; // a sign-in failure from before no longer applies
  ui.facts.hidden = false;
  ui.call.hidden = false;
  ui.localLabel.textContent = huijian.name || '本机 · This terminal';
  if (huijian.role && huijian.role !== 'lawyer-terminal') {
    showError(`此页面仅供律师终端使用，本设备角色为 ${huijian.role} · This page is for lawyer terminals only`);
  }
  const m = msg.meeting;
  if (!m || typeof m !== 'object') {
    huijian.meeting = null;
    setState('no-meeting');
    return;
  }
  huijian.meeting = { id: m.id ?? null, case_id: m.case_id ?? null, peer: m.peer ?? null };
  ui.meetingId.textContent = m.id ?? '—';
  ui.caseId.textContent = m.case_id ?? '—';
  const peerName = m.peer?.name || m.peer?.device || '—';
  ui.peerName.textContent = peerName;
  ui.remoteLabel.textContent = peerName;
  huijian.meetingState = m.state ?? 'waiting';
  applyMeetingState(huijian.meetingState, {});
  if (huijian.meetingState !== 'ended') {
    startMedia().catch((e) => showError(`无法建立媒体连接 · Could not set up media: ${e.message}`));
  }
}

function onMeetingState(msg) {
  if (huijian.meeting && msg.meeting && msg.meeting !== huijian.meeting.id) {
    record('ws', { ignored: 'state of another meeting', meeting: msg.meeting });
    return;
  }
  huijian.meetingState = msg.state;
  applyMeetingState(msg.state, { by: msg.by, serverAt: msg.at, text: msg.text });
}

function applyMeetingState(state, extra) {
  switch (state) {
    case 'connected':
      if (!huijian.connectedAt) huijian.connectedAt = Date.now();
      setState('connected', extra);
      startTimer();
      break;
    case 'ended':
      onEnded(extra.text, extra.by);
      break;
    case 'detainee_ready':
      setState('detainee_ready', extra);
      maybeAutoConnect();
      break;
    default:
      if (state === 'waiting') resetConnect();
      setState(state, extra);
  }
}

function onPeerReady(msg) {
  record('peer_ready', { text: msg.text, action: msg.action });
  const headline = ui.readyOverlay.querySelector('.headline');
  if (msg.text) headline.textContent = msg.text;
  if (msg.action) ui.connectButton.firstChild.textContent = msg.action;
  if (huijian.state === 'detainee_ready') {
    maybeAutoConnect();
  } else if (huijian.state !== 'connected' && huijian.state !== 'ended') {
    huijian.meetingState = 'detainee_ready';
    setState('detainee_ready', { from: 'peer_ready' });
    maybeAutoConnect();
  }
}

let connectPressed = false;
let autoScheduled = false;
function maybeAutoConnect() {
  if (!autoMode || autoScheduled || connectPressed) return;
  if (huijian.state !== 'detainee_ready' || huijian.mediaState !== 'secure') return;
  autoScheduled = true;
  setTimeout(() => pressConnect('auto'), 300);
}

// Back to waiting (e.g. the detainee left): the button may be pressed again.
function resetConnect() {
  connectPressed = false;
  autoScheduled = false;
  ui.connectButton.disabled = false;
}

function pressConnect(how) {
  if (huijian.state !== 'detainee_ready' || connectPressed) return false;
  connectPressed = true;
  ui.connectButton.disabled = true;
  record('ui', { connect: how });
  return send({ type: 'connect' });
}

ui.connectButton.addEventListener('click', () => pressConnect('button'));

let endArmedUntil = 0;
ui.endButton.addEventListener('click', () => {
  // Two presses within 5 s, so a stray click does not end a meeting.
  const now = Date.now();
  if (now > endArmedUntil) {
    endArmedUntil = now + 5000;
    ui.endButton.firstChild.textContent = '再按一次确认结束 ';
    setTimeout(() => { if (Date.now() >= endArmedUntil) ui.endButton.firstChild.textContent = '结束会见 '; }, 5100);
    return;
  }
  endArmedUntil = 0;
  sendEnd('律师结束会见 · ended by the lawyer');
});

function sendEnd(reason) {
  record('ui', { end: reason });
  return send({ type: 'end', reason });
}

// ------------------------------------------------------------- supervision

function pushBounded(list, entry) {
  list.push(entry);
  if (list.length > MAX_SUPERVISION_ENTRIES) list.splice(0, list.length - MAX_SUPERVISION_ENTRIES);
}

function isoMs(text) {
  const t = typeof text === 'string' ? Date.parse(text) : NaN;
  return Number.isFinite(t) ? t : null;
}

function onTime(msg) {
  const ends = isoMs(msg.ends_at);
  if (ends === null) {
    record('ws', { ignored: 'time without ends_at' });
    return;
  }
  const serverNow = isoMs(msg.now);
  const remainingMs = serverNow !== null ? ends - serverNow : Number(msg.remaining_seconds) * 1000;
  huijian.endsAt = msg.ends_at;
  huijian.endsAtLocal = Date.now() + Math.max(0, remainingMs || 0);
  pushBounded(huijian.timeUpdates, { endsAt: msg.ends_at, by: msg.by ?? null, text: msg.text ?? null, at: new Date().toISOString() });
  record('time', { endsAt: msg.ends_at, remaining: msg.remaining_seconds, by: msg.by });
  if (typeof msg.text === 'string' && msg.text) showNotice(msg.text, 'time', NOTICE_SHOWN_MS);
  tick();
}

function onTimeWarning(msg) {
  const text = [msg.text, msg.text_en].filter((x) => typeof x === 'string' && x).join(' · ')
    || `会见时间还剩 ${Number(msg.remaining_seconds)} 秒`;
  pushBounded(huijian.warnings, { remaining: msg.remaining_seconds, text, at: new Date().toISOString() });
  record('time_warning', { remaining: msg.remaining_seconds });
  showNotice(text, 'warning', WARNING_SHOWN_MS);
}

function onNotice(msg) {
  if (typeof msg.text !== 'string') return;
  pushBounded(huijian.notices, { text: msg.text, from: msg.from ?? null, serverAt: msg.at ?? null, at: new Date().toISOString() });
  record('notice', { text: msg.text });
  showNotice(`监管民警通知 · Officer's notice: ${msg.text}`, 'notice', NOTICE_SHOWN_MS);
}

function onOfficerSpeaking(msg) {
  huijian.officerSpeaking = msg.speaking === true;
  record('officer_speaking', { speaking: huijian.officerSpeaking });
  ui.officerSpeaking.hidden = !huijian.officerSpeaking;
}

let noticeTimer = null;
function showNotice(text, kind, ms) {
  ui.noticeText.textContent = text;  // textContent: the officer's words are never HTML
  ui.noticeBanner.dataset.kind = kind;
  ui.noticeBanner.hidden = false;
  if (noticeTimer !== null) clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { ui.noticeBanner.hidden = true; noticeTimer = null; }, ms);
}

ui.noticeClose.addEventListener('click', () => { ui.noticeBanner.hidden = true; });

// The reason people read: for a coded end (officer, call time over), the
// Chinese and English texts and the officer's words; otherwise the reason.
function endText(msg) {
  if (msg.code && msg.text_zh) {
    const zh = msg.text_zh + (msg.detail ? `：${msg.detail}` : '');
    return msg.text_en ? `${zh} · ${msg.text_en}` : zh;
  }
  return msg.reason;
}

function onEnded(reason, by, code) {
  if (!huijian.endedAt) huijian.endedAt = Date.now();
  if (code) huijian.endCode = code;
  ui.officerSpeaking.hidden = true;
  huijian.officerSpeaking = false;
  huijian.endReason = reason ?? huijian.endReason ?? null;
  huijian.meetingState = 'ended';
  const parts = [];
  if (reason) parts.push(`原因 · Reason: ${reason}`);
  if (by) parts.push(`由 · By: ${nameOf(by)}`);
  endArmedUntil = 0;
  ui.endButton.firstChild.textContent = '结束会见 ';
  ui.endedReason.textContent = parts.join('　');
  stopTimer();
  closeMedia();
  if (huijian.state !== 'ended') setState('ended', { reason, by });
}

function nameOf(device) {
  if (device === 'officer') return '监管民警 · Supervising officer';
  if (device === 'server') return '系统 · Server';
  if (device === huijian.device && huijian.name) return huijian.name;
  const peer = huijian.meeting?.peer;
  if (peer && device === peer.device && peer.name) return peer.name;
  return device;
}

function onMediaState(state) {
  huijian.mediaState = state;
  ui.mediaText.textContent = MEDIA_TEXT[state] || String(state);
  record('media', { state });
  if (state === 'failed') showError('媒体连接失败 · The media connection failed');
  if (state === 'secure') maybeAutoConnect();
}

// --------------------------------------------------------------------- media

let offerSent = false;
let endOfCandidatesSent = false;
const pendingLocalCandidates = [];
const pendingRemoteCandidates = [];

// H.264 constrained baseline first (h264.js); a browser without it is told.
function preferH264(transceiver) {
  const result = preferVideoCodecs(transceiver);
  if (!result) return;
  if (!result.ok) showError('浏览器不支持 H.264 受限基线编码 · This browser lacks H.264 constrained baseline');
  record('media', result.error ? { setCodecPreferencesFailed: result.error } : { codecs: result.codecs });
}

async function getLocalMedia() {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({
      video: { width: 1920, height: 1080, frameRate: 30 },
      audio: { echoCancellation: true },
    });
    const vt = stream.getVideoTracks()[0];
    if (vt) {
      vt.contentHint = 'detail';
      const s = vt.getSettings();
      record('media', { camera: `${s.width}x${s.height}@${s.frameRate}` });
    }
    return stream;
  } catch (e) {
    showError(`无法打开摄像头或麦克风 · Cannot open camera or microphone: ${e.name} ${e.message}`);
    return null;
  }
}

async function startMedia() {
  if (huijian.pc) return;
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require', iceServers: [] });
  huijian.pc = pc;
  huijian.remoteStream = new MediaStream();
  ui.remoteVideo.srcObject = huijian.remoteStream;

  pc.addEventListener('icecandidate', (ev) => onLocalCandidate(ev.candidate));
  pc.addEventListener('connectionstatechange', () => record('pc', { connectionState: pc.connectionState }));
  pc.addEventListener('iceconnectionstatechange', () => {
    record('ice', { iceConnectionState: pc.iceConnectionState });
    if (pc.iceConnectionState === 'failed') showError('网络连接失败 · The network connection (ICE) failed');
  });
  pc.addEventListener('icegatheringstatechange', () => record('ice', { iceGatheringState: pc.iceGatheringState }));
  pc.addEventListener('track', (ev) => {
    if (huijian.officerTransceiver && ev.transceiver === huijian.officerTransceiver) {
      // Kept apart from the detainee's sound and picture (remoteStream).
      record('media', { remoteTrack: ev.track.kind, officerVoice: true, mid: ev.transceiver.mid });
      ui.officerAudio.srcObject = new MediaStream([ev.track]);
      ui.officerAudio.play().catch((e) => record('media', { officerAudioPlay: e.name }));
      return;
    }
    record('media', { remoteTrack: ev.track.kind });
    huijian.remoteStream.addTrack(ev.track);
    if (ev.track.kind === 'audio') {
      ui.remoteAudio.srcObject = new MediaStream([ev.track]);
      ui.remoteAudio.play().catch((e) => record('media', { audioPlay: e.name }));
    } else {
      ui.remoteVideo.srcObject = new MediaStream([ev.track]);
      ui.remoteVideo.play().catch((e) => record('media', { videoPlay: e.name }));
    }
  });

  const stream = await getLocalMedia();
  if (huijian.pc !== pc) return; // ended while the camera was opening
  huijian.localStream = stream;
  if (stream) ui.localVideo.srcObject = stream;
  const streams = stream ? [stream] : [];
  const audioTrack = stream?.getAudioTracks()[0];
  const videoTrack = stream?.getVideoTracks()[0];
  pc.addTransceiver(audioTrack || 'audio', { direction: 'sendrecv', streams });
  const video = pc.addTransceiver(videoTrack || 'video', {
    direction: 'sendrecv',
    streams,
    sendEncodings: [{ maxBitrate: 4_000_000, maxFramerate: 30 }],
  });
  preferH264(video);
  // Last: the officer's voice, receive only (the relay answers it sendonly).
  huijian.officerTransceiver = pc.addTransceiver('audio', { direction: 'recvonly' });

  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  if (huijian.pc !== pc) return;
  offerSent = send({ type: 'offer', sdp: pc.localDescription.sdp });
  if (offerSent) {
    for (const c of pendingLocalCandidates.splice(0)) send(c);
  }
}

// The officer's voice as received: the inbound-rtp stats of the officer
// transceiver's mid. Also after the end (the closed connection keeps its last
// stats; if it cannot give them, the last figure read is returned).
let lastOfficerVoice = { packetsReceived: 0, mid: null };
async function officerVoiceStats() {
  const pc = huijian.pc;
  const t = huijian.officerTransceiver;
  if (!pc || !t) return { ...lastOfficerVoice };
  const mid = t.mid ?? lastOfficerVoice.mid;
  const trackId = t.receiver?.track?.id;
  let stats;
  try {
    stats = await pc.getStats();
  } catch (e) {
    return { ...lastOfficerVoice };
  }
  let packetsReceived = 0;
  stats.forEach((s) => {
    if (s.type !== 'inbound-rtp' || s.kind !== 'audio') return;
    if (s.mid !== undefined ? s.mid === mid : s.trackIdentifier === trackId) packetsReceived = s.packetsReceived ?? 0;
  });
  lastOfficerVoice = { packetsReceived: Math.max(packetsReceived, lastOfficerVoice.packetsReceived), mid };
  return { ...lastOfficerVoice };
}

function onLocalCandidate(candidate) {
  let msg;
  if (!candidate || !candidate.candidate) {
    if (endOfCandidatesSent) return;
    endOfCandidatesSent = true;
    msg = { type: 'candidate', candidate: '', sdpMid: '0', sdpMLineIndex: 0 };
    record('ice', { localCandidates: 'end' });
  } else {
    msg = {
      type: 'candidate',
      candidate: candidate.candidate,
      sdpMid: candidate.sdpMid ?? '0',
      sdpMLineIndex: candidate.sdpMLineIndex ?? 0,
    };
    record('ice', { local: candidate.type, protocol: candidate.protocol, address: candidate.address });
  }
  if (offerSent) send(msg);
  else if (pendingLocalCandidates.length < MAX_PENDING_CANDIDATES) pendingLocalCandidates.push(msg);
}

async function onAnswer(msg) {
  const pc = huijian.pc;
  if (!pc || typeof msg.sdp !== 'string') {
    record('ws', { ignored: 'answer without offer or sdp' });
    return;
  }
  try {
    await pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
    record('media', { answer: 'applied' });
  } catch (e) {
    showError(`服务器的应答无法使用 · The server's answer was rejected: ${e.message}`);
    return;
  }
  for (const c of pendingRemoteCandidates.splice(0)) await addRemoteCandidate(c);
}

async function onRemoteCandidate(msg) {
  if (typeof msg.candidate !== 'string') return;
  if (!huijian.pc || !huijian.pc.remoteDescription) {
    if (pendingRemoteCandidates.length < MAX_PENDING_CANDIDATES) pendingRemoteCandidates.push(msg);
    return;
  }
  await addRemoteCandidate(msg);
}

async function addRemoteCandidate(msg) {
  const pc = huijian.pc;
  if (!pc) return;
  const init = {
    candidate: msg.candidate,
    sdpMid: typeof msg.sdpMid === 'string' ? msg.sdpMid : '0',
    sdpMLineIndex: Number.isInteger(msg.sdpMLineIndex) ? msg.sdpMLineIndex : 0,
  };
  try {
    await pc.addIceCandidate(init);
    record('ice', { remote: msg.candidate === '' ? 'end' : msg.candidate.split(' ').slice(4, 8).join(' ') });
  } catch (e) {
    record('ice', { remoteRejected: e.message });
  }
}

function closeMedia() {
  const pc = huijian.pc;
  if (pc && pc.signalingState !== 'closed') {
    record('pc', { closed: true });
    try { pc.close(); } catch { /* already closed */ }
  }
  if (huijian.localStream) for (const t of huijian.localStream.getTracks()) t.stop();
  huijian.localStream = null;
  // huijian.pc keeps pointing at the closed connection so tests can read its final stats.
}

// --------------------------------------------------------------------- start

ui.login.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const device = ui.device.value.trim();
  const secret = ui.secret.value;
  if (!device || !secret) {
    ui.loginStatus.textContent = '请填写设备编号和密钥 · Enter the device id and secret';
    return;
  }
  signIn(device, secret);
});

if (params.has('device')) ui.device.value = params.get('device');
if (params.has('secret')) {
  ui.secret.value = params.get('secret');
  params.delete('secret');
  const rest = params.toString();
  history.replaceState(null, '', location.pathname + (rest ? `?${rest}` : '') + location.hash);
}
setState('signed-out');
tick();
if (autoMode && ui.device.value && ui.secret.value) signIn(ui.device.value.trim(), ui.secret.value);
