// Talk analytics (docs/coaching.md, "Talk analytics"), on two pages:
//
// - the replay page's Talk card (mountTalk): when the rep and the partner talk, where they
//   overlap (and who interrupted), the longest monologue, and the session's figures, from
//   GET /api/sessions/{id}/analytics. A tap on the timeline, an interruption or the monologue
//   jumps the replay there.
// - the progress page's talk trend (mountTalkTrend): talk ratio, longest monologue and
//   interruptions at each analysed session, oldest first, and their averages, from
//   GET /api/users/{id}/analytics.
//
// Every number is in text (a definition list, a table); the bars only repeat them for the eye.
// Positions are set through the CSSOM: the pages' CSP allows no inline style attributes.

import { el, clock } from './ui.js';

const SIDES = { rep: 'Rep', partner: 'Partner' };

const pct = (ms, total) => `${(100 * Math.max(0, Math.min(ms, total))) / total}%`;

// seconds says a duration the way the figures do: "2.5 s", "1 min 5 s".
export function seconds(ms) {
  if (ms < 60000) return `${(Math.round(ms / 100) / 10).toLocaleString('en')} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
}

const percent = (v) => (v === null || v === undefined ? '–' : `${Math.round(v)}%`);

// fetchJSON is a GET with the replay's bearer credential (none: the session cookie).
async function fetchJSON(path, bearer) {
  const headers = bearer ? { Authorization: `Bearer ${bearer}` } : {};
  const res = await fetch(path, { headers, cache: 'no-store', credentials: 'same-origin' });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const e = new Error((data.error && data.error.message) || `HTTP ${res.status}`);
    e.status = res.status;
    throw e;
  }
  return data;
}

// ---- the replay page ----------------------------------------------------------------------

// mountTalk fills the Talk card (a <section> with #talk-figures, #talk-timeline,
// #talk-interruptions and #talk-status inside) for session sessionId. durationMs is the
// replay's length, seek(ms) jumps the replay. It returns {at(ms)}, which moves the talk
// timeline's playhead; the card fills itself once the analytics arrive.
export function mountTalk(card, { sessionId, bearer, durationMs, seek }) {
  let head = null;
  let total = Math.max(durationMs, 1);
  let last = 0;
  const status = card.querySelector('#talk-status');
  card.hidden = false;
  card.dataset.state = 'loading';
  status.textContent = 'Loading the talk analytics…';
  fetchJSON(`/api/sessions/${encodeURIComponent(sessionId)}/analytics`, bearer).then((talk) => {
    total = Math.max(durationMs, talk.durationMs, 1);
    head = drawTalk(card, talk, total, seek);
    head.style.setProperty('--p', String(Math.max(0, Math.min(last / total, 1))));
    status.textContent = '';
    card.dataset.state = 'ready';
  }, (err) => {
    card.dataset.state = err.status === 404 ? 'none' : 'failed';
    status.textContent = err.status === 404 ? 'No talk analytics yet: they appear once the session has ended, if the browsers sent sound levels.'
      : `The talk analytics could not be loaded: ${err.message}.`;
  });
  return {
    at(ms) {
      last = ms;
      head?.style.setProperty('--p', String(Math.max(0, Math.min(ms / total, 1))));
    },
  };
}

function drawTalk(card, talk, total, seek) {
  card.querySelector('#talk-figures').replaceChildren(...figures(talk, seek));

  const lanes = [];
  const row = (label, cls, spans) => {
    const lane = el('div', { class: 'tl-lane' }, ...spans);
    lanes.push(lane);
    return el('div', { class: `tl-row ${cls}` }, el('span', { class: 'tl-label', text: label }), lane);
  };
  const span = (start, end, cls, title) => {
    const s = el('span', { class: `tl-span ${cls}`, title: `${title} ${clock(start)}–${clock(end)}` });
    s.style.left = pct(start, total);
    s.style.width = `max(3px, ${pct(end - start, total)})`;
    return s;
  };
  const rows = [];
  for (const side of ['rep', 'partner']) {
    const t = talk[side];
    const spans = t.talk.map(([a, b]) => span(a, b, `talk-${side}`, `${SIDES[side]} talking`));
    const m = t.longestMonologue;
    if (m && talk.longestMonologue && talk.longestMonologue.by === side) {
      spans.push(span(m.startMs, m.endMs, 'talk-monologue', 'Longest monologue'));
    }
    const r = row(SIDES[side], `talk-row-${side}`, spans);
    r.dataset.side = side;
    r.dataset.measured = String(t.measured);
    rows.push(r);
  }
  rows.push(row('Overlap', 'talk-row-overlap', talk.overlaps.map((o) => span(o.startMs, o.endMs, 'talk-overlap',
    o.by ? `${SIDES[o.by]} interrupted` : 'Both talking'))));

  const ticks = [];
  const step = [1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000, 300000, 600000, 900000, 1800000]
    .find((st) => total / st <= 5) || 3600000;
  for (let t = 0; t <= total; t += step) {
    const tick = el('span', { class: 'tl-tick', text: clock(t) });
    tick.style.left = pct(t, total);
    ticks.push(tick);
  }
  rows.push(el('div', { class: 'tl-row tl-axis' }, el('span', { class: 'tl-label' }), el('div', { class: 'tl-lane' }, ...ticks)));

  const headEl = el('div', { class: 'tl-playhead', 'aria-hidden': 'true' });
  const root = el('div', { class: 'tl talk-tl', 'aria-hidden': 'true' }, ...rows, headEl);
  root.addEventListener('click', (e) => {
    const box = lanes[0].getBoundingClientRect();
    if (e.clientX < box.left || e.clientX > box.right) return;
    seek(((e.clientX - box.left) / box.width) * total);
  });
  card.querySelector('#talk-timeline').replaceChildren(root);

  const list = card.querySelector('#talk-interruptions');
  list.replaceChildren(...talk.overlaps.map((o) => {
    const who = o.by ? `${SIDES[o.by]} interrupted` : 'Both started talking';
    const b = el('button', { type: 'button', class: 'note talk-jump', 'data-overlap-ms': String(o.startMs),
      'aria-label': `Jump to ${clock(o.startMs)}: ${who}, both talking for ${seconds(o.endMs - o.startMs)}` },
    el('span', { class: 'note-time', text: clock(o.startMs) }),
    el('span', { class: 'note-who', text: who }),
    el('span', { class: 'note-text', text: `both talking for ${seconds(o.endMs - o.startMs)}` }));
    b.addEventListener('click', () => seek(o.startMs));
    return el('li', {}, b);
  }));
  list.hidden = talk.overlaps.length === 0;
  return root;
}

// figures are the session's numbers, as <div><dt><dd> pairs of the card's <dl>.
function figures(talk, seek) {
  const pair = (key, label, ...value) => el('div', { class: 'talk-fig', 'data-figure': key },
    el('dt', { text: label }), el('dd', {}, ...value));
  const out = [];
  const known = talk.rep.measured && talk.partner.measured;
  if (talk.talkRatio !== null) {
    const bar = el('span', { class: 'talk-ratio-bar', 'aria-hidden': 'true' });
    bar.style.setProperty('--v', `${talk.talkRatio}%`);
    out.push(pair('ratio', 'Talk ratio', el('span', { class: 'talk-value', text: `Rep ${percent(talk.talkRatio)} · Partner ${percent(100 - talk.talkRatio)}` }), bar));
  } else {
    out.push(pair('ratio', 'Talk ratio', el('span', { text: known ? 'Nobody talked' : 'Not known: only one side sent sound levels' })));
  }
  const time = (side) => (talk[side].measured ? seconds(talk[side].talkMs) : 'not known');
  out.push(pair('talk', 'Talking time', el('span', { class: 'talk-value', text: `Rep ${time('rep')} · Partner ${time('partner')}` })));
  const m = talk.longestMonologue;
  if (m) {
    const jump = el('button', { type: 'button', class: 'talk-jump-monologue',
      'aria-label': `Longest monologue: ${SIDES[m.by]}, ${seconds(m.durationMs)}, from ${clock(m.startMs)}. Jump there` },
    `${seconds(m.durationMs)} by the ${m.by} at ${clock(m.startMs)}`);
    jump.addEventListener('click', () => seek(m.startMs));
    out.push(pair('monologue', 'Longest monologue', jump));
  } else {
    out.push(pair('monologue', 'Longest monologue', el('span', { text: 'None' })));
  }
  out.push(pair('interruptions', 'Interruptions', el('span', { class: 'talk-value',
    text: `Rep ${talk.rep.interruptions} · Partner ${talk.partner.interruptions}` })));
  out.push(pair('overlap', 'Both talking', el('span', { class: 'talk-value',
    text: `${talk.overlaps.length} ${talk.overlaps.length === 1 ? 'time' : 'times'}, ${seconds(talk.overlapMs)}` })));
  return out;
}

// ---- the progress page --------------------------------------------------------------------

// mountTalkTrend fills container with the user's talk trend, fetched with api (account.js's,
// which carries the page's credential), and shows empty (an element) when there is none.
export async function mountTalkTrend(container, empty, userId, api, day) {
  let trend;
  try {
    trend = await api('GET', `/api/users/${encodeURIComponent(userId)}/analytics`);
  } catch (err) {
    container.replaceChildren(el('p', { class: 'hint', text: `The talk trend could not be loaded: ${err.message}.` }));
    return;
  }
  empty.hidden = trend.sessions.length > 0;
  container.replaceChildren(...(trend.sessions.length ? [trendTable(trend, day)] : []));
  container.dataset.sessions = String(trend.sessions.length);
}

function trendTable(trend, day) {
  const cell = (v, text, bar) => {
    if (v === null || v === undefined) {
      return el('td', { class: 'pg-none' }, el('span', { class: 'visually-hidden', text: 'not known' }), el('span', { 'aria-hidden': 'true', text: '–' }));
    }
    const td = el('td', { 'data-value': String(v) });
    if (bar !== undefined) {
      const b = el('span', { class: 'pg-bar', 'aria-hidden': 'true' });
      b.style.setProperty('--v', `${Math.max(0, Math.min(bar, 100))}%`);
      td.append(b);
    }
    td.append(el('span', { class: 'pg-num', text }));
    return td;
  };
  const longest = Math.max(1, ...trend.sessions.map((s) => s.repLongestMonologueMs));
  const metrics = [
    { key: 'talkRatio', label: 'Your talk ratio', value: (s) => s.talkRatio, text: percent, bar: (v) => v },
    { key: 'repLongestMonologueMs', label: 'Your longest monologue', value: (s) => (s.repMeasured ? s.repLongestMonologueMs : null),
      text: seconds, bar: (v) => (100 * v) / longest },
    { key: 'repInterruptions', label: 'You interrupted', value: (s) => (s.repMeasured && s.partnerMeasured ? s.repInterruptions : null), text: String },
    { key: 'partnerInterruptions', label: 'You were interrupted', value: (s) => (s.repMeasured && s.partnerMeasured ? s.partnerInterruptions : null), text: String },
  ];
  const head = el('tr', {}, el('th', { scope: 'col', text: 'Session' }),
    ...trend.sessions.map((s, i) => el('th', { scope: 'col', title: s.title, 'data-session-id': s.sessionId, text: day(s.at) || `#${i + 1}` })),
    el('th', { scope: 'col', text: 'Average' }));
  const avgText = { talkRatio: percent, repLongestMonologueMs: seconds, repInterruptions: (v) => String(v), partnerInterruptions: (v) => String(v) };
  const rows = metrics.map((m) => el('tr', { 'data-metric': m.key },
    el('th', { scope: 'row', text: m.label }),
    ...trend.sessions.map((s) => {
      const v = m.value(s);
      return cell(v, v === null ? '' : m.text(v), m.bar && v !== null ? m.bar(v) : undefined);
    }),
    cell(trend.average[m.key], trend.average[m.key] === null ? '' : avgText[m.key](trend.average[m.key]))));
  return el('figure', { class: 'progress talk-trend' },
    el('div', { class: 'pg-scroll', 'aria-label': 'Your talk at each session' },
      el('table', { class: 'pg-table' },
        el('caption', { text: 'Talk, at each analysed session' }),
        el('thead', {}, head),
        el('tbody', {}, ...rows))));
}
