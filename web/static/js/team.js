// The team page (/team) for coaches and admins: the review queue oldest first (time waiting,
// claim, open the replay to score it), assigning a scenario and inviting people (team-forms.js),
// practice done against assigned per rep with overdue ones, and time to feedback per coach and
// per team (GET /api/reviews/stats), and the calls of open live assignments (team-calls.js). Everything comes from the coaching API (docs/coaching.md)
// with the session cookie, or the dashboard's admin token.

import { $, el, pageViews } from './ui.js';
import { api, APIError, whoAmI, signOut, when, duration, homeOf } from './account.js';
import { TeamForms } from './team-forms.js';
import { TeamCalls } from './team-calls.js';

let me = null;
let forms = null;
const calls = new TeamCalls(() => refresh());

const { show, problem } = pageViews(['loading', 'problem', 'page']);

const myID = () => (me && me.user ? me.user.id : '');

function queueItem(r) {
  const mine = r.claimed && r.claimedBy === myID();
  const replay = `/sessions/${encodeURIComponent(r.sessionId)}/replay?assignment=${encodeURIComponent(r.id)}`;
  const claim = el('button', { type: 'button', class: 'claim', 'data-claim': r.id, text: 'Claim' });
  claim.hidden = r.claimed;
  claim.addEventListener('click', () => claimReview(r, claim));
  return el('li', { class: 'item', 'data-assignment-id': r.id, 'data-claimed': r.claimed ? (mine ? 'me' : 'other') : 'no' },
    el('div', { class: 'item-main' },
      el('h3', { class: 'item-title', text: `${r.repName}: ${r.scenarioTitle}` }),
      el('p', { class: 'item-meta' },
        el('span', { class: 'tag', text: r.mode === 'solo' ? 'Solo pitch' : 'Live call' }),
        el('span', { class: 'tag waiting-tag', text: `Waiting ${duration(r.waitingMs)}` }),
        r.claimed ? el('span', { class: 'tag', text: mine ? 'Claimed by you' : 'Claimed by another coach' }) : ''),
      el('p', { class: 'item-due', text: `Handed in ${when(r.submittedAt)}` })),
    el('div', { class: 'item-actions' }, claim,
      el('a', { class: 'button primary', href: replay, 'aria-label': `Open the replay of ${r.repName}: ${r.scenarioTitle}`, text: 'Open replay' })));
}

async function claimReview(r, button) {
  button.disabled = true;
  $('queue-status').textContent = 'Claiming…';
  try {
    await api('POST', `/api/reviews/${encodeURIComponent(r.id)}/claim`);
    $('queue-status').textContent = `Claimed ${r.repName}: ${r.scenarioTitle}.`;
  } catch (err) {
    $('queue-status').textContent = err instanceof APIError && err.status === 409 ?
      'Another coach claimed it first.' : `Could not claim it: ${err.message}.`;
  }
  await refresh();
}

function repRows(assignments) {
  const byRep = new Map();
  for (const a of assignments) {
    const r = byRep.get(a.repId) || { name: a.repName, assigned: 0, done: 0, overdue: 0, reviewed: 0 };
    r.assigned++;
    if (a.state === 'submitted' || a.state === 'reviewed') r.done++;
    if (a.state === 'overdue') r.overdue++;
    if (a.state === 'reviewed') r.reviewed++;
    byRep.set(a.repId, r);
  }
  return [...byRep.entries()].sort((x, y) => x[1].name.localeCompare(y[1].name)).map(([id, r]) =>
    el('tr', { 'data-rep-id': id, class: r.overdue ? 'overdue' : '' },
      el('th', { scope: 'row', text: r.name }),
      el('td', { text: String(r.done) }),
      el('td', { text: String(r.assigned) }),
      el('td', { text: String(r.overdue) }),
      el('td', { text: String(r.reviewed) })));
}

function feedbackRows(stats) {
  const row = (kind, x) => el('tr', {},
    el('th', { scope: 'row', text: `${x.name} (${kind})` }),
    el('td', { text: String(x.reviews) }),
    el('td', { text: x.reviews ? duration(x.medianMs) : '–' }),
    el('td', { text: x.reviews ? duration(x.averageMs) : '–' }),
    el('td', { text: x.reviews ? duration(x.maxMs) : '–' }));
  return [...stats.coaches.map((c) => row('coach', c)), ...stats.teams.map((t) => row('team', t))];
}

async function refresh() {
  const [queue, all, stats] = await Promise.all([
    api('GET', '/api/reviews'), api('GET', '/api/assignments'), api('GET', '/api/reviews/stats')]);
  $('queue').replaceChildren(...queue.reviews.map(queueItem));
  $('queue-empty').hidden = queue.reviews.length > 0;
  calls.render(all.assignments);
  const reps = repRows(all.assignments);
  $('reps').replaceChildren(...reps);
  $('reps-empty').hidden = reps.length > 0;
  const fb = feedbackRows(stats);
  $('feedback').replaceChildren(...fb);
  $('feedback-empty').hidden = fb.length > 0;
  $('stat-pending').textContent = String(stats.pending);
  $('stat-oldest').textContent = stats.pending ? duration(stats.oldestWaitingMs) : '–';
  $('stat-overdue').textContent = String(all.assignments.filter((a) => a.state === 'overdue').length);
  // Every review counts under one coach, so the coaches' averages weighted by their reviews
  // make the overall average exactly.
  const reviewed = stats.coaches;
  const withReviews = reviewed.filter((x) => x.reviews > 0);
  $('stat-average').textContent = withReviews.length ?
    duration(withReviews.reduce((s, x) => s + x.averageMs * x.reviews, 0) / withReviews.reduce((s, x) => s + x.reviews, 0)) : '–';
}

async function load() {
  me = await whoAmI();
  if (!me) return problem('Sign in to see your team', 'Open the sign-in link your admin sent you.');
  if (me.role === 'rep') {
    window.location.replace(homeOf(me));
    return;
  }
  $('team-name').textContent = me.user ? `${me.user.name} · ${me.role}` : 'Admin token';
  forms = new TeamForms(me, refresh);
  await Promise.all([refresh(), forms.start()]);
  show('page');
}

$('sign-out').addEventListener('click', () => signOut());
$('refresh').addEventListener('click', () => Promise.all([refresh(), forms && forms.load()])
  .catch((err) => { $('queue-status').textContent = err.message; }));
load().catch((err) => problem('Your team could not be loaded', `${err.message}. Reload the page to try again.`));
