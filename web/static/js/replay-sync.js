// The replay's clock and the media elements that follow it.
//
// One hidden master clock holds the session's time (ms from the recording's start). Every
// recorded span is one <audio> or <video> element, a slave of the clock: while the clock is
// inside the span, the element plays at currentTime = (clock - startOffsetMs) / 1000; outside
// it, the element is paused and hidden.
//
// Starting to play (and every seek while playing) goes through three steps, so that tracks
// start together although an element only begins to advance some 100–250 ms after play():
//   waiting   the clock stands still; every element that should play is parked at its
//             position until it has data there (or STALL_GIVE_UP_MS passes);
//   launching audio elements are started and the clock still stands still until each has
//             begun to advance (or LAUNCH_GIVE_UP_MS passes); the clock then takes the audio's
//             mean position: audio leads, as in any player;
//   running   the clock runs; every TICK_MS each element's error is measured and corrected,
//             a large one by seeking, a small one by running the element up to MAX_NUDGE
//             faster or slower than the clock until it has caught up.
// An element that becomes due while running (a span starting) is started ahead of the clock
// by the start-up delay measured so far, so that it is in sync once it advances.

const TICK_MS = 100;
const SEEK_ERROR_S = 0.25; // above this, seek; below, nudge playbackRate
const NUDGE_ERROR_S = 0.015; // below this, play at the clock's rate
const MAX_NUDGE = 0.1; // at most ±10 % faster or slower than the clock
const NUDGE_GAIN = 1.5; // rate change per second of error
const STALL_GIVE_UP_MS = 4000; // the clock stops waiting for an element that loads this long
const LAUNCH_GIVE_UP_MS = 1500;
const RESYNC_STALL_MS = 1000; // an element stalled this long while running: start over
const SETTLE_MS = 400; // after a start or seek, errors are not corrected for this long

export class MasterClock {
  constructor(durationMs) {
    this.durationMs = durationMs;
    this.rate = 1;
    this.playing = false; // the viewer wants it to play
    this.phase = 'paused'; // 'paused', 'waiting', 'launching' or 'running'
    this.baseMs = 0;
    this.anchor = 0; // performance.now() when baseMs was taken
  }

  running() { return this.phase === 'running'; }

  now() {
    if (!this.running()) return this.baseMs;
    const t = this.baseMs + (performance.now() - this.anchor) * this.rate;
    return Math.min(t, this.durationMs);
  }

  set(ms) {
    this.baseMs = Math.max(0, Math.min(ms, this.durationMs));
    this.anchor = performance.now();
  }

  setPhase(phase) {
    if (phase === this.phase) return;
    this.set(this.now());
    this.phase = phase;
  }
}

// Slave is one recorded span on its element.
export class Slave {
  constructor(track, element, endMs) {
    this.track = track;
    this.el = element;
    this.audio = element.tagName === 'AUDIO';
    this.startMs = track.startOffsetMs;
    this.endMs = endMs;
    this.played = false; // it has advanced while it should play, at least once
    this.failed = false;
    this.launchedAt = 0; // performance.now() of the last play() from paused
    this.launchPos = 0; // its currentTime then
    this.leadS = 0; // how far ahead of the clock it was started
    this.measured = true; // its start-up delay has been taken into the estimate
    this.stallSince = 0;
    this.lastTime = -1;
    element.addEventListener('error', () => { this.failed = true; });
  }

  // localS is where the element should be at clock time ms, in seconds.
  localS(ms) { return (ms - this.startMs) / 1000; }

  covers(ms) { return ms >= this.startMs && ms < this.endMs; }

  // ready: a paused element has the frame at its position (HAVE_CURRENT_DATA); a playing one
  // has more than that (HAVE_FUTURE_DATA), or it is about to stall.
  ready() { return !this.el.seeking && this.el.readyState >= (this.el.paused ? 2 : 3); }

  advancing() { return !this.el.paused && this.el.currentTime > this.launchPos + 0.005; }

  durationS() {
    const d = this.el.duration;
    return Number.isFinite(d) ? d : (this.endMs - this.startMs) / 1000;
  }
}

