// The join page (/join/<token>): the lobby with its "Tap to join", the camera and microphone
// permission flow, then the phone call UI (rep, partner) or the coach console (coach); the
// role comes from the server's welcome. It also installs the debug hook window.ringside.

import { Session } from './session.js';
import { openMedia, unlockAudio, keepAwake, stopAll } from './media.js';
import { mountCall } from './call.js';
import { mountConsole } from './coach.js';
import { $, el } from './ui.js';


const MIC_STEPS = [
  'iPhone or iPad (Safari): tap "aA" in the address bar, then Website Settings, and set Microphone to Allow.',
  'Android (Chrome): tap the icon left of the address, then Permissions, and turn Microphone on.',
  'Computer: click the icon left of the address and allow the microphone.',
  'Then tap Try again.',
];

const MEDIA_PROBLEMS = {
  insecure: ['This link is not secure',
    'Browsers allow the camera and microphone only on secure (https://) pages. Ask the person who invited you for an https:// link.'],
  denied: ['Ringside can\'t use your microphone',
    'Your browser blocked the microphone, and the call needs it so the others can hear you. To allow it:', MIC_STEPS],
  missing: ['No microphone found',
    'Connect a microphone or headset (or open this link on your phone), then tap Try again.'],
  busy: ['Your microphone is busy',
    'Another app is using the microphone. Close it (a call or a recording app), then tap Try again.'],
  other: ['Your microphone could not start', 'Reload the page and tap Try again.'],
};

const JOIN_PROBLEMS = {
  bad_token: ['This link doesn\'t work', 'Check that you opened the whole link, or ask for a new invite.'],
  token_expired: ['This invite has expired', 'Invite links last 7 days. Ask for a new one.'],
  session_ended: ['This session has ended', 'Ask your coach for a new invite if you need one.'],
  session_full: ['This call is full', 'Too many people are in it already. Try again later.'],
  server_full: ['Ringside is busy', 'The server has too many calls right now. Try again in a few minutes.'],
  shutting_down: ['Ringside is restarting', 'Try again in a moment.'],
  unreachable: ['Can\'t reach Ringside', 'Check your internet connection, then try again.'],
};

const ENDED = {
  left: ['You left the call', 'You can join again with the same link while the session lasts.', true],
  session_ended: ['The session has ended', 'Thanks for practising. Your coach can share the recording.', false],
  replaced: ['You joined somewhere else', 'This link was opened in another tab or on another device, so this one stopped.', false],
  server_shutdown: ['Ringside is restarting', 'The server went away for a moment. Join again to continue.', true],
  lost: ['Connection lost', 'The connection could not be restored. Check your internet connection and join again.', true],
};

function show(id) {
  for (const s of ['lobby', 'problem', 'ended', 'call', 'console']) $(s).hidden = s !== id;
}

function problem(title, text, steps, retry) {
  $('problem-title').textContent = title;
  $('problem-text').textContent = text;
  const ol = $('problem-steps');
  ol.replaceChildren(...(steps || []).map((s) => Object.assign(document.createElement('li'), { textContent: s })));
  ol.hidden = !steps;
  $('retry').hidden = !retry;
  show('problem');
  $(retry ? 'retry' : 'problem-title').focus();
}

function tokenFromPath() {
  const m = /\/join\/([A-Za-z0-9_-]+)$/.exec(window.location.pathname);
  return m ? m[1] : '';
}

let session = null;
let media = null;
let audioCtx = null;

async function join() {
  $('join').disabled = true;
  $('lobby-status').textContent = 'Asking for your camera and microphone…';
  audioCtx = audioCtx || unlockAudio();
  media = await openMedia('user');
  if (media.error) {
    const [title, text, steps] = MEDIA_PROBLEMS[media.error];
    $('join').disabled = false;
    $('lobby-status').textContent = '';
    problem(title, text, steps, true);
    return;
  }
  $('lobby-status').textContent = 'Joining…';
  session = new Session(tokenFromPath());
  installDebugHook(session);
  session.reported = { audio: true, video: !!media.video };
  session.addEventListener('ended', onEnded);
  try {
    // A coach joins silent and sends nothing; a rep or partner sends what it has.
    await session.start({ audio: media.audio, video: media.video },
      (you) => (you.role === 'coach' ? { audio: false, video: false } : { audio: true, video: !!media.video }));
  } catch (err) {
    stopAll(media.audio, media.video);
    const [title, text] = JOIN_PROBLEMS[err.code] || ['Could not join', err.message || 'Try again.'];
    problem(title, text, null, err.code === 'unreachable' || err.code === 'server_full' || err.code === 'shutting_down');
    return;
  }
  // Closing the tab or navigating away leaves at once, instead of after the grace period.
  window.addEventListener('pagehide', () => { if (session.state !== 'ended') session.send({ type: 'leave' }); });
  const awake = keepAwake();
  window.ringside.wakeLock = awake;
  session.addEventListener('ended', () => awake.release());
  if (session.you.role === 'coach') {
    show('console');
    mountConsole(session, media);
  } else {
    show('call');
    mountCall(session, media);
  }
}

