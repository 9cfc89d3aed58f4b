// The phone call UI of a rep or a partner: the other person's video large, the self-view
// small, an open coach as one more tile, the whisper, recording and reconnecting
// indicators, and the mic, camera, flip and leave controls.

import { Tiles } from './tiles.js';
import { openMicrophone, openCamera, hasTwoCameras } from './media.js';
import { $, CAMERA_NOTES, wireStatus, notifier, soundUnblocker } from './ui.js';

export function mountCall(session, media) {
  const role = session.you.role;
  const other = role === 'rep' ? 'partner' : 'rep';
  document.body.dataset.role = role;
  $('call-title').textContent = session.info.title;
  $('call-waiting').textContent = role === 'rep'
    ? 'Waiting for your role-play partner to join…'
    : 'Waiting for the rep to join…';
  wireStatus(session, 'call');
  const notice = notifier('call');
  const sound = soundUnblocker('call');

  // A coach gets a tile only when open; a whispering coach is heard (its audio sink) and
  // shown by the banner.
  const tiles = new Tiles({
    container: $('call-stage'),
    sinks: $('call-sinks'),
    show: (m) => m.role !== 'coach' || m.state === 'open',
    blocked: sound.blocked,
  });
  sound.onRetry(() => tiles.retryPlay());

  const render = () => {
    tiles.update(session.roster, session.remote);
    for (const t of tiles.tiles.values()) t.el.classList.toggle('main', t.el.dataset.role === other);
    $('call-stage').dataset.count = String(tiles.tiles.size);
    $('call-waiting').hidden = session.roster.some((m) => m.role === other);
    const whisper = session.roster.some((m) => m.role === 'coach' && m.state === 'whispering');
    $('call-whisper').hidden = !whisper;
    document.body.dataset.whisper = whisper ? 'on' : 'off';
  };
  session.addEventListener('roster', render);
  session.addEventListener('media', render);
  render();

  let micOn = true;
  let camOn = !!media.video;
  let facing = 'user';
  const selfView = () => {
    const v = $('call-self');
    v.srcObject = camOn && media.video ? new MediaStream([media.video]) : null;
    v.classList.toggle('mirror', facing === 'user');
    $('call-self-off').hidden = camOn;
    $('call-self-box').dataset.video = camOn ? 'on' : 'off';
  };
  const labels = () => {
    const mic = $('call-mic');
    mic.setAttribute('aria-label', micOn ? 'Mute microphone' : 'Unmute microphone');
    mic.querySelector('.label').textContent = micOn ? 'Mute' : 'Unmute';
    mic.dataset.on = String(micOn);
    const cam = $('call-cam');
    cam.setAttribute('aria-label', camOn ? 'Turn camera off' : 'Turn camera on');
    cam.querySelector('.label').textContent = camOn ? 'Stop video' : 'Start video';
    cam.dataset.on = String(camOn);
    $('call-flip').disabled = !camOn;
  };
  selfView();
  labels();
  if (media.camera) notice(CAMERA_NOTES[media.camera] || CAMERA_NOTES.other);
  hasTwoCameras().then((two) => { $('call-flip').hidden = !two; });

  $('call-mic').addEventListener('click', () => {
    micOn = !micOn;
    media.audio.enabled = micOn;
    session.reportMute(micOn, camOn);
    labels();
  });

  $('call-cam').addEventListener('click', async () => {
    const button = $('call-cam');
    button.disabled = true;
    try {
      if (camOn) {
        // Stop the camera (its light goes off); the sender then sends no frames.
        await session.setSource('video', null);
        if (media.video) media.video.stop();
        media.video = null;
        camOn = false;
      } else {
        media.video = await openCamera(facing);
        session.sources.video = media.video;
        await session.publish({ video: true });
        camOn = true;
      }
    } catch (err) {
      notice(CAMERA_NOTES[err.name === 'NotAllowedError' ? 'denied' : 'other']);
    } finally {
      button.disabled = false;
    }
    session.reportMute(micOn, camOn);
    selfView();
    labels();
  });

  $('call-flip').addEventListener('click', async () => {
    if (!camOn) return;
    const button = $('call-flip');
    button.disabled = true;
    const next = facing === 'user' ? 'environment' : 'user';
    // Phones cannot open both cameras at once: release this one first.
    await session.setSource('video', null);
    if (media.video) media.video.stop();
    try {
      media.video = await openCamera(next, true);
      facing = next;
    } catch {
      notice('No other camera was found on this device.');
      media.video = await openCamera(facing).catch(() => null);
    }
    await session.setSource('video', media.video);
    camOn = !!media.video;
    button.disabled = false;
    selfView();
    labels();
  });

  $('call-leave').addEventListener('click', () => session.leave());

  // A phone may end the camera or microphone while the page is in the background (a phone
  // call, another app): open them again when the page comes back.
  document.addEventListener('visibilitychange', async () => {
    if (document.visibilityState !== 'visible' || session.state === 'ended') return;
    if (media.audio && media.audio.readyState === 'ended') {
      const mic = await openMicrophone().catch(() => null);
      if (mic) {
        media.audio = mic;
        mic.enabled = micOn;
        await session.setSource('audio', mic);
      }
    }
    if (camOn && media.video && media.video.readyState === 'ended') {
      media.video = await openCamera(facing).catch(() => null);
      await session.setSource('video', media.video);
      camOn = !!media.video;
      session.reportMute(micOn, camOn);
      selfView();
      labels();
    }
  });
}
