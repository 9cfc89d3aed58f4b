// Small DOM helpers shared by the call UI, the coach console and the dashboard.

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  node.append(...children);
  return node;
}

// CAMERA_NOTES explain, after joining, why there is no video.
export const CAMERA_NOTES = {
  denied: 'Your camera is blocked, so you joined with sound only. To use video, allow the camera for this site in your browser settings, then reload this page.',
  missing: 'No camera was found, so you joined with sound only.',
  busy: 'Another app is using your camera, so you joined with sound only. Close that app and reload this page to use video.',
  other: 'Your camera could not start, so you joined with sound only.',
};

// wireStatus keeps a view's recording indicator (<prefix>-rec) and reconnecting banner
// (<prefix>-reconnecting) in line with the session. body[data-connection] mirrors
// session.connection for styling and tests.
export function wireStatus(session, prefix) {
  const rec = $(`${prefix}-rec`);
  const banner = $(`${prefix}-reconnecting`);
  const update = () => {
    const state = session.recording.state;
    rec.hidden = state !== 'on' && state !== 'failed';
    rec.dataset.state = state;
    rec.lastChild.textContent = state === 'failed' ? 'Recording stopped' : 'Recording';
    rec.title = state === 'failed' ? session.recording.reason || 'The recording failed; the call goes on.' : 'This call is recorded';
    const conn = session.connection;
    banner.hidden = conn !== 'reconnecting';
    document.body.dataset.connection = conn;
  };
  for (const ev of ['state', 'recording', 'welcome']) session.addEventListener(ev, update);
  update();
}

// notice shows a dismissable explanation in a view's notice banner (<prefix>-notice).
export function notifier(prefix) {
  const box = $(`${prefix}-notice`);
  const text = $(`${prefix}-notice-text`);
  $(`${prefix}-notice-close`).addEventListener('click', () => { box.hidden = true; });
  return (message) => {
    text.textContent = message;
    box.hidden = false;
  };
}

// soundUnblocker shows a view's "Tap to turn on sound" button (<prefix>-sound) when the browser
// refused to play sound, and plays everything again from its tap. It returns the callback
// for media.play and a setter for the function that retries.
export function soundUnblocker(prefix) {
  const button = $(`${prefix}-sound`);
  let retry = () => {};
  button.addEventListener('click', () => {
    button.hidden = true;
    retry();
  });
  return {
    blocked: () => { button.hidden = false; },
    onRetry: (f) => { retry = f; },
  };
}

// clock formats milliseconds as m:ss.
export function clock(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

// copy puts text on the clipboard; where the Clipboard API is refused (plain HTTP on a LAN
// address is not a secure context), it selects input and falls back to execCommand.
export async function copy(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    input.select();
    return document.execCommand('copy');
  }
}

// pageViews is how a page shows one of its views (the element ids in views) and hides the
// others, and how it shows its "problem" view with a title and a text, focused so that a
// screen reader reads it. The view shown is in body[data-state], for the tests.
export function pageViews(views) {
  const show = (view) => {
    for (const id of views) $(id).hidden = id !== view;
    document.body.dataset.state = view;
  };
  const problem = (title, text) => {
    $('problem-title').textContent = title;
    $('problem-text').textContent = text;
    show('problem');
    $('problem-title').focus();
  };
  return { show, problem };
}
