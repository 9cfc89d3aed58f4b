// The dashboard (/): sign in with the admin token once, create sessions (for a rep, chosen
// among GET /api/users, or for no one), hand out each role's invite link (copy, share, QR
// code), and list and end sessions. It speaks the HTTP API of docs/api.md (and the users
// route of docs/coaching.md) with the token as a Bearer token.

import { $, el, copy } from './ui.js';

const TOKEN_KEY = 'ringside.adminToken';
const REFRESH_MS = 10000;
const ROLES = [
  ['rep', 'Rep', 'repName'],
  ['partner', 'Partner', 'partnerName'],
  ['coach', 'Coach', 'coachName'],
];

class Unauthorized extends Error {}

function storedToken() {
  return localStorage.getItem(TOKEN_KEY) || sessionStorage.getItem(TOKEN_KEY) || '';
}

function storeToken(token, remember) {
  localStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(TOKEN_KEY);
  if (token) (remember ? localStorage : sessionStorage).setItem(TOKEN_KEY, token);
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { Authorization: `Bearer ${storedToken()}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (res.status === 401) throw new Unauthorized('The admin token was not accepted.');
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error((data.error && data.error.message) || `HTTP ${res.status}`);
  return data;
}

function say(id, text, kind = '') {
  $(id).textContent = text;
  $(id).dataset.kind = kind;
}

function showApp(signedIn) {
  $('signin').hidden = signedIn;
  $('app').hidden = !signedIn;
  $('signout').hidden = !signedIn;
}

function signOut(message = '') {
  storeToken('', false);
  showApp(false);
  $('invites').hidden = true;
  $('invite-list').replaceChildren();
  say('signin-status', message, message ? 'error' : '');
  $('token').focus();
}

// guard runs an API action and turns a refused token into the sign-in form.
async function guard(statusId, f) {
  try {
    return await f();
  } catch (err) {
    if (err instanceof Unauthorized) signOut(err.message);
    else say(statusId, err.message, 'error');
    return undefined;
  }
}

const when = (iso) => (iso ? new Date(iso).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }) : '');

function sessionItem(s) {
  const meta = [`${s.repName} with ${s.partnerName}`];
  if (s.startedAt) meta.push(`started ${when(s.startedAt)}`);
  else meta.push(`created ${when(s.createdAt)}`);
  if (s.endedAt) meta.push(`ended ${when(s.endedAt)}`);
  if (!s.recorded) meta.push('not recorded');
  const li = el('li', { 'data-id': s.id, 'data-state': s.state },
    el('div', { class: 'what' }, el('div', { class: 'title', text: s.title }), el('div', { class: 'meta', text: meta.join(' · ') })),
    el('span', { class: 'state', 'data-state': s.state, text: s.state }));
  if (s.state === 'created' || s.state === 'live') {
    const end = el('button', { type: 'button', class: 'danger', 'aria-label': `End session ${s.title}`, text: 'End' });
    end.addEventListener('click', () => endSession(s, end));
    li.append(end);
  }
  return li;
}

async function refresh() {
  const data = await guard('list-status', () => api('GET', '/api/sessions?limit=100'));
  if (!data) return false;
  const live = data.sessions.filter((s) => s.state === 'created' || s.state === 'live');
  const past = data.sessions.filter((s) => s.state !== 'created' && s.state !== 'live');
  $('live').replaceChildren(...live.map(sessionItem));
  $('past').replaceChildren(...past.map(sessionItem));
  $('live-empty').hidden = live.length > 0;
  $('past-empty').hidden = past.length > 0;
  say('list-status', '');
  return true;
}

// loadReps offers the reps (GET /api/users: every user, for the admin token) as whom a new
// session is for. A failure leaves "No one", which always works.
async function loadReps() {
  const data = await guard('create-status', () => api('GET', '/api/users'));
  if (!data) return;
  const pick = $('rep-id');
  const keep = pick.value;
  const reps = data.users.filter((u) => u.role === 'rep' && !u.disabled);
  pick.replaceChildren(el('option', { value: '', text: 'No one' }),
    ...reps.map((u) => el('option', { value: u.id, text: `${u.name} (${u.email})` })));
  if (reps.some((u) => u.id === keep)) pick.value = keep;
}

async function endSession(s, button) {
  if (!window.confirm(`End "${s.title}"? Everyone in the call is disconnected.`)) return;
  button.disabled = true;
  const done = await guard('list-status', () => api('POST', `/api/sessions/${encodeURIComponent(s.id)}/end`));
  if (done) say('list-status', `Ended "${s.title}".`);
  else button.disabled = false;
  await refresh();
}

function inviteCard(role, label, name, url, title) {
  const id = `link-${role}`;
  const input = el('input', { id, type: 'text', readonly: true, value: url, spellcheck: 'false' });
  const copyButton = el('button', { type: 'button', 'aria-label': `Copy the ${label.toLowerCase()}'s link`, text: 'Copy link' });
  copyButton.addEventListener('click', async () => {
    const ok = await copy(url, input);
    say('invite-status', ok ? `${label}'s link copied.` : 'Copying failed: select the link and copy it.', ok ? '' : 'error');
  });
  const actions = el('div', { class: 'actions' }, copyButton);
  if (navigator.share) {
    const share = el('button', { type: 'button', 'aria-label': `Share the ${label.toLowerCase()}'s link`, text: 'Share' });
    share.addEventListener('click', () => {
      navigator.share({ title: `Ringside: ${title}`, text: `Join "${title}" as ${label.toLowerCase()}`, url }).catch(() => {});
    });
    actions.append(share);
  }
  const qr = el('img', {
    src: `/qr?data=${encodeURIComponent(url)}`, width: '176', height: '176',
    alt: `QR code of the ${label.toLowerCase()}'s link, to scan with a phone`,
  });
  return el('article', { class: 'invite', 'data-role': role },
    el('h3', {}, `${label} `, el('span', { class: 'who', text: name })),
    el('label', { class: 'visually-hidden', for: id, text: `${label}'s invite link` }),
    input, actions, qr);
}

function showInvites(created, names) {
  $('invites-heading').textContent = `Invite links for "${created.title}"`;
  $('invite-list').replaceChildren(...ROLES.map(([role, label, field]) =>
    inviteCard(role, label, created[field] || names[field] || label, created.invites[role], created.title)));
  say('invite-status', '');
  $('invites').hidden = false;
  $('invites').scrollIntoView({ block: 'nearest' });
}

async function create(e) {
  e.preventDefault();
  const body = { title: $('title').value.trim(), record: $('record').checked };
  const names = {};
  if ($('rep-id').value) body.repId = $('rep-id').value;
  for (const [field, id] of [['repName', 'rep-name'], ['partnerName', 'partner-name'], ['coachName', 'coach-name']]) {
    const v = $(id).value.trim();
    if (v) body[field] = names[field] = v;
  }
  say('create-status', 'Creating…');
  const created = await guard('create-status', () => api('POST', '/api/sessions', body));
  if (!created) return;
  say('create-status', 'Session created.');
  $('create-form').reset();
  showInvites(created, names);
  refresh();
}

async function signIn(e) {
  e.preventDefault();
  storeToken($('token').value.trim(), $('remember').checked);
  say('signin-status', 'Checking…');
  if (await refresh()) {
    $('token').value = '';
    say('signin-status', '');
    showApp(true);
    loadReps();
    $('title').focus();
  }
}

$('signin-form').addEventListener('submit', signIn);
$('create-form').addEventListener('submit', create);
$('refresh').addEventListener('click', refresh);
$('signout').addEventListener('click', () => signOut());
setInterval(() => { if (!$('app').hidden && document.visibilityState === 'visible') refresh(); }, REFRESH_MS);

if (storedToken()) {
  refresh().then((ok) => {
    showApp(ok);
    if (ok) loadReps();
  });
} else {
  showApp(false);
}