function onEnded() {
  if (media) stopAll(media.audio, media.video);
  const known = ENDED[session.endReason];
  if (!known && JOIN_PROBLEMS[session.endReason]) {
    const [title, text] = JOIN_PROBLEMS[session.endReason];
    problem(title, text, null, false);
    return;
  }
  const [title, text, again] = known || ['The call has ended', session.endMessage || ''];
  $('ended-title').textContent = title;
  $('ended-text').textContent = text;
  $('rejoin').hidden = !again;
  show('ended');
  $('ended-title').focus();
}

// installDebugHook exposes the call's state to tests and to people debugging a call from the
// console. It holds nothing the page does not already show or hold.
function installDebugHook(s) {
  window.ringside = {
    session: s,
    get state() { return s.state; },
    get connection() { return s.connection; },
    get you() { return s.you; },
    get roster() { return s.roster; },
    get mode() { return s.mode; },
    get counters() { return { ...s.counters }; },
    remote() {
      return [...s.remote.values()].map((r) => ({
        pid: r.pid, kind: r.kind, mid: r.mid, trackId: r.trackId, readyState: r.track.readyState,
      }));
    },
    receivers() {
      if (!s.down) return [];
      return s.down.getTransceivers().map((t) => ({
        mid: t.mid, direction: t.currentDirection, kind: t.receiver.track.kind, trackId: t.receiver.track.id,
      }));
    },
    senders() {
      if (!s.up) return [];
      return s.up.getTransceivers().filter((t) => t.currentDirection !== 'stopped').map((t) => ({
        mid: t.mid, direction: t.currentDirection, kind: t.sender.track ? t.sender.track.kind : '',
        hasTrack: !!t.sender.track,
      }));
    },
    inbound: () => s.inbound(),
    async statsText() {
      const parts = [];
      for (const pc of [s.up, s.down]) {
        if (!pc) continue;
        const report = await pc.getStats();
        report.forEach((v) => parts.push(JSON.stringify(v)));
      }
      return parts.join('\n');
    },
    async outbound() {
      if (!s.up) return [];
      const out = [];
      (await s.up.getStats()).forEach((v) => {
        if (v.type === 'outbound-rtp') out.push({ kind: v.kind, bytesSent: v.bytesSent || 0, mid: v.mid });
      });
      return out;
    },
    downSDP: () => (s.down && s.down.remoteDescription ? s.down.remoteDescription.sdp : ''),
    upSDP: () => (s.up && s.up.localDescription ? s.up.localDescription.sdp : ''),
    dropSocket: () => s.dropSocket(),
  };
}

$('join').addEventListener('click', join);
$('retry').addEventListener('click', () => {
  show('lobby');
  join();
});
$('rejoin').addEventListener('click', () => window.location.reload());
if (!tokenFromPath()) problem(...JOIN_PROBLEMS.bad_token, null, false);
else showDisclosure(tokenFromPath());

// showDisclosure puts the organisation's observation notice (docs/coaching.md, "Disclosure")
// in the lobby, above "Tap to join", when it is on. It says only that sessions may be observed,
// never who observes or when; a failure to read it shows nothing and does not stop the join.
async function showDisclosure(token) {
  let setting;
  try {
    const res = await fetch(`/api/auth/disclosure?invite=${encodeURIComponent(token)}`, { cache: 'no-store' });
    if (!res.ok) return;
    setting = await res.json();
  } catch {
    return;
  }
  if (!setting || !setting.enabled || !setting.text) return;
  $('lobby').insertBefore(el('p', { id: 'disclosure', class: 'banner info', role: 'note', text: setting.text }), $('join'));
}