// Sync drives slaves from a clock. onTick(ms) is called after every step.
export class Sync {
  constructor(clock, slaves, onTick) {
    this.clock = clock;
    this.slaves = slaves;
    this.onTick = onTick;
    this.timer = 0;
    this.phaseSince = 0;
    // Start-up delay (wall-clock seconds from play() until an element advances), per kind,
    // learned from every start.
    this.delayS = { audio: 0.15, video: 0.03 };
    this.autoplayBlocked = null; // called if the browser refuses to play
  }

  start() {
    if (!this.timer) this.timer = setInterval(() => this.tick(), TICK_MS);
    this.tick();
  }

  stop() {
    clearInterval(this.timer);
    this.timer = 0;
  }

  live() { return this.slaves.filter((s) => !s.failed); }

  due(t) { return this.live().filter((s) => s.covers(t)); }

  enter(phase) {
    this.clock.setPhase(phase);
    this.phaseSince = performance.now();
  }

  play() {
    if (this.clock.now() >= this.clock.durationMs) this.clock.set(0);
    this.clock.playing = true;
    this.unlock();
    this.enter('waiting');
    this.tick();
  }

  pause() {
    this.clock.playing = false;
    this.enter('paused');
    this.tick();
  }

  seek(ms) {
    this.clock.set(ms);
    if (this.clock.playing) this.enter('waiting');
    this.tick();
  }

  setRate(rate) {
    this.clock.set(this.clock.now());
    this.clock.rate = rate;
    this.tick();
  }

  // unlock calls play() on every audio element within the user's gesture, so that later
  // play() calls from the timer are allowed (iOS Safari allows sound only after a tap).
  unlock() {
    for (const s of this.live()) {
      if (!s.audio || !s.el.paused) continue;
      const p = s.el.play();
      if (p) p.then(() => { if (!s.covers(this.clock.now())) s.el.pause(); }).catch(() => {});
    }
  }

  // launch plays s from leadS (media seconds) ahead of where the clock is now.
  launch(s, leadS) {
    const want = s.localS(this.clock.now());
    const target = Math.max(0, Math.min(want + leadS, s.durationS() - 0.05));
    if (Math.abs(s.el.currentTime - target) > NUDGE_ERROR_S) s.el.currentTime = target;
    s.el.playbackRate = this.clock.rate;
    s.launchedAt = performance.now();
    s.launchPos = s.el.currentTime;
    s.leadS = target - want;
    s.measured = false;
    const p = s.el.play();
    if (p) p.catch((e) => { if (e.name === 'NotAllowedError' && this.autoplayBlocked) this.autoplayBlocked(); });
  }

  park(s, t) {
    if (!s.el.paused) s.el.pause();
    const want = s.covers(t) ? s.localS(t) : 0;
    if (s.covers(t) || t < s.startMs) {
      if (Math.abs(s.el.currentTime - want) > NUDGE_ERROR_S && !s.el.seeking) s.el.currentTime = want;
    }
    s.lastTime = -1;
  }

  tick() {
    const clock = this.clock;
    const t = clock.now();
    const since = performance.now() - this.phaseSince;
    for (const s of this.live()) s.el.dataset.active = s.covers(t) ? 'true' : 'false';
    const due = this.due(t);

    switch (clock.phase) {
    case 'paused':
      for (const s of this.live()) this.park(s, t);
      break;
    case 'waiting':
      for (const s of this.live()) this.park(s, t);
      if (due.every((s) => s.ready()) || since > STALL_GIVE_UP_MS) {
        const audio = due.filter((s) => s.audio);
        for (const s of audio) this.launch(s, 0);
        this.enter(audio.length ? 'launching' : 'running');
      }
      break;
    case 'launching': {
      const audio = due.filter((s) => s.audio);
      if (audio.every((s) => s.advancing()) || since > LAUNCH_GIVE_UP_MS) {
        const started = audio.filter((s) => s.advancing());
        const at = started.length ? started.reduce((n, s) => n + s.startMs + s.el.currentTime * 1000, 0) / started.length : t;
        for (const s of started) {
          this.learn(s, (performance.now() - s.launchedAt) / 1000 - (s.el.currentTime - s.launchPos) / clock.rate);
        }
        clock.set(at);
        this.enter('running');
      }
      break;
    }
    case 'running':
      this.steer(t);
      break;
    }
    if (clock.playing && clock.now() >= clock.durationMs) {
      clock.playing = false;
      this.enter('paused');
      for (const s of this.live()) if (!s.el.paused) s.el.pause();
    }
    this.onTick(clock.now());
  }

