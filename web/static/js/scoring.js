// The scorecard panel of the replay page, for a coach or an admin reviewing a handed-in
// assignment (/sessions/{id}/replay?assignment=<id>, the team page's "Open replay"): the
// scenario's scorecard as a form, one native control group per criterion, submitted with
// POST /api/reviews/{id}/complete, which scores the session and marks the assignment reviewed
// (docs/coaching.md, "Reviews"). A reviewed assignment shows its score instead.

import { $, el } from './ui.js';
import { api, APIError, useAdminToken, when } from './account.js';

function criterionField(c) {
  const name = `crit-${c.id}`;
  const hint = c.description ? el('p', { class: 'hint', id: `${name}-hint`, text: c.description }) : '';
  if (c.kind === 'comment') {
    return el('div', { class: 'crit', 'data-criterion-id': c.id, 'data-kind': c.kind },
      el('label', { class: 'field', for: name, text: c.label }), hint,
      el('textarea', { id: name, name, rows: '2', maxlength: '2000', 'aria-describedby': c.description ? `${name}-hint` : null }));
  }
  const options = c.kind === 'rating' ?
    [1, 2, 3, 4, 5].map((v) => [v, String(v)]) : [[1, 'Yes'], [0, 'No']];
  return el('fieldset', { class: 'crit', 'data-criterion-id': c.id, 'data-kind': c.kind },
    el('legend', { text: c.kind === 'rating' ? `${c.label} (1 to 5)` : c.label }), hint,
    el('div', { class: `choices ${c.kind}` }, ...options.map(([v, text]) =>
      el('label', { class: 'choice' }, el('input', { type: 'radio', name, value: String(v) }), el('span', { text })))));
}

function ratingsOf(form, criteria) {
  const ratings = [];
  for (const c of criteria) {
    const name = `crit-${c.id}`;
    if (c.kind === 'comment') {
      const text = form.elements[name].value.trim();
      if (text) ratings.push({ criterionId: c.id, value: null, comment: text });
      continue;
    }
    const picked = form.querySelector(`input[name="${name}"]:checked`);
    if (picked) ratings.push({ criterionId: c.id, value: Number(picked.value), comment: '' });
  }
  return ratings;
}

function summary(card, score) {
  return el('dl', { class: 'scores' }, ...card.criteria.map((c) => {
    const r = score.ratings.find((x) => x.criterionId === c.id);
    if (!r) return null;
    const text = c.kind === 'rating' ? `${r.value} / 5` : c.kind === 'yesno' ? (r.value ? 'Yes' : 'No') : r.comment;
    return el('div', { class: 'score-row' }, el('dt', { text: c.label }), el('dd', { text }));
  }).filter(Boolean));
}

// mountScorecard fills the #scorecard section for the assignment, if the viewer may review it.
let mounted = false;

export async function mountScorecard(assignmentId, sessionId, withAdminToken) {
  const box = $('scorecard');
  if (!box || !assignmentId || mounted) return;
  mounted = true;
  if (withAdminToken) useAdminToken();
  const status = $('sc-status');
  let a;
  let card = null;
  try {
    a = await api('GET', `/api/assignments/${encodeURIComponent(assignmentId)}`);
    const scenario = await api('GET', `/api/scenarios/${encodeURIComponent(a.scenarioId)}`);
    if (scenario.scorecardId) card = await api('GET', `/api/scorecards/${encodeURIComponent(scenario.scorecardId)}`);
  } catch (err) {
    if (err instanceof APIError && (err.status === 401 || err.status === 404)) return; // not this viewer's to review
    box.hidden = false;
    status.textContent = `The scorecard could not be loaded: ${err.message}.`;
    return;
  }
  box.hidden = false;
  $('sc-heading').textContent = card ? `Score: ${card.title}` : 'Review';
  $('sc-meta').textContent = `${a.repName} · ${a.scenarioTitle} · handed in ${when(a.submittedAt)}`;
  if (a.sessionId && a.sessionId !== sessionId) {
    status.textContent = 'This assignment was handed in with another session.';
    return;
  }
  const form = $('sc-form');
  const criteria = card ? card.criteria : [];
  const showReviewed = async () => {
    form.hidden = true;
    const parts = [el('p', { class: 'score-total', text: `Reviewed ${when(a.reviewedAt)}` })];
    if (card) {
      const list = await api('GET', `/api/scorecards/${encodeURIComponent(card.id)}/scores`);
      const score = list.scores.find((s) => s.assignmentId === a.id || s.sessionId === a.sessionId);
      if (score) parts.push(summary(card, score));
    }
    $('sc-done').replaceChildren(...parts);
    $('sc-done').hidden = false;
  };
  if (a.state === 'reviewed') return showReviewed();
  if (a.state !== 'submitted') {
    status.textContent = 'This assignment has not been handed in yet.';
    return;
  }
  $('sc-criteria').replaceChildren(...criteria.map(criterionField));
  form.hidden = false;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    $('sc-submit').disabled = true;
    status.textContent = 'Saving…';
    try {
      a = await api('POST', `/api/reviews/${encodeURIComponent(a.id)}/complete`, { ratings: ratingsOf(form, criteria) });
      status.textContent = 'Score saved. The rep sees it on their practice page.';
      await showReviewed();
    } catch (err) {
      $('sc-submit').disabled = false;
      status.textContent = err instanceof APIError && err.status === 409 ?
        `Not saved: ${err.message}.` : `Not saved: ${err.message}. Try again.`;
    }
  });
}
