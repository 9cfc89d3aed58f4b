// Local media for the join page: the camera and microphone permission flow, the camera flip,
// the screen wake lock and the rules phones set on playing sound.

const AUDIO = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

function videoConstraints(facingMode, exact = false) {
  return {
    facingMode: exact ? { exact: facingMode } : { ideal: facingMode },
    width: { ideal: 640 },
    height: { ideal: 480 },
    frameRate: { ideal: 24, max: 30 },
  };
}

// problemOf names why getUserMedia failed, in words the page can explain.
function problemOf(err) {
  switch (err && err.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'denied';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'missing';
    case 'NotReadableError':
    case 'AbortError':
      return 'busy';
    default:
      return 'other';
  }
}

// openMedia asks for the microphone and the camera. It resolves with
// {stream, audio, video, camera} where camera is "" or why there is no video
// ("denied", "missing", "busy", "other"), or with {error} when there is no microphone
// ("insecure", "denied", "missing", "busy", "other").
export async function openMedia(facingMode = 'user') {
  const md = navigator.mediaDevices;
  if (!md || !md.getUserMedia) return { error: window.isSecureContext ? 'other' : 'insecure' };
  try {
    const stream = await md.getUserMedia({ audio: AUDIO, video: videoConstraints(facingMode) });
    return { stream, audio: stream.getAudioTracks()[0], video: stream.getVideoTracks()[0] || null, camera: '' };
  } catch (err) {
    const camera = problemOf(err);
    try {
      const stream = await md.getUserMedia({ audio: AUDIO });
      return { stream, audio: stream.getAudioTracks()[0], video: null, camera };
    } catch (err2) {
      return { error: problemOf(err2) };
    }
  }
}

// openMicrophone opens the microphone alone.
export async function openMicrophone() {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: AUDIO });
  return stream.getAudioTracks()[0];
}

// openCamera opens the camera facing facingMode ("user" or "environment"); exact refuses
// another camera (OverconstrainedError) instead of settling for it.
export async function openCamera(facingMode, exact = false) {
  const stream = await navigator.mediaDevices.getUserMedia({ video: videoConstraints(facingMode, exact) });
  return stream.getVideoTracks()[0];
}

// hasTwoCameras guesses whether flipping makes sense: two video inputs, or a phone (whose
// browsers may list one camera until each has been opened).
export async function hasTwoCameras() {
  try {
    const devices = await navigator.mediaDevices.enumerateDevices();
    if (devices.filter((d) => d.kind === 'videoinput').length > 1) return true;
  } catch {
    // fall through to the guess
  }
  return /Android|iPhone|iPad|Mobile/i.test(navigator.userAgent);
}

// keepAwake holds a screen wake lock while the call lasts (phones dim and lock otherwise),
// taking it again when the page comes back to the front.
export function keepAwake() {
  let lock = null;
  let wanted = true;
  const request = async () => {
    if (!wanted || !('wakeLock' in navigator) || document.visibilityState !== 'visible') return;
    try {
      lock = await navigator.wakeLock.request('screen');
    } catch {
      lock = null; // refused (battery saver); the call works anyway
    }
  };
  const onVisible = () => { if (document.visibilityState === 'visible') request(); };
  document.addEventListener('visibilitychange', onVisible);
  request();
  return {
    get held() { return lock !== null && !lock.released; },
    release() {
      wanted = false;
      document.removeEventListener('visibilitychange', onVisible);
      if (lock) lock.release().catch(() => {});
      lock = null;
    },
  };
}

// unlockAudio runs inside the tap that joins: iOS Safari and Android Chrome play sound only
// after a user gesture, and an AudioContext resumed in one stays allowed.
export function unlockAudio() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return null;
  try {
    const ctx = new Ctx();
    ctx.resume().catch(() => {});
    return ctx;
  } catch {
    return null;
  }
}

// play starts a media element; when the browser refuses for want of a gesture, blocked(el)
// is called so that the page can offer a "turn on sound" button.
export function play(el, blocked) {
  const p = el.play();
  if (p && p.catch) {
    p.catch((err) => {
      if (err && err.name === 'NotAllowedError') blocked(el);
    });
  }
}

// stopAll stops every track of a stream (the camera light goes off).
export function stopAll(...tracks) {
  for (const t of tracks) if (t) t.stop();
}
