// The team page's forms (docs/web.md, "Team"): "Assign a scenario" for coaches and admins
// (POST /api/assignments, and "New scenario": POST /api/scenarios), and "Invite a person" for
// admins (POST /api/users), which shows the one-time sign-in link to copy. The API decides
// who may do what and whose reps these are; an error it answers is shown under the form, in
// its own words.

import { $, el, copy } from './ui.js';
import { api, when } from './account.js';

// showError puts an API error (or a sentence of ours) under a form; '' clears it.
function showError(id, message) {
  const box = $(id);
  box.textContent = message;
  box.hidden = !message;
}

// busy disables a form's submit button while its request runs.
async function busy(button, f) {
  button.disabled = true;
  try {
    return await f();
  } finally {
    button.disabled = false;
  }
}

// localInput is a time as a datetime-local input's value (local time, minutes).
function localInput(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

// defaultDue is a week from today at 17:00.
function defaultDue() {
  const d = new Date();
  d.setDate(d.getDate() + 7);
  d.setHours(17, 0, 0, 0);
  return d;
}

export class TeamForms {
  // me is GET /api/auth/me; onChange is called after something was created (to refresh the
  // page's tables).
  constructor(me, onChange) {
    this.me = me;
    this.onChange = onChange;
    this.isAdmin = me.role === 'admin';
    this.canAssign = me.role === 'admin' || me.role === 'coach';
    this.teams = [];
  }

  async start() {
    if (!this.canAssign) return;
    $('assign-due').value = localInput(defaultDue());
    $('assign-due').min = localInput(new Date());
    $('assign-due').addEventListener('click', (e) => {
      try {
        e.target.showPicker();
      } catch { /* not offered by this browser, or the page is not in front: type the date */ }
    });
    $('assign-form').addEventListener('submit', (e) => this.assign(e));
    $('assign-all').addEventListener('click', () => {
      for (const box of $('assign-reps').querySelectorAll('input[type=checkbox]')) box.checked = true;
    });
    $('scenario-toggle').addEventListener('click', () => this.toggleScenario());
    $('scenario-cancel').addEventListener('click', () => this.toggleScenario(false));
    $('scenario-form').addEventListener('submit', (e) => this.createScenario(e));
    if (this.isAdmin) {
      $('invite-form').addEventListener('submit', (e) => this.invite(e));
      $('invite-again').addEventListener('click', () => this.inviteAgain());
      $('invite-copy').addEventListener('click', async () => {
        const ok = await copy($('invite-link').value, $('invite-link'));
        $('invite-status').textContent = ok ? 'Link copied.' : 'Copying failed: select the link and copy it.';
      });
      if (navigator.share) {
        $('invite-share').hidden = false;
        $('invite-share').addEventListener('click', () => {
          navigator.share({ title: 'Sign in to Ringside', url: $('invite-link').value }).catch(() => {});
        });
      }
      $('invite').hidden = false;
    }
    $('assign').hidden = false;
    await this.load();
  }

  // load fetches what the forms offer: scenarios, scorecards, the caller's reps and teams.
  async load() {
    if (!this.canAssign) return;
    const [scenarios, scorecards, users, teams] = await Promise.all([
      api('GET', '/api/scenarios'), api('GET', '/api/scorecards'), api('GET', '/api/users'), api('GET', '/api/teams')]);
    this.teams = teams.teams;
    this.fillScenarios(scenarios.scenarios);
    const cards = $('scenario-scorecard');
    cards.replaceChildren(el('option', { value: '', text: 'None' }),
      ...scorecards.scorecards.map((c) => el('option', { value: c.id, text: c.title })));
    this.fillReps(users.users.filter((u) => u.role === 'rep' && !u.disabled));
    $('invite-teams').replaceChildren(...this.teams.map((t) => el('option', { value: t.name })));
  }

  fillScenarios(list, selected) {
    const pick = $('assign-scenario');
    const keep = selected || pick.value;
    pick.replaceChildren(...list.map((s) => el('option', { value: s.id, text: s.title })));
    if (list.some((s) => s.id === keep)) pick.value = keep;
    pick.disabled = list.length === 0;
    $('assign-no-scenarios').hidden = list.length > 0;
  }

  fillReps(reps) {
    const names = new Map(this.teams.map((t) => [t.id, t.name]));
    const checked = new Set([...$('assign-reps').querySelectorAll('input:checked')].map((b) => b.value));
    $('assign-reps').replaceChildren(...reps.map((u) => {
      const id = `assign-rep-${u.id}`;
      const teams = u.teamIds.map((t) => names.get(t)).filter(Boolean).join(', ');
      return el('label', { class: 'pick', for: id, 'data-rep-id': u.id },
        el('input', { type: 'checkbox', id, value: u.id, checked: checked.has(u.id) }),
        el('span', { class: 'pick-name', text: u.name }),
        teams ? el('span', { class: 'pick-hint', text: teams }) : '');
    }));
    $('assign-no-reps').hidden = reps.length > 0;
    $('assign-all').hidden = reps.length < 2;
  }

  async assign(e) {
    e.preventDefault();
    showError('assign-error', '');
    $('assign-status').textContent = '';
    const repIds = [...$('assign-reps').querySelectorAll('input:checked')].map((b) => b.value);
    const due = new Date($('assign-due').value);
    const problem = !$('assign-scenario').value ? 'Choose a scenario, or write one with "New scenario".' :
      repIds.length === 0 ? 'Choose at least one rep.' :
        Number.isNaN(due.getTime()) ? 'Enter the due date and time.' : '';
    if (problem) {
      showError('assign-error', problem);
      return;
    }
    const body = {
      scenarioId: $('assign-scenario').value, repIds, dueAt: due.toISOString(),
      mode: document.querySelector('input[name=assign-mode]:checked').value, recurrence: $('assign-recurrence').value,
    };
    try {
      const out = await busy($('assign-submit'), () => api('POST', '/api/assignments', body));
      const list = out.assignments;
      const who = list.map((a) => a.repName).join(', ');
      $('assign-status').textContent = `Assigned "${list[0].scenarioTitle}" to ${who}, due ${when(list[0].dueAt)}.`;
      for (const b of $('assign-reps').querySelectorAll('input:checked')) b.checked = false;
      await this.onChange();
    } catch (err) {
      showError('assign-error', `Not assigned: ${err.message}`);
    }
  }

  toggleScenario(open = $('scenario-form').hidden) {
    $('scenario-form').hidden = !open;
    $('scenario-toggle').setAttribute('aria-expanded', String(open));
    if (open) $('scenario-title').focus();
    else {
      showError('scenario-error', '');
      $('scenario-toggle').focus();
    }
  }

  async createScenario(e) {
    e.preventDefault();
    showError('scenario-error', '');
    const title = $('scenario-title').value.trim();
    if (!title) {
      showError('scenario-error', 'Give the scenario a title.');
      $('scenario-title').focus();
      return;
    }
    const body = {
      title, persona: $('scenario-persona').value.trim(), goodLooksLike: $('scenario-good').value.trim(),
      objections: $('scenario-objections').value.split('\n').map((s) => s.trim()).filter(Boolean),
      scorecardId: $('scenario-scorecard').value,
    };
    try {
      const created = await busy($('scenario-submit'), () => api('POST', '/api/scenarios', body));
      const { scenarios } = await api('GET', '/api/scenarios');
      this.fillScenarios(scenarios, created.id);
      $('scenario-form').reset();
      this.toggleScenario(false);
      $('assign-status').textContent = `Scenario "${created.title}" saved: choose the reps to assign it to.`;
    } catch (err) {
      showError('scenario-error', `Not saved: ${err.message}`);
    }
  }

  async invite(e) {
    e.preventDefault();
    showError('invite-error', '');
    const email = $('invite-email').value.trim();
    if (!email) {
      showError('invite-error', 'Enter their email address.');
      $('invite-email').focus();
      return;
    }
    const body = { email, role: $('invite-role').value };
    const name = $('invite-name').value.trim();
    const team = $('invite-team').value.trim();
    if (name) body.name = name;
    if (team) body.team = team;
    try {
      const out = await busy($('invite-submit'), () => api('POST', '/api/users', body));
      $('invite-form').hidden = true;
      $('invite-result').hidden = false;
      $('invite-result-title').textContent = `Sign-in link for ${out.user.name}`;
      $('invite-result-text').textContent = `${out.user.name} (${out.user.email}, ${out.user.role}) signs in by opening ` +
        `this link once, until ${when(out.expiresAt)}. Anyone who has it can sign in as them: send it only to them.`;
      $('invite-link').value = out.signInUrl;
      $('invite-link').setAttribute('aria-label', `${out.user.name}'s sign-in link`);
      // Scanned off this screen, the link opens on the person's own phone.
      $('invite-qr').src = `/qr?data=${encodeURIComponent(out.signInUrl)}`;
      $('invite-qr').alt = `QR code of ${out.user.name}'s sign-in link, to scan with their phone`;
      $('invite-qr').hidden = false;
      $('invite-status').textContent = '';
      $('invite-result-title').focus();
      await this.load();
      await this.onChange();
    } catch (err) {
      showError('invite-error', `Not invited: ${err.message}`);
    }
  }

  inviteAgain() {
    $('invite-form').reset();
    $('invite-link').value = '';
    $('invite-qr').hidden = true;
    $('invite-qr').removeAttribute('src');
    $('invite-result').hidden = true;
    $('invite-form').hidden = false;
    $('invite-email').focus();
  }
}
