// The sign-in page (/signin, /signin#<link token>): spends a one-time sign-in link with
// POST /api/auth/signin (docs/coaching.md, "Signing in with a magic link"), which sets the
// session cookie, then goes to the person's home: /me for a rep, /team for a coach or an admin.
// The token rides in the fragment, which browsers never send to a server, and is only used
// when the person taps the button: a link preview that opens the page does not spend it.

import { $ } from './ui.js';
import { api, APIError, whoAmI, homeOf, signOut } from './account.js';

// tokenOf takes a token out of what was pasted: a whole link (…/api/auth/link/<token>, or
// …/signin#<token>) or the token alone.
function tokenOf(text) {
  const s = text.trim();
  const m = /(?:\/api\/auth\/link\/|#)([A-Za-z0-9_-]{16,128})\/?$/.exec(s) || /^([A-Za-z0-9_-]{16,128})$/.exec(s);
  return m ? m[1] : '';
}

function signedIn(me) {
  $('signin').hidden = true;
  $('signed-in').hidden = false;
  const name = me.user ? me.user.name : 'the admin';
  $('signed-in-text').textContent = `Signed in as ${name} (${me.role}).`;
  $('signed-in-home').href = homeOf(me);
  $('signed-in-home').textContent = me.role === 'rep' ? 'Go to my practice' : 'Go to my team';
  $('signed-in-title').focus();
}

async function submit(e) {
  e.preventDefault();
  const token = fromFragment || tokenOf($('signin-link').value);
  if (!token) {
    $('signin-status').textContent = 'That does not look like a sign-in link. Paste the whole link.';
    $('signin-link').focus();
    return;
  }
  $('signin-go').disabled = true;
  $('signin-status').textContent = 'Signing in…';
  try {
    await api('POST', '/api/auth/signin', { token });
    history.replaceState(null, '', '/signin'); // the spent token leaves the address bar
    const me = await whoAmI();
    window.location.assign(homeOf(me));
  } catch (err) {
    $('signin-go').disabled = false;
    fromFragment = '';
    $('signin-paste').hidden = false;
    $('signin-status').textContent = err instanceof APIError && err.status === 401 ?
      'This link has been used or has expired. Ask your admin for a new one.' :
      `Could not sign in: ${err.message}. Check your connection and try again.`;
  }
}

let fromFragment = tokenOf(window.location.hash);
if (fromFragment) {
  $('signin-paste').hidden = true;
  $('signin-lead').textContent = 'Tap the button to sign in on this device.';
}
$('signin-form').addEventListener('submit', submit);
$('signed-in-out').addEventListener('click', () => signOut());
whoAmI().then((me) => { if (me && me.user && !fromFragment) signedIn(me); }).catch(() => {});
