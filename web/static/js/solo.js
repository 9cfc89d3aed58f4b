// The solo pitch page (/solo?assignment=<id>): a rep records a pitch alone, on the phone, for
// a solo assignment. The page asks the server for a recorded session of the assignment with
// POST /api/assignments/{id}/solo (its rep invite token), joins it with the call protocol
// (session.js) sending the camera and the microphone, shows the time recorded, and on Stop
// leaves and hands it in with POST /api/assignments/{id}/submit {sessionId}.

import { $, el, clock, pageViews } from './ui.js';
import { Session } from './session.js';
import { openMedia, unlockAudio, keepAwake, stopAll } from './media.js';
import { api, APIError, whoAmI, when } from './account.js';

// MAX_MS ends a recording that nobody stops (a phone left on a table).
const MAX_MS = 10 * 60 * 1000;

const MEDIA_PROBLEMS = {
  insecure: 'Browsers allow the camera and microphone only on secure (https://) pages. Open Ringside with an https:// address.',
  denied: 'Your browser blocked the microphone. Allow it for this site in the browser settings, then tap Start again.',
  missing: 'No microphone was found. Connect one (or use your phone), then tap Start again.',
  busy: 'Another app is using the microphone. Close it, then tap Start again.',
  other: 'The microphone could not start. Reload the page and tap Start again.',
};

let assignment = null;
let media = null;
let session = null;
let solo = null;
let started = 0;
let ticker = 0;
let awake = null;
let stopping = false;

const { show, problem } = pageViews(['loading', 'problem', 'page']);

function status(text) { $('solo-status').textContent = text; }

async function start() {
  $('solo-start').disabled = true;
  status('Asking for your camera and microphone…');
  unlockAudio();
  media = await openMedia('user');
  if (media.error) {
    status(MEDIA_PROBLEMS[media.error]);
    $('solo-start').disabled = false;
    return;
  }
  $('solo-self').srcObject = media.stream;
  status(media.video ? 'Connecting…' : 'No camera: recording sound only. Connecting…');
  try {
    solo = await api('POST', `/api/assignments/${encodeURIComponent(assignment.id)}/solo`);
  } catch (err) {
    stopAll(media.audio, media.video);
    $('solo-start').disabled = false;
    return status(`Could not start the recording: ${err.message}.`);
  }
  session = new Session(solo.token);
  window.ringsideSolo.session = session;
  window.ringsideSolo.sessionId = solo.sessionId;
  try {
    await session.start({ audio: media.audio, video: media.video }, () => ({ audio: true, video: !!media.video }));
  } catch (err) {
    stopAll(media.audio, media.video);
    $('solo-start').disabled = false;
    return status(`Could not connect: ${err.message || err.code}. Check your connection and tap Start again.`);
  }
  awake = keepAwake();
  session.addEventListener('recording', showRecording);
  session.addEventListener('ended', () => { if (!stopping) status('The recording stopped. Tap Start to record again.'); });
  showRecording();
}

function showRecording() {
  const state = session.recording.state;
  if (state === 'failed') {
    status('The recording failed. Tap Stop, then try again.');
    return;
  }
  if (state !== 'on' || started) return;
  started = Date.now();
  $('solo-start').hidden = true;
  $('solo-stop').hidden = false;
  $('solo-rec').hidden = false;
  $('solo-hint').textContent = 'Recording. Give your pitch as if the buyer were in front of you.';
  status('');
  const tick = () => {
    const ms = Date.now() - started;
    $('solo-clock').textContent = clock(ms);
    if (ms >= MAX_MS) stop();
  };
  tick();
  ticker = setInterval(tick, 500);
  $('solo-stop').focus();
}

async function stop() {
  if (stopping) return;
  stopping = true;
  clearInterval(ticker);
  $('solo-stop').disabled = true;
  status('Saving your recording…');
  await session.leave();
  stopAll(media.audio, media.video);
  if (awake) awake.release();
  $('solo-rec').hidden = true;
  try {
    assignment = await api('POST', `/api/assignments/${encodeURIComponent(assignment.id)}/submit`, { sessionId: solo.sessionId });
  } catch (err) {
    $('solo-stop').disabled = false;
    stopping = false;
    return status(`Recorded, but not handed in: ${err.message}. Tap Stop and hand in to try again.`);
  }
  $('solo-stop').hidden = true;
  $('solo-self').srcObject = null;
  $('solo-self').closest('figure').hidden = true;
  $('rec-heading').textContent = 'Handed in';
  $('solo-hint').textContent = `Your ${clock(Date.now() - started)} pitch is with your coach, who reviews it next.`;
  status('');
  $('solo-stop').after(el('a', { class: 'button primary big', href: '/me', text: 'Back to my practice' }));
  $('rec-heading').focus();
  document.body.dataset.submitted = 'true';
}

async function load() {
  const id = new URLSearchParams(location.search).get('assignment') || '';
  if (!id) return problem('No assignment chosen', 'Open a solo pitch from your practice page.');
  const me = await whoAmI();
  if (!me || !me.user) return problem('Sign in to record', 'Open the sign-in link your admin sent you.');
  try {
    assignment = await api('GET', `/api/assignments/${encodeURIComponent(id)}`);
  } catch (err) {
    if (err instanceof APIError && err.status === 404) return problem('No such assignment', 'It may have been removed. Check your practice page.');
    throw err;
  }
  if (assignment.mode !== 'solo') return problem('This is a live call', 'Your coach sends you the link to the practice call.');
  if (assignment.state === 'submitted' || assignment.state === 'reviewed') {
    return problem('Already handed in', 'You handed this pitch in already. Your coach\'s feedback shows on your practice page.');
  }
  const scenario = await api('GET', `/api/scenarios/${encodeURIComponent(assignment.scenarioId)}`);
  document.title = `${scenario.title} · Ringside`;
  $('solo-title').textContent = scenario.title;
  $('solo-due').textContent = `${assignment.state === 'overdue' ? 'Was due' : 'Due'} ${when(assignment.dueAt)}`;
  $('brief-persona').textContent = scenario.persona ? `The buyer: ${scenario.persona}` : '';
  $('brief-objections').replaceChildren(...scenario.objections.map((o) => el('li', { text: o })));
  $('brief-good').textContent = scenario.goodLooksLike ? `What good looks like: ${scenario.goodLooksLike}` : '';
  show('page');
}

window.ringsideSolo = { session: null };
$('solo-start').addEventListener('click', () => start().catch((err) => status(err.message)));
$('solo-stop').addEventListener('click', () => stop());
window.addEventListener('pagehide', () => { if (session && session.state !== 'ended') session.send({ type: 'leave' }); });
load().catch((err) => problem('The assignment could not be loaded', `${err.message}. Reload the page to try again.`));
