// A rep's "My practice" page (/me): open assignments soonest due first with overdue ones
// flagged ("Record pitch" for a solo one, "Join the call" for a live one whose call is set
// up), what they handed in with its scores and the coach's notes on the scorecard, their
// recorded sessions, each linked to its replay, and their progress per criterion. Everything
// comes from the coaching and session APIs (docs/coaching.md, docs/api.md) with the session
// cookie; a rep sees only their own.

import { $, el, pageViews } from './ui.js';
import { api, APIError, whoAmI, signOut, when, day, duration, overall, normalised, MODE_NAMES } from './account.js';
import { renderProgress } from './progress.js';
import { mountTalkTrend } from './analytics.js';

const { show, problem } = pageViews(['loading', 'problem', 'page']);

// liveHint says where a live assignment's call stands.
function liveHint(a) {
  return a.liveSessionId ? 'Your coach has set up the call: join it when your partner is ready. It is handed in when the call ends.' :
    'Your coach sets up the practice call; its link shows here then.';
}

function openItem(a) {
  const overdue = a.state === 'overdue';
  const ms = new Date(a.dueAt).getTime() - Date.now();
  let action = '';
  if (a.mode === 'solo') {
    action = el('a', { class: 'button primary', href: `/solo?assignment=${encodeURIComponent(a.id)}`, 'aria-label': `Record a pitch: ${a.scenarioTitle}`, text: 'Record pitch' });
  } else if (a.liveSessionId) {
    action = el('button', { type: 'button', class: 'primary', 'data-join': a.id, 'aria-label': `Join the call: ${a.scenarioTitle}`, text: 'Join the call' });
    action.addEventListener('click', () => joinCall(a, action));
  }
  return el('li', { class: `item${overdue ? ' overdue' : ''}`, 'data-assignment-id': a.id, 'data-state': a.state },
    el('div', { class: 'item-main' },
      el('h3', { class: 'item-title', text: a.scenarioTitle }),
      el('p', { class: 'item-meta' },
        el('span', { class: 'tag', text: MODE_NAMES[a.mode] || a.mode }),
        a.recurrence !== 'none' ? el('span', { class: 'tag', text: a.recurrence === 'weekly' ? 'Every week' : 'Every 2 weeks' }) : '',
        a.mode === 'live' && a.liveSessionId ? el('span', { class: 'tag ok-tag', text: 'Call set up' }) : '',
        overdue ? el('span', { class: 'tag overdue-tag', text: 'Overdue' }) : ''),
      el('p', { class: 'item-due', text: overdue ? `Was due ${when(a.dueAt)} (${duration(-ms)} ago)` : `Due ${when(a.dueAt)} (in ${duration(ms)})` }),
      el('p', { class: 'hint', text: a.mode === 'solo' ? 'Record a short pitch on your own.' : liveHint(a) }),
      el('p', { class: 'form-error', role: 'alert', hidden: true })),
    action ? el('div', { class: 'item-actions' }, action) : '');
}

// joinCall asks for the rep's own link to the call (POST /api/assignments/{id}/live answers a
// rep with theirs alone: a new one, so it is never stale) and opens it.
async function joinCall(a, button) {
  const problem = button.closest('li').querySelector('.form-error');
  button.disabled = true;
  problem.hidden = true;
  try {
    const call = await api('POST', `/api/assignments/${encodeURIComponent(a.id)}/live`);
    window.location.assign(call.invites.rep);
  } catch (err) {
    button.disabled = false;
    problem.textContent = err instanceof APIError && err.status === 409 ?
      'The call is not open any more: ask your coach to set it up again.' : `The call could not be opened: ${err.message}.`;
    problem.hidden = false;
  }
}

const replayOf = (id) => `/sessions/${encodeURIComponent(id)}/replay`;

// watchable reports whether a session has something to replay: it was recorded and it began.
const watchable = (s) => s.recorded && !!s.startedAt;

function sessionItem(s) {
  const status = !s.recorded ? 'Not recorded' : !s.startedAt ? 'Not started yet' : s.state === 'live' ? 'Recording now' : '';
  return el('li', { class: 'item', 'data-session-id': s.id, 'data-state': s.state },
    el('div', { class: 'item-main' },
      el('h3', { class: 'item-title', text: s.title }),
      el('p', { class: 'item-meta' }, status ? el('span', { class: 'tag', text: status }) : ''),
      el('p', { class: 'item-due', text: s.startedAt ? `Practised ${when(s.startedAt)}` : `Set up ${when(s.createdAt)}` })),
    watchable(s) ? el('div', { class: 'item-actions' },
      el('a', { class: 'button primary', href: replayOf(s.id), 'aria-label': `Watch the replay: ${s.title}`, text: 'Watch replay' })) : '');
}

