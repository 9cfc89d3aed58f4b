// The replay page: /sessions/{id}/replay for a signed-in rep, coach or admin (the session
// cookie) or for the admin with the dashboard's stored token, and /replay/{inviteToken} for
// the session's rep or coach invite (a guest's link). It loads the replay from the API
// (docs/api.md, "Replay"), plays every recorded span in sync from one master clock
// (replay-sync.js), draws the timeline (replay-timeline.js) and lists, adds and jumps to
// timestamped comments. What a rep may see is decided by the server; this page shows what it
// is given.

import { $, el, clock, pageViews } from './ui.js';
import { MasterClock, Slave, Sync } from './replay-sync.js';
import { renderTimeline } from './replay-timeline.js';
import { mountScorecard } from './scoring.js';
import { mountTalk } from './analytics.js';

const TOKEN_KEY = 'ringside.adminToken'; // shared with the dashboard
const SKIP_MS = 10000;
const ROLE_ORDER = { rep: 0, partner: 1, coach: 2 };
const ROLE_NAMES = { rep: 'rep', partner: 'partner', coach: 'coach' };

class HTTPError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// Where the page was opened from decides how it authenticates: an invite address with its
// token; a session address with the browser's sign-in (the cookie, sent by itself), or, when
// there is none, with the dashboard's stored admin token (r.bearer, set by fetchReplay).
function route() {
  const path = location.pathname;
  let m = path.match(/^\/replay\/([A-Za-z0-9_-]+)\/?$/);
  if (m) return { kind: 'invite', token: m[1], replayPath: '/api/replay' };
  m = path.match(/^\/sessions\/([^/]+)\/replay\/?$/);
  if (m) {
    const id = decodeURIComponent(m[1]);
    return { kind: 'session', id, bearer: '', replayPath: `/api/sessions/${encodeURIComponent(id)}/replay` };
  }
  return null;
}

function storedAdminToken() {
  return localStorage.getItem(TOKEN_KEY) || sessionStorage.getItem(TOKEN_KEY) || '';
}

function bearer(r) {
  return r.kind === 'invite' ? r.token : r.bearer;
}

