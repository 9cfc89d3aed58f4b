// The coach console: everyone's video with who is speaking, the mode switches (silent,
// whisper to a chosen person, open), push-to-whisper, and live markers.
//
// What the coach sends follows the mode, and nothing else: silent sends nothing at all (both
// up transceivers inactive, no track attached), whisper sends the microphone only, open sends
// microphone and camera. Switching stops what the new mode does not send before telling the
// server, and starts what it adds only after the server confirmed the mode.

import { Tiles } from './tiles.js';
import { $, el, wireStatus, notifier, soundUnblocker, clock } from './ui.js';
import { ROLE_NAMES } from './tiles.js';

const SPEAKING_LEVEL = 0.02; // audioLevel (0..1) above which a participant is speaking
const SPEAKING_HOLD_MS = 800; // how long a tile stays "speaking" after the last loud sample
const STATS_INTERVAL_MS = 250;

function sendsFor(mode, hasCamera) {
  return { audio: mode !== 'silent', video: mode === 'open' && hasCamera };
}

export function mountConsole(session, media) {
  document.body.dataset.role = 'coach';
  $('console-title').textContent = session.info.title;
  wireStatus(session, 'console');
  const notice = notifier('console');
  const sound = soundUnblocker('console');
  const tiles = new Tiles({
    container: $('console-grid'),
    sinks: $('console-sinks'),
    show: () => true,
    blocked: sound.blocked,
  });
  sound.onRetry(() => tiles.retryPlay());
  if (media.video) $('console-self').srcObject = new MediaStream([media.video]);
  if (media.camera) notice('Your camera is not available: in open mode the others will hear you but not see you.');

  const targets = $('whisper-target');
  const whisperable = () => session.roster.filter((m) => m.role === 'rep' || m.role === 'partner');
  let listed = '';
  const renderTargets = () => {
    const list = whisperable();
    const keep = targets.value;
    // Rebuild the options only when they change: a rebuild closes a select a person has open.
    const signature = list.map((m) => `${m.id}:${m.name}`).join(',');
    if (signature !== listed) {
      listed = signature;
      targets.replaceChildren(...list.map((m) => el('option', { value: m.id, text: `${m.name} (${ROLE_NAMES[m.role]})` })));
    }
    const current = session.mode && session.mode.mode === 'whisper' ? session.mode.target : keep;
    const rep = list.find((m) => m.role === 'rep');
    if (list.some((m) => m.id === current)) targets.value = current;
    else if (rep) targets.value = rep.id;
    targets.disabled = list.length === 0;
    $('mode-whisper').disabled = list.length === 0;
    $('ptt').disabled = list.length === 0;
  };

  const render = () => {
    tiles.update(session.roster, session.remote);
    $('console-waiting').hidden = session.roster.length > 0;
    renderTargets();
  };
  session.addEventListener('roster', render);
  session.addEventListener('media', render);
  render();

  const nameOf = (id) => {
    const m = session.roster.find((x) => x.id === id);
    return m ? m.name : 'the rep';
  };
  let busy = false;
  const renderMode = () => {
    const { mode, target } = session.mode || { mode: 'silent', target: '' };
    const text = {
      silent: 'Silent: nobody sees or hears you. Nothing of yours is sent.',
      whisper: `Whispering to ${nameOf(target)}: only they hear you.`,
      open: 'Open: everyone sees and hears you.',
    }[mode];
    $('mode-now').textContent = text;
    $('mode-now').dataset.mode = mode;
    document.body.dataset.mode = mode;
    for (const b of document.querySelectorAll('button.mode')) {
      b.setAttribute('aria-pressed', String(b.dataset.mode === mode));
      b.setAttribute('aria-busy', String(busy));
    }
  };
  session.addEventListener('mode', renderMode);
  session.addEventListener('roster', renderMode);
  renderMode();

  // Mode switches run one after another, in the order they were asked for.
  let chain = Promise.resolve();
  const enqueue = (f) => {
    chain = chain.then(f).catch((err) => notice(`The mode did not change: ${err.message}`));
    return chain;
  };
  const switchTo = async (mode, target) => {
    const hasCamera = !!media.video;
    const want = sendsFor(mode, hasCamera);
    const now = { ...session.sending };
    busy = true;
    renderMode();
    try {
      await session.publish({ audio: now.audio && want.audio, video: now.video && want.video });
      try {
        await session.setMode(mode, mode === 'whisper' ? target : '');
      } finally {
        // Send what the mode the server holds now allows (the old one if it refused).
        await session.publish(sendsFor(session.mode.mode, hasCamera));
      }
    } finally {
      busy = false;
      renderMode();
    }
  };

  for (const b of document.querySelectorAll('button.mode')) {
    b.addEventListener('click', () => enqueue(() => switchTo(b.dataset.mode, targets.value)));
  }
  targets.addEventListener('change', () => {
    if (session.mode.mode === 'whisper') enqueue(() => switchTo('whisper', targets.value));
  });

  // Push-to-whisper: whisper while held, then back to the mode before.
  const ptt = $('ptt');
  let held = false;
  let before = null;
  const press = () => {
    if (held || ptt.disabled) return;
    held = true;
    ptt.setAttribute('aria-pressed', 'true');
    before = session.mode.mode === 'whisper' ? null : { ...session.mode };
    if (before) enqueue(() => switchTo('whisper', targets.value));
  };
  const release = () => {
    if (!held) return;
    held = false;
    ptt.setAttribute('aria-pressed', 'false');
    const back = before;
    before = null;
    if (back) enqueue(() => switchTo(back.mode, back.target));
  };
  ptt.setAttribute('aria-pressed', 'false');
  ptt.addEventListener('pointerdown', (e) => {
    e.preventDefault();
    ptt.setPointerCapture(e.pointerId);
    press();
  });
  for (const ev of ['pointerup', 'pointercancel', 'lostpointercapture', 'blur']) ptt.addEventListener(ev, release);
  ptt.addEventListener('keydown', (e) => {
    if (e.key !== ' ' && e.key !== 'Enter') return;
    e.preventDefault();
    if (!e.repeat) press();
  });
  ptt.addEventListener('keyup', (e) => {
    if (e.key !== ' ' && e.key !== 'Enter') return;
    e.preventDefault();
    release();
  });
  ptt.addEventListener('contextmenu', (e) => e.preventDefault());

  // Markers.
  $('mark-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const input = $('mark-note');
    const button = $('mark-add');
    button.disabled = true;
    try {
      const m = await session.mark(input.value.trim());
      $('marks').prepend(el('li', {}, el('time', { text: clock(m.atMs) }), ' ', m.note || 'Marker'));
      input.value = '';
    } catch (err) {
      notice(`The marker was not saved: ${err.message}`);
    } finally {
      button.disabled = false;
    }
  });

  watchSpeaking(session, tiles);
}

// watchSpeaking marks the tiles of whoever is speaking, from the audioLevel of each received
// audio track (getStats), and names them above the grid.
function watchSpeaking(session, tiles) {
  const lastLoud = new Map();
  const line = $('console-speaking');
  const tick = async () => {
    if (session.state === 'ended') return;
    const active = new Set([...session.remote.values()].filter((r) => r.kind === 'audio').map((r) => r.mid));
    const now = performance.now();
    for (const s of await session.inbound().catch(() => [])) {
      if (s.kind === 'audio' && s.pid && active.has(s.mid) && s.audioLevel > SPEAKING_LEVEL) lastLoud.set(s.pid, now);
    }
    const speaking = [];
    for (const pid of tiles.tiles.keys()) {
      const on = now - (lastLoud.get(pid) ?? -Infinity) < SPEAKING_HOLD_MS;
      tiles.setSpeaking(pid, on);
      if (on) {
        const m = session.roster.find((x) => x.id === pid);
        if (m) speaking.push(m.name);
      }
    }
    line.textContent = speaking.length ? `Speaking now: ${speaking.join(', ')}` : 'Nobody is speaking';
    setTimeout(tick, STATS_INTERVAL_MS);
  };
  tick();
}
