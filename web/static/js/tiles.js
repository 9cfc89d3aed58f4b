// Tiles draws the other participants: one tile (video, or initials when there is none) per
// roster member shown, and one hidden <audio> per received audio track. It is shared by the
// phone call UI and the coach console.

import { play } from './media.js';
import { el } from './ui.js';

export const ROLE_NAMES = { rep: 'Rep', partner: 'Partner', coach: 'Coach' };

const STATE_NAMES = { whispering: 'whispering', open: 'in the call', watching: 'watching silently' };

export function initials(name) {
  const parts = (name || '?').trim().split(/\s+/).slice(0, 2);
  return parts.map((p) => p[0].toUpperCase()).join('') || '?';
}

export class Tiles {
  // container holds the tiles, sinks the audio elements; show(member) picks the members
  // that get a tile; blocked(el) is called when the browser refuses to play sound.
  constructor({ container, sinks, show, blocked }) {
    this.container = container;
    this.sinks = sinks;
    this.show = show;
    this.blocked = blocked;
    this.tiles = new Map(); // pid -> {el, video, name, role, state, micoff, videoKey}
    this.audio = new Map(); // remote key -> <audio>
  }

  update(roster, remote) {
    const videos = new Map();
    for (const r of remote.values()) if (r.kind === 'video') videos.set(r.pid, r);
    const seen = new Set();
    for (const m of roster) {
      if (!this.show(m)) continue;
      seen.add(m.id);
      let tile = this.tiles.get(m.id);
      if (!tile) {
        tile = this.createTile(m);
        this.tiles.set(m.id, tile);
        this.container.append(tile.el);
      }
      this.updateTile(tile, m, videos.get(m.id));
    }
    for (const [id, tile] of this.tiles) {
      if (!seen.has(id)) {
        tile.video.srcObject = null;
        tile.el.remove();
        this.tiles.delete(id);
      }
    }
    for (const r of remote.values()) {
      if (r.kind !== 'audio' || this.audio.has(r.key)) continue;
      const a = el('audio', { autoplay: true, 'data-pid': r.pid, 'data-key': r.key });
      a.srcObject = new MediaStream([r.track]);
      this.sinks.append(a);
      this.audio.set(r.key, a);
      play(a, this.blocked);
    }
    for (const [key, a] of this.audio) {
      if (!remote.has(key)) {
        a.srcObject = null;
        a.remove();
        this.audio.delete(key);
      }
    }
  }

  createTile(m) {
    const video = el('video', { playsinline: true, autoplay: true, muted: true });
    video.muted = true; // the sound plays from the audio sinks
    const name = el('span', { class: 'name' });
    const role = el('span', { class: 'role' });
    const state = el('span', { class: 'state' });
    const micoff = el('span', { class: 'micoff', text: 'Mic off', hidden: true });
    const avatar = el('div', { class: 'avatar', 'aria-hidden': 'true' });
    const figure = el('figure', { class: 'tile', 'data-pid': m.id, 'data-role': m.role, 'data-video': 'off' },
      video, avatar, el('figcaption', {}, name, role, state, micoff));
    return { el: figure, video, avatar, name, role, state, micoff, videoKey: '' };
  }

  updateTile(tile, m, video) {
    tile.name.textContent = m.name;
    tile.role.textContent = ROLE_NAMES[m.role] || m.role;
    tile.state.textContent = STATE_NAMES[m.state] || '';
    tile.avatar.textContent = initials(m.name);
    tile.micoff.hidden = m.audio !== false;
    tile.el.dataset.role = m.role;
    tile.el.dataset.state = m.state || '';
    tile.video.setAttribute('aria-label', `${m.name}'s camera`);
    const key = video ? video.key : '';
    if (key !== tile.videoKey) {
      tile.videoKey = key;
      tile.video.srcObject = video ? new MediaStream([video.track]) : null;
      if (video) play(tile.video, this.blocked);
    }
    tile.el.dataset.video = video && m.video !== false ? 'on' : 'off';
  }

  setSpeaking(pid, speaking) {
    const tile = this.tiles.get(pid);
    if (tile) tile.el.dataset.speaking = speaking ? 'true' : 'false';
  }

  // retryPlay plays every element again (inside the tap of a "turn on sound" button).
  retryPlay() {
    for (const a of this.audio.values()) a.play().catch(() => {});
    for (const t of this.tiles.values()) if (t.video.srcObject) t.video.play().catch(() => {});
  }
}