async function api(r, method, path, body) {
  const headers = body ? { 'Content-Type': 'application/json' } : {};
  if (bearer(r)) headers.Authorization = `Bearer ${bearer(r)}`;
  const res = await fetch(path, {
    method,
    headers,
    body: body ? JSON.stringify(body) : undefined,
    cache: 'no-store',
    credentials: 'same-origin',
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const e = data.error || {};
    throw new HTTPError(res.status, e.code || '', e.message || `HTTP ${res.status}`);
  }
  return data;
}

const { show, problem } = pageViews(['loading', 'problem', 'signin', 'player']);

// fetchReplay loads the replay. A session address tries the sign-in first (the cookie) and,
// when that is refused, the dashboard's stored admin token.
async function fetchReplay(r) {
  if (r.kind === 'invite') return api(r, 'GET', r.replayPath);
  r.bearer = '';
  try {
    return await api(r, 'GET', r.replayPath);
  } catch (err) {
    const token = storedAdminToken();
    if (!(err instanceof HTTPError) || err.status !== 401 || !token) throw err;
    r.bearer = token;
    return api(r, 'GET', r.replayPath);
  }
}

function explain(r, err) {
  if (err instanceof HTTPError) {
    if (err.status === 401 && r.kind === 'session') return signIn(r, r.bearer ? 'The admin token was not accepted.' : '');
    if (err.status === 401) return problem('This replay link is not valid', 'Ask your coach or the organiser for a new link.');
    if (err.status === 403) return problem('This link does not open the recording', err.message === 'guests do not see recordings or comments' ?
      'Recordings are shown to the rep and the coach of a session only.' : err.message);
    if (err.status === 404) return problem('No such session', 'It may have been deleted, or it is not one of yours.');
  }
  return problem('The replay could not be loaded', `${err.message}. Check your connection and reload the page.`);
}

function signIn(r, message = '') {
  show('signin');
  $('signin-status').textContent = message;
  $('signin-token').focus();
  $('signin-form').onsubmit = (e) => {
    e.preventDefault();
    const token = $('signin-token').value.trim();
    localStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(TOKEN_KEY);
    ($('signin-remember').checked ? localStorage : sessionStorage).setItem(TOKEN_KEY, token);
    $('signin-token').value = '';
    load(r);
  };
}

// ---- the player -------------------------------------------------------------------------

const who = (t) => `${t.name || ROLE_NAMES[t.role] || t.role} (${ROLE_NAMES[t.role] || t.role})`;
const personKey = (t) => `${t.role}\u0000${t.name}`;
const byRole = (a, b) => (ROLE_ORDER[a.role] ?? 9) - (ROLE_ORDER[b.role] ?? 9);

function spanEnd(t, durationMs) {
  return t.durationMs > 0 ? t.startOffsetMs + t.durationMs : durationMs;
}

function buildMedia(replay, durationMs) {
  const playable = replay.tracks.filter((t) => t.url);
  const slaves = [];
  const tiles = new Map();
  const videos = playable.filter((t) => t.kind === 'video').sort(byRole);
  for (const t of videos) {
    if (!tiles.has(personKey(t))) {
      const tile = el('figure', { class: 'tile rp-tile', 'data-role': t.role, 'data-video': 'off' },
        el('span', { class: 'avatar', 'aria-hidden': 'true', text: (t.name || t.role).slice(0, 1).toUpperCase() }),
        el('figcaption', {}, el('span', { class: 'name', text: t.name || t.role }), el('span', { class: 'role', text: ROLE_NAMES[t.role] || t.role })));
      tiles.set(personKey(t), tile);
    }
    const v = el('video', {
      src: t.url, preload: 'auto', playsinline: true, muted: true,
      'data-track': t.id, 'data-active': 'false', 'aria-label': `${who(t)} video`,
    });
    v.muted = true;
    tiles.get(personKey(t)).prepend(v);
    slaves.push(new Slave(t, v, spanEnd(t, durationMs)));
  }
  for (const t of playable.filter((x) => x.kind === 'audio')) {
    const a = el('audio', { src: t.url, preload: 'auto', 'data-track': t.id, 'data-whisper': t.whisper ? 'true' : 'false' });
    $('sinks').append(a);
    slaves.push(new Slave(t, a, spanEnd(t, durationMs)));
  }
  $('stage').replaceChildren($('rp-mode'), ...tiles.values(), $('stage-empty'));
  $('stage-empty').hidden = tiles.size > 0;
  $('stage').dataset.tiles = String(tiles.size);
  return { slaves, tiles };
}

function timelineModel(replay, durationMs) {
  const rows = new Map();
  for (const t of [...replay.tracks].sort(byRole)) {
    const key = personKey(t);
    if (!rows.has(key)) rows.set(key, { label: t.name || t.role, cls: `role-${t.role}`, spans: [] });
    if (t.kind !== 'audio' || !t.url) continue;
    rows.get(key).spans.push({
      startMs: t.startOffsetMs, endMs: spanEnd(t, durationMs),
      kind: t.whisper ? 'whisper' : 'speech', title: t.whisper ? `${t.name} whispering` : `${t.name} sound`,
    });
  }
  const out = [...rows.values()];
  if (replay.coachModes.length) {
    out.push({
      label: 'Coach mode', cls: 'tl-modes',
      spans: replay.coachModes.map((c) => ({ startMs: c.startMs, endMs: c.endMs, kind: c.mode, title: c.label })),
    });
  }
  const points = [
    ...replay.markers.map((k) => ({ ms: k.offsetMs, kind: 'marker', id: k.id, text: k.note || 'Marker' })),
    ...replay.comments.map((c) => ({ ms: c.offsetMs, kind: 'comment', id: c.id, text: c.text, author: c.author })),
  ].sort((a, b) => a.ms - b.ms);
  return { durationMs, rows: out, points };
}

function renderNotes(replay, seek) {
  const items = [
    ...replay.markers.map((k) => ({ ms: k.offsetMs, kind: 'marker', id: k.id, who: 'Marker', text: k.note || '(no note)' })),
    ...replay.comments.map((c) => ({ ms: c.offsetMs, kind: 'comment', id: c.id, who: c.author, text: c.text })),
  ].sort((a, b) => a.ms - b.ms);
  $('notes').replaceChildren(...items.map((n) => {
    const b = el('button', { type: 'button', class: `note ${n.kind}`, [`data-${n.kind}-id`]: n.id,
      'aria-label': `Jump to ${clock(n.ms)}: ${n.who}: ${n.text}` },
    el('span', { class: 'note-time', text: clock(n.ms) }),
    el('span', { class: 'note-who', text: n.who }),
    el('span', { class: 'note-text', text: n.text }));
    b.addEventListener('click', () => seek(n.ms));
    return el('li', {}, b);
  }));
  $('notes-empty').hidden = items.length > 0;
}

function notice(replay) {
  const r = replay.recording;
  const texts = {
    none: 'This session has no recording.',
    recording: 'The session is still being recorded: what is here so far can be played.',
    interrupted: 'The recording was interrupted when the server stopped; it plays up to where it was cut.',
    failed: `The recording stopped early${r.error ? ` (${r.error})` : ''}; it plays up to where it stopped.`,
  };
  const text = texts[r.status] || '';
  $('rp-notice').textContent = text;
  $('rp-notice').hidden = !text;
}

function meta(replay, durationMs) {
  const s = replay.session;
  const parts = [`${s.repName} with ${s.partnerName}`];
  const at = replay.recording.startedAt || s.startedAt;
  if (at) parts.push(new Date(at).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }));
  if (durationMs) parts.push(clock(durationMs));
  const as = { admin: 'as the admin', coach: 'as the coach', rep: 'as the rep' }[replay.viewer.role];
  if (as) parts.push(`watching ${as}`);
  return parts.join(' · ');
}