function pastItem(a, score, card, session) {
  const li = el('li', { class: 'item', 'data-assignment-id': a.id, 'data-state': a.state },
    el('div', { class: 'item-main' },
      el('h3', { class: 'item-title', text: a.scenarioTitle }),
      el('p', { class: 'item-meta' },
        el('span', { class: 'tag', text: MODE_NAMES[a.mode] || a.mode }),
        el('span', { class: `tag ${a.state === 'reviewed' ? 'ok-tag' : ''}`, text: a.state === 'reviewed' ? 'Reviewed' : 'Waiting for feedback' })),
      el('p', { class: 'item-due', text: `Handed in ${when(a.submittedAt)}${a.reviewedAt ? ` · feedback ${when(a.reviewedAt)}` : ''}` })),
    session && watchable(session) ? el('div', { class: 'item-actions' },
      el('a', { class: 'button', href: replayOf(session.id), 'aria-label': `Watch the replay: ${a.scenarioTitle}`, text: 'Watch replay' })) : '');
  if (score && card) {
    const total = overall(card.criteria, score.ratings);
    const rows = card.criteria.map((c) => {
      const r = score.ratings.find((x) => x.criterionId === c.id);
      if (!r) return null;
      const v = normalised(c.kind, r.value);
      let text = '';
      if (c.kind === 'rating') text = `${r.value} / 5`;
      else if (c.kind === 'yesno') text = r.value ? 'Yes' : 'No';
      return el('div', { class: 'score-row' },
        el('dt', { text: c.label }),
        el('dd', {}, text ? el('span', { class: 'score-value', 'data-score': v, text }) : '', r.comment ? el('span', { class: 'score-comment', text: r.comment }) : ''));
    }).filter(Boolean);
    li.querySelector('.item-main').append(
      el('p', { class: 'score-total', text: total === null ? 'Scored' : `Score ${Math.round(total)} / 100` }),
      el('dl', { class: 'scores', 'aria-label': `Scores for ${a.scenarioTitle}` }, ...rows));
  }
  return li;
}

async function load() {
  let me;
  try {
    me = await whoAmI();
  } catch (err) {
    return problem('Your practice could not be loaded', `${err.message}. Check your connection and reload the page.`);
  }
  if (!me || !me.user) return problem('Sign in to see your practice', 'Open the sign-in link your admin sent you.');
  $('me-name').textContent = `${me.user.name} · ${me.user.email}`;
  $('me-team').hidden = me.role === 'rep';

  const [mine, scenarios, visible] = await Promise.all([
    api('GET', `/api/assignments?rep=${encodeURIComponent(me.user.id)}`),
    api('GET', '/api/scenarios'),
    api('GET', '/api/sessions'),
  ]);
  // The sessions the user is the rep of (a coach or an admin here sees only their own too).
  const sessions = visible.sessions.filter((s) => s.repId === me.user.id);
  const sessionById = new Map(sessions.map((s) => [s.id, s]));
  // A rep sees their own assignments; a coach on this page sees only those assigned to themself.
  const assignments = mine.assignments;
  const open = assignments.filter((a) => a.state === 'assigned' || a.state === 'overdue');
  const past = assignments.filter((a) => a.state === 'submitted' || a.state === 'reviewed')
    .sort((a, b) => (b.submittedAt || '').localeCompare(a.submittedAt || ''));

  // Scorecards of the scenarios practised, and this rep's scores on them.
  const cardIds = [...new Set(scenarios.scenarios.map((s) => s.scorecardId).filter(Boolean))];
  const cards = new Map();
  const scores = [];
  const rollups = new Map();
  await Promise.all(cardIds.map(async (id) => {
    try {
      const [card, list, rollup] = await Promise.all([
        api('GET', `/api/scorecards/${encodeURIComponent(id)}`),
        api('GET', `/api/scorecards/${encodeURIComponent(id)}/scores`),
        api('GET', `/api/scorecards/${encodeURIComponent(id)}/rollup`),
      ]);
      cards.set(id, card);
      scores.push(...list.scores.filter((s) => s.repId === me.user.id));
      rollups.set(id, rollup.reps.find((r) => r.repId === me.user.id) || null);
    } catch (err) {
      if (!(err instanceof APIError) || err.status !== 404) throw err;
    }
  }));
  const scoreOf = (a) => scores.filter((s) => s.assignmentId === a.id || (a.sessionId && s.sessionId === a.sessionId))
    .sort((x, y) => y.createdAt.localeCompare(x.createdAt))[0];

  $('open-count').textContent = open.length ? `(${open.length})` : '';
  $('open-list').replaceChildren(...open.map(openItem));
  $('open-empty').hidden = open.length > 0;
  $('past-list').replaceChildren(...past.map((a) => {
    const s = scoreOf(a);
    return pastItem(a, s, s ? cards.get(s.scorecardId) : null, sessionById.get(a.sessionId));
  }));
  $('past-empty').hidden = past.length > 0;
  $('sessions-list').replaceChildren(...sessions.map(sessionItem));
  $('sessions-empty').hidden = sessions.length > 0;

  const charts = [...cards.values()].map((card) => renderProgress(card, scores.filter((s) => s.scorecardId === card.id), rollups.get(card.id), day))
    .filter(Boolean);
  $('progress').replaceChildren(...charts);
  $('progress-empty').hidden = charts.length > 0;
  show('page');
  mountTalkTrend($('talk-trend'), $('talk-trend-empty'), me.user.id, api, day);
}

$('sign-out').addEventListener('click', () => signOut());
load().catch((err) => problem('Your practice could not be loaded', `${err.message}. Reload the page to try again.`));
