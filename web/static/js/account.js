// The signed-in pages' shared client (sign-in, /me, /team, the replay's scorecard): calls to
// the coaching API (docs/coaching.md) with the session cookie the sign-in set, or with the
// dashboard's admin token when this browser has no signed-in user; and the wording of dates
// and durations.

const TOKEN_KEY = 'ringside.adminToken'; // shared with the dashboard

export class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let bearer = '';

// useAdminToken makes every later call send the dashboard's stored admin token.
export function useAdminToken() {
  bearer = localStorage.getItem(TOKEN_KEY) || sessionStorage.getItem(TOKEN_KEY) || '';
  return bearer !== '';
}

export async function api(method, path, body) {
  const headers = body ? { 'Content-Type': 'application/json' } : {};
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  const res = await fetch(path, {
    method, headers, body: body ? JSON.stringify(body) : undefined, cache: 'no-store', credentials: 'same-origin',
  });
  if (res.status === 204) return {};
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const e = data.error || {};
    throw new APIError(res.status, e.code || '', e.message || `HTTP ${res.status}`);
  }
  return data;
}

// whoAmI returns GET /api/auth/me, trying the cookie first and then the admin token; null when
// neither is accepted.
export async function whoAmI() {
  for (const withToken of [false, true]) {
    if (withToken && !useAdminToken()) return null;
    try {
      return await api('GET', '/api/auth/me');
    } catch (err) {
      if (!(err instanceof APIError) || err.status !== 401) throw err;
      bearer = '';
    }
  }
  return null;
}

// homeOf is where a signed-in person starts: a rep's practice, a coach's or admin's team.
export const homeOf = (me) => (me && me.role === 'rep' ? '/me' : '/team');

export async function signOut() {
  if (!bearer) await api('POST', '/api/auth/signout');
  window.location.assign('/signin');
}

const dateFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });

export const when = (iso) => (iso ? dateFmt.format(new Date(iso)) : '');
export const day = (iso) => (iso ? dayFmt.format(new Date(iso)) : '');

// duration words milliseconds for people: "45 s", "12 min", "3 h 5 min", "2 d 4 h".
export function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

// normalised is a rating's value on 0–100 (docs/coaching.md, "Scenarios and scorecards"), or
// null for a comment or a criterion left out.
export function normalised(kind, value) {
  if (value === null || value === undefined) return null;
  if (kind === 'rating') return (value - 1) * 25;
  if (kind === 'yesno') return value ? 100 : 0;
  return null;
}

// overall is a score's weighted average of its normalised ratings, as the roll-up computes it.
export function overall(criteria, ratings) {
  let sum = 0;
  let weights = 0;
  for (const r of ratings) {
    const c = criteria.find((x) => x.id === r.criterionId);
    const v = c ? normalised(c.kind, r.value) : null;
    if (v === null || !c.weight) continue;
    sum += v * c.weight;
    weights += c.weight;
  }
  return weights ? Math.round((sum / weights) * 10) / 10 : null;
}

export const MODE_NAMES = { live: 'Live call', solo: 'Solo pitch' };

// Links between the signed-in pages are written data-route="/me" in the HTML (an href there
// would be taken for a file of the static tree) and made links here.
for (const a of document.querySelectorAll('a[data-route]')) a.href = a.dataset.route;