let current = null; // the player of the page, once loaded

async function load(r) {
  show('loading');
  let replay;
  try {
    replay = await fetchReplay(r);
  } catch (err) {
    return explain(r, err);
  }
  if (current) current.destroy();
  current = player(r, replay);
}

function player(r, replay) {
  const tracksEnd = Math.max(0, ...replay.tracks.map((t) => t.startOffsetMs + t.durationMs));
  const durationMs = Math.max(replay.recording.durationMs || 0, tracksEnd);
  const sessionPath = `/api/sessions/${encodeURIComponent(replay.session.id)}`;
  document.title = `Replay: ${replay.session.title}`;
  $('rp-title').textContent = replay.session.title;
  $('rp-meta').textContent = meta(replay, durationMs);
  notice(replay);
  show('player');

  const masterClock = new MasterClock(durationMs);
  const { slaves, tiles } = buildMedia(replay, durationMs);
  let timeline = null;
  let talk = null; // the Talk card (analytics.js)
  let scrubbing = false;
  let commentPinned = false; // the comment's time was taken; the form stops following the clock
  let commentMs = 0;

  const seekSlider = $('rp-seek');
  seekSlider.max = String(durationMs);
  seekSlider.disabled = durationMs === 0;
  $('rp-total').textContent = clock(durationMs);

  const onTick = (ms) => {
    $('rp-now').textContent = clock(ms);
    if (!scrubbing) seekSlider.value = String(Math.round(ms));
    seekSlider.setAttribute('aria-valuetext', `${clock(ms)} of ${clock(durationMs)}`);
    timeline?.at(ms);
    talk?.at(ms);
    for (const tile of tiles.values()) {
      tile.dataset.video = tile.querySelector('video[data-active="true"]') ? 'on' : 'off';
    }
    const playing = masterClock.playing;
    $('rp-play').setAttribute('aria-label', playing ? 'Pause' : 'Play');
    $('rp-play-label').textContent = playing ? 'Pause' : 'Play';
    document.body.dataset.playing = String(playing);
    $('rp-buffering').textContent = masterClock.playing && !masterClock.running() ? 'Loading…' : '';
    if (!commentPinned) $('comment-at').textContent = clock(ms);
    const modes = replay.coachModes.filter((c) => c.mode !== 'silent' && ms >= c.startMs && ms < c.endMs);
    const modeText = modes.map((c) => (replay.viewer.role === 'rep' ? c.label : `${c.name || 'Coach'}: ${c.label}`)).join(' · ');
    if ($('rp-mode').textContent !== modeText) {
      $('rp-mode').textContent = modeText;
      $('rp-mode').dataset.mode = modes.length ? modes[0].mode : '';
    }
  };
  const sync = new Sync(masterClock, slaves, onTick);
  const seek = (ms) => sync.seek(ms);
  sync.autoplayBlocked = () => {
    sync.pause();
    $('rp-buffering').textContent = 'Tap Play to start the sound.';
  };

  // Media links expire (mediaExpiresAt); a file that fails after that gets a fresh link.
  const expires = Date.parse(replay.mediaExpiresAt) || 0;
  let refreshing = false;
  for (const s of slaves) {
    s.el.addEventListener('error', async () => {
      if (refreshing || Date.now() < expires - 60000) return;
      refreshing = true;
      try {
        const fresh = await api(r, 'GET', r.replayPath);
        const urls = new Map(fresh.tracks.map((t) => [t.id, t.url]));
        for (const x of slaves) {
          if (urls.get(x.track.id)) {
            x.el.src = urls.get(x.track.id);
            x.failed = false;
          }
        }
      } catch {
        // The page stays as it is; a reload tells the viewer what is wrong.
      }
      refreshing = false;
    });
  }

  const toggle = () => {
    if (masterClock.playing) sync.pause();
    else sync.play();
  };
  const controls = new AbortController();
  const on = (node, ev, f) => node.addEventListener(ev, f, { signal: controls.signal });
  on($('rp-play'), 'click', toggle);
  on($('rp-back'), 'click', () => seek(masterClock.now() - SKIP_MS));
  on($('rp-fwd'), 'click', () => seek(masterClock.now() + SKIP_MS));
  on($('rp-speed'), 'change', () => sync.setRate(Number($('rp-speed').value)));
  on(seekSlider, 'input', () => {
    scrubbing = true;
    seek(Number(seekSlider.value));
  });
  on(seekSlider, 'change', () => { scrubbing = false; });

  const whispers = slaves.filter((s) => s.track.whisper && s.el.tagName === 'AUDIO');
  const whisperButton = $('rp-whisper');
  whisperButton.hidden = whispers.length === 0;
  const setWhisper = (on) => {
    for (const s of whispers) s.el.muted = !on;
    whisperButton.setAttribute('aria-pressed', String(on));
  };
  setWhisper(true);
  on(whisperButton, 'click', () => setWhisper(whisperButton.getAttribute('aria-pressed') !== 'true'));

  on(document, 'keydown', (e) => {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
    const tag = e.target.tagName;
    if (tag === 'TEXTAREA' || tag === 'INPUT' || tag === 'SELECT') return;
    if (tag === 'BUTTON' && (e.key === ' ' || e.key === 'Enter')) return;
    if (e.key === ' ' || e.key === 'k') toggle();
    else if (e.key === 'ArrowLeft' || e.key === 'j') seek(masterClock.now() - (e.key === 'j' ? SKIP_MS : 5000));
    else if (e.key === 'ArrowRight' || e.key === 'l') seek(masterClock.now() + (e.key === 'l' ? SKIP_MS : 5000));
    else return;
    e.preventDefault();
  });

  // Feedback: the timeline and the list of markers and comments, both jump on a tap.
  const drawFeedback = () => {
    timeline = renderTimeline($('timeline'), timelineModel(replay, durationMs), seek);
    timeline.at(masterClock.now());
    renderNotes(replay, seek);
  };
  drawFeedback();
  talk = mountTalk($('talk'), { sessionId: replay.session.id, bearer: bearer(r), durationMs, seek });

  const pin = () => {
    commentMs = Math.round(masterClock.now());
    commentPinned = true;
    $('comment-at').textContent = clock(commentMs);
  };
  $('comment-form').hidden = !replay.viewer.canComment;
  on($('comment-text'), 'focus', () => { if (!$('comment-text').value) pin(); });
  on($('comment-now'), 'click', pin);
  on($('comment-form'), 'submit', async (e) => {
    e.preventDefault();
    const text = $('comment-text').value.trim();
    if (!text) return;
    if (!commentPinned) pin();
    $('comment-add').disabled = true;
    $('comment-status').textContent = 'Saving…';
    try {
      await api(r, 'POST', `${sessionPath}/comments`, { offsetMs: commentMs, text });
      const list = await api(r, 'GET', `${sessionPath}/comments`);
      replay.comments = list.comments;
      drawFeedback();
      $('comment-text').value = '';
      $('comment-status').textContent = `Comment added at ${clock(commentMs)}.`;
      commentPinned = false;
    } catch (err) {
      $('comment-status').textContent = `Not saved: ${err.message}`;
    }
    $('comment-add').disabled = false;
  });

  // A coach opening a handed-in assignment from the team page scores it here.
  mountScorecard(new URLSearchParams(location.search).get('assignment'), replay.session.id, r.kind === 'session' && r.bearer !== '');

  sync.start();
  // The page's hooks for tests and diagnostics.
  window.ringsideReplay = {
    ready: true,
    state: () => sync.state(),
    seek,
    play: () => { if (!masterClock.playing) toggle(); },
    pause: () => { if (masterClock.playing) toggle(); },
  };
  $('rp-title').focus({ preventScroll: true });
  return {
    destroy() {
      controls.abort();
      sync.stop();
      for (const s of slaves) {
        s.el.pause();
        s.el.removeAttribute('src');
        s.el.load();
        s.el.remove();
      }
    },
  };
}

const r = route();
if (!r) problem('Not a replay address', 'Open a replay from the dashboard or from your replay link.');
else load(r);