  // steer keeps every due element on the clock while it runs.
  steer(t) {
    const clock = this.clock;
    const now = performance.now();
    for (const s of this.live()) {
      const kind = s.audio ? 'audio' : 'video';
      const lead = this.delayS[kind] * clock.rate; // media seconds an element needs to start
      if (!s.covers(t)) {
        // A span about to begin is started from its first frame a start-up delay early, so
        // that it advances as the clock reaches it.
        const soon = t < s.startMs && s.startMs - t <= lead * 1000 + (TICK_MS * clock.rate) / 2;
        if (soon && s.el.paused) this.launch(s, (s.startMs - t) / 1000);
        else if (!soon) this.park(s, t);
        s.stallSince = 0;
        continue;
      }
      const want = s.localS(t);
      if (s.el.ended || want >= s.durationS() - 0.05) {
        if (!s.el.paused) s.el.pause(); // its file ends a little before the span does
        continue;
      }
      if (s.el.paused) {
        this.launch(s, lead);
        continue;
      }
      const err = s.el.currentTime - want; // > 0: the element is ahead
      if (!s.measured && now - s.launchedAt > SETTLE_MS && s.advancing()) {
        // It was started leadS ahead; what is left of its error is the estimate's error.
        this.learn(s, s.leadS / clock.rate - err / clock.rate);
      }
      if (!s.ready()) {
        s.stallSince ||= now;
        if (now - s.stallSince > RESYNC_STALL_MS && now - this.phaseSince > RESYNC_STALL_MS) {
          this.enter('waiting'); // everyone waits for it, then starts together again
          return;
        }
      } else {
        s.stallSince = 0;
      }
      if (now - s.launchedAt < SETTLE_MS) continue;
      if (Math.abs(err) > SEEK_ERROR_S) {
        if (!s.el.seeking) this.launch(s, this.delayS[kind] * clock.rate);
      } else if (Math.abs(err) > NUDGE_ERROR_S) {
        const nudge = Math.max(-MAX_NUDGE, Math.min(MAX_NUDGE, -err * NUDGE_GAIN));
        s.el.playbackRate = clock.rate * (1 + nudge);
      } else {
        s.el.playbackRate = clock.rate;
      }
      if (s.lastTime >= 0 && s.el.currentTime > s.lastTime) s.played = true;
      s.lastTime = s.el.currentTime;
    }
  }

  // learn folds one measured start-up delay (wall-clock seconds) into the estimate.
  learn(s, delayS) {
    s.measured = true;
    if (!(delayS >= 0 && delayS < 1)) return;
    const kind = s.audio ? 'audio' : 'video';
    this.delayS[kind] = 0.5 * this.delayS[kind] + 0.5 * delayS;
  }

  // state reports the clock and every element, for tests and diagnostics. Each element's
  // error is computed against the clock read at the same moment.
  state() {
    const master = this.clock.now();
    return {
      master,
      wall: performance.now(),
      playing: this.clock.playing,
      phase: this.clock.phase,
      held: this.clock.playing && !this.clock.running(),
      rate: this.clock.rate,
      delayS: { ...this.delayS },
      elements: this.slaves.map((s) => ({
        id: s.track.id,
        file: s.track.file,
        kind: s.track.kind,
        role: s.track.role,
        whisper: s.track.whisper,
        startMs: s.startMs,
        endMs: s.endMs,
        currentTime: s.el.currentTime,
        active: s.covers(master),
        paused: s.el.paused,
        muted: s.el.muted,
        readyState: s.el.readyState,
        failed: s.failed,
        played: s.played,
        errorMs: s.covers(master) ? s.el.currentTime * 1000 + s.startMs - master : null,
      })),
    };
  }
}
