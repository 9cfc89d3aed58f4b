// The replay's timeline: one lane per participant with the spans where their sound was
// recorded, a lane of coach modes (whisper highlighted), and a lane of markers and comments
// that jump the replay to their time. A tap or click on any lane seeks there. Positions are
// set through the CSSOM (the page's CSP allows no inline style attributes).

import { el, clock } from './ui.js';

const pct = (ms, total) => `${(100 * Math.max(0, Math.min(ms, total))) / total}%`;

// model: {durationMs, rows: [{label, spans: [{startMs, endMs, kind, title}]}],
//         points: [{ms, kind: 'marker'|'comment', id, text}]}
// onSeek(ms) is called for a tap on a lane or a point.
export function renderTimeline(container, model, onSeek) {
  const total = Math.max(model.durationMs, 1);
  const lanes = [];
  const row = (label, cls, children) => {
    const lane = el('div', { class: 'tl-lane' }, ...children);
    lanes.push(lane);
    return el('div', { class: `tl-row ${cls}` }, el('span', { class: 'tl-label', text: label }), lane);
  };
  const rows = model.rows.map((r) => row(r.label, r.cls || '', r.spans.map((s) => {
    const span = el('span', { class: `tl-span ${s.kind}`, title: `${s.title} ${clock(s.startMs)}–${clock(s.endMs)}` });
    span.style.left = pct(s.startMs, total);
    span.style.width = `max(3px, ${pct(s.endMs - s.startMs, total)})`;
    return span;
  })));
  const points = model.points.map((p) => {
    const what = p.kind === 'comment' ? `Comment by ${p.author}` : 'Marker';
    const b = el('button', {
      type: 'button',
      class: `tl-point ${p.kind}`,
      'aria-label': `${what} at ${clock(p.ms)}: ${p.text}`,
      title: `${clock(p.ms)} ${what}: ${p.text}`,
      [`data-${p.kind}-id`]: p.id,
      'data-ms': String(p.ms),
    }, el('span', { class: 'pin', 'aria-hidden': 'true' }));
    b.style.left = pct(p.ms, total);
    b.addEventListener('click', (e) => {
      e.stopPropagation();
      onSeek(p.ms);
    });
    return b;
  });
  rows.push(row('Notes', 'tl-notes', points));

  const ticks = [];
  const step = niceStep(total);
  for (let ms = 0; ms <= total; ms += step) {
    const tick = el('span', { class: 'tl-tick', text: clock(ms) });
    tick.style.left = pct(ms, total);
    ticks.push(tick);
  }
  const axis = el('div', { class: 'tl-row tl-axis', 'aria-hidden': 'true' },
    el('span', { class: 'tl-label' }), el('div', { class: 'tl-lane' }, ...ticks));
  const head = el('div', { class: 'tl-playhead', 'aria-hidden': 'true' });
  const root = el('div', { class: 'tl' }, ...rows, axis, head);

  root.addEventListener('click', (e) => {
    const lane = lanes[0];
    if (!lane || e.target.closest('.tl-point')) return;
    const box = lane.getBoundingClientRect();
    if (e.clientX < box.left || e.clientX > box.right) return;
    onSeek(((e.clientX - box.left) / box.width) * total);
  });
  container.replaceChildren(root);
  return {
    // at moves the playhead to ms.
    at(ms) { root.style.setProperty('--p', String(Math.max(0, Math.min(ms / total, 1)))); },
  };
}

// niceStep picks an axis step giving 3 to 6 labels.
function niceStep(total) {
  for (const s of [1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000, 300000, 600000, 900000, 1800000]) {
    if (total / s <= 5) return s;
  }
  return 3600000;
}
