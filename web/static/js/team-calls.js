// The team page's live calls (docs/web.md, "Team"): each open live assignment of the caller's
// reps, with "Set up the call" (POST /api/assignments/{id}/live), which shows the rep's, the
// partner's and the coach's own link to copy (and QR codes of the rep's and the partner's, for
// a phone to scan), and "End the call" (POST /api/sessions/{id}/end), which hands the
// assignment in with the call. Links are shown once by the server (it keeps only their
// hashes): asking again issues new ones for the same seats.

import { $, el, copy } from './ui.js';
import { api, when, duration } from './account.js';

// The seats whose links are shown: role, the field's label, what "copied" names, a QR code.
const SEATS = [
  ['rep', (a) => `Rep's link (${a.repName})`, "Rep's link", true],
  ['partner', () => "Partner's link", "Partner's link", true],
  ['coach', () => 'Your link (coach)', 'Your link', false],
];

const say = (text) => { $('calls-status').textContent = text; };

export class TeamCalls {
  // onChange is called after a call ended (to refresh the page's tables).
  constructor(onChange) {
    this.onChange = onChange;
    this.links = new Map(); // assignment id → the last answer of POST …/live, while shown
  }

  // render lists the open live assignments among all (GET /api/assignments).
  render(all) {
    const open = all.filter((a) => a.mode === 'live' && (a.state === 'assigned' || a.state === 'overdue'));
    for (const id of this.links.keys()) if (!open.some((a) => a.id === id)) this.links.delete(id);
    $('calls').replaceChildren(...open.map((a) => this.item(a)));
    $('calls-empty').hidden = open.length > 0;
  }

  item(a) {
    const overdue = a.state === 'overdue';
    const ms = new Date(a.dueAt).getTime() - Date.now();
    const shown = this.links.get(a.id);
    const setUp = !!a.liveSessionId || !!shown;
    const what = `${a.repName}: ${a.scenarioTitle}`;
    const go = el('button', {
      type: 'button', class: setUp ? '' : 'primary', 'data-setup': a.id,
      'aria-label': `${setUp ? 'New links for the call' : 'Set up the call'}: ${what}`,
      text: setUp ? 'New links' : 'Set up the call',
    });
    go.addEventListener('click', () => this.setUp(a, go));
    const actions = el('div', { class: 'item-actions' }, go);
    if (setUp) {
      const end = el('button', { type: 'button', class: 'danger', 'data-end': a.id, 'aria-label': `End the call: ${what}`, text: 'End the call' });
      end.addEventListener('click', () => this.end(a, shown ? shown.sessionId : a.liveSessionId, end));
      actions.append(end);
    }
    const li = el('li', { class: `item${overdue ? ' overdue' : ''}`, 'data-assignment-id': a.id, 'data-call': setUp ? 'set-up' : 'none' },
      el('div', { class: 'item-main' },
        el('h3', { class: 'item-title', text: what }),
        el('p', { class: 'item-meta' },
          el('span', { class: 'tag', text: 'Live call' }),
          setUp ? el('span', { class: 'tag ok-tag', text: 'Call set up' }) : '',
          overdue ? el('span', { class: 'tag overdue-tag', text: 'Overdue' }) : ''),
        el('p', { class: 'item-due', text: overdue ? `Was due ${when(a.dueAt)} (${duration(-ms)} ago)` : `Due ${when(a.dueAt)} (in ${duration(ms)})` })),
      actions);
    if (shown) li.append(this.linksBox(a, shown));
    return li;
  }

  linksBox(a, call) {
    const seats = el('div', { class: 'call-seats' });
    const box = el('div', { class: 'subform call-links' },
      el('h4', { class: 'call-links-title', tabindex: '-1', text: `Links for ${a.repName}'s call` }),
      el('p', { class: 'hint', text: `Send each person their link, or let them scan its QR code. ${a.repName} also finds theirs on their practice page. ` +
        `Valid until ${when(call.expiresAt)}; asking for new links stops these.` }));
    for (const [role, label, copied, qr] of SEATS) {
      const url = call.invites[role];
      if (!url) continue;
      const id = `call-${a.id}-${role}`;
      const input = el('input', { id, type: 'text', readonly: true, value: url, spellcheck: 'false' });
      const button = el('button', { type: 'button', 'aria-label': `Copy the ${role}'s link`, text: 'Copy link' });
      button.addEventListener('click', async () => {
        const ok = await copy(url, input);
        say(ok ? `${copied} copied.` : 'Copying failed: select the link and copy it.');
      });
      const seat = el('div', { class: 'call-link', 'data-role': role },
        el('label', { class: 'field', for: id, text: label(a) }), input, el('div', { class: 'form-actions' }, button));
      if (qr) {
        seat.append(el('img', { class: 'invite-qr', src: `/qr?data=${encodeURIComponent(url)}`, width: '176', height: '176',
          alt: `QR code of the ${role}'s link, to scan with a phone` }));
      }
      seats.append(seat);
    }
    box.append(seats);
    return box;
  }

  async setUp(a, button) {
    button.disabled = true;
    say('Setting up the call…');
    try {
      const call = await api('POST', `/api/assignments/${encodeURIComponent(a.id)}/live`);
      this.links.set(a.id, call);
      say(`The call for ${a.repName}: ${a.scenarioTitle} is set up.`);
      const li = this.item({ ...a, liveSessionId: call.sessionId });
      document.querySelector(`#calls li[data-assignment-id="${CSS.escape(a.id)}"]`)?.replaceWith(li);
      li.querySelector('.call-links-title')?.focus();
    } catch (err) {
      button.disabled = false;
      say(`The call was not set up: ${err.message}.`);
    }
  }

  async end(a, sessionId, button) {
    if (!window.confirm(`End the call of ${a.repName}? Everyone in it is disconnected, and the assignment is handed in.`)) return;
    button.disabled = true;
    try {
      await api('POST', `/api/sessions/${encodeURIComponent(sessionId)}/end`);
      this.links.delete(a.id);
      say(`The call of ${a.repName} ended; it waits in the review queue.`);
    } catch (err) {
      button.disabled = false;
      say(`The call was not ended: ${err.message}.`);
    }
    await this.onChange();
  }
}
