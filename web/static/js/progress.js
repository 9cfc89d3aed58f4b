// The progress view of /me: for one scorecard, each criterion's normalised score (0–100) at
// each scored session, oldest first, with the roll-up's average (GET /api/scorecards/{id}/rollup).
// It is a table, so screen readers read numbers; the bars only repeat them for the eye.

import { el } from './ui.js';
import { normalised } from './account.js';

function cell(v) {
  if (v === null || v === undefined) return el('td', { class: 'pg-none' }, el('span', { class: 'visually-hidden', text: 'not rated' }), el('span', { 'aria-hidden': 'true', text: '–' }));
  const n = Math.round(v);
  const bar = el('span', { class: 'pg-bar', 'aria-hidden': 'true' });
  bar.style.setProperty('--v', `${n}%`);
  return el('td', { 'data-score': n }, bar, el('span', { class: 'pg-num', text: String(n) }));
}

export function renderProgress(card, scores, rollup, day) {
  const criteria = card.criteria.filter((c) => c.kind !== 'comment');
  if (!criteria.length || !scores.length) return null;
  const ordered = [...scores].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const avg = (id) => {
    const c = rollup && rollup.criteria.find((x) => x.criterionId === id);
    return c ? c.average : null;
  };
  const head = el('tr', {}, el('th', { scope: 'col', text: 'Criterion' }),
    ...ordered.map((s, i) => el('th', { scope: 'col', text: day(s.createdAt) || `#${i + 1}` })),
    el('th', { scope: 'col', text: 'Average' }));
  const rows = criteria.map((c) => el('tr', { 'data-criterion-id': c.id },
    el('th', { scope: 'row', text: c.label }),
    ...ordered.map((s) => {
      const r = s.ratings.find((x) => x.criterionId === c.id);
      return cell(r ? normalised(c.kind, r.value) : null);
    }),
    cell(avg(c.id))));
  const overall = rollup && rollup.overall !== null ? ` · overall ${Math.round(rollup.overall)} / 100` : '';
  return el('figure', { class: 'progress', 'data-scorecard-id': card.id },
    el('div', { class: 'pg-scroll', 'aria-label': `Progress on ${card.title}` },
      el('table', { class: 'pg-table' },
        el('caption', { text: `${card.title}${overall}` }),
        el('thead', {}, head),
        el('tbody', {}, ...rows))));
}
