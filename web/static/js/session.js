// Session speaks Ringside's signaling protocol, version 1 (docs/protocol.md), over one
// websocket, and runs the participant's two PeerConnections: "up" (this client offers and
// only sends) and "down" (the server offers, this client answers and only receives).
//
// It knows nothing of the page. It fires these events (all plain Events; read the state
// from the session): "state" (state or connection health changed), "welcome", "roster",
// "media" (the set of received tracks changed), "mode", "marked", "recording", "error"
// (detail: the server's error message), "ended".

const PROTOCOL_VERSION = 1;
const REPLY_TIMEOUT_MS = 10000;
const RECONNECT_DELAYS_MS = [0, 500, 1000, 2000, 3000, 5000];
const RECONNECT_GIVE_UP_MS = 60000;
const LEAVE_TIMEOUT_MS = 1500;
// Bandwidth cap for the published video: enough for a face on a phone screen.
const VIDEO_MAX_BITRATE = 900000;
// Errors that end a join for good: retrying the same link cannot succeed.
const FINAL_CODES = new Set(['bad_token', 'token_expired', 'session_ended', 'session_full',
  'server_full', 'bad_version', 'shutting_down']);

export class ProtocolError extends Error {
  constructor(msg) {
    super(msg.message || msg.code);
    this.code = msg.code;
    this.fatal = !!msg.fatal;
  }
}

// wsURL is the signaling websocket of the server that served this page.
export function wsURL(loc = window.location) {
  return (loc.protocol === 'https:' ? 'wss://' : 'ws://') + loc.host + '/ws';
}

// msidByMid maps each m-section's mid to its msid (stream id = publisher id, track id).
export function msidByMid(sdp) {
  const out = new Map();
  for (const section of (sdp || '').split(/\r?\nm=/).slice(1)) {
    const mid = /\r?\na=mid:(\S+)/.exec(section);
    const msid = /\r?\na=msid:(\S+) (\S+)/.exec(section);
    if (mid && msid && msid[1] !== '-') out.set(mid[1], { stream: msid[1], track: msid[2] });
  }
  return out;
}

export class Session extends EventTarget {
  constructor(token, { url } = {}) {
    super();
    this.token = token;
    this.url = url || wsURL();
    this.state = 'idle'; // idle | connecting | connected | reconnecting | ended
    this.endReason = '';
    this.endMessage = '';
    this.you = null;
    this.info = null; // {id, title} of the session
    this.roster = [];
    this.mode = null; // a coach's {mode, target}, as the server confirmed it
    this.recording = { state: 'off', reason: '' };
    this.remote = new Map(); // key -> {key, pid, kind, mid, trackId, track}
    this.counters = { joins: 0, resumes: 0, upOffers: 0, downOffers: 0 };
    this.sources = { audio: null, video: null }; // local tracks this client may send
    this.sending = { audio: false, video: false }; // what the up connection sends
    this.sendingFor = () => ({ audio: false, video: false });
    this.reported = { audio: false, video: false }; // the last mute message
    this.secret = '';
    this.iceServers = [];
    this.ws = null;
    this.up = null;
    this.down = null;
    this.tx = { audio: null, video: null }; // up transceivers
    this.queue = { up: Promise.resolve(), down: Promise.resolve() };
    this.busy = { up: false, down: false };
    this.pendingRemote = { up: [], down: [] };
    this.gate = { up: false, down: false };
    this.heldLocal = { up: [], down: [] };
    this.waiters = new Set();
    this.retry = { attempt: 0, since: 0, timer: 0 };
    this.rejoin = false;
    this.first = null;
    window.addEventListener('online', () => {
      if (this.state === 'reconnecting' && !this.ws) this.reconnectNow();
    });
  }

  // connection is what a person should be told: "connecting", "connected", "reconnecting"
  // (the websocket or the media is recovering) or "ended".
  get connection() {
    if (this.state !== 'connected') return this.state;
    for (const pc of [this.up, this.down]) {
      if (pc && (pc.connectionState === 'disconnected' || pc.connectionState === 'failed')) {
        return 'reconnecting';
      }
    }
    return 'connected';
  }

  emit(type, detail) {
    this.dispatchEvent(detail === undefined ? new Event(type) : new CustomEvent(type, { detail }));
  }

  setState(s) {
    if (this.state === s) return;
    this.state = s;
    this.emit('state');
  }

  // start joins with the local tracks this participant may send ({audio, video}: tracks or
  // null); sendingFor(you) says what to send from each fresh welcome ({audio, video}:
  // booleans), as it depends on the role. It resolves on the first welcome and rejects with a
  // ProtocolError (code "unreachable" when the server cannot be reached).
  start(sources, sendingFor) {
    Object.assign(this.sources, sources);
    this.sendingFor = sendingFor;
    return new Promise((resolve, reject) => {
      this.first = { resolve, reject };
      this.connect();
    });
  }

  connect() {
    clearTimeout(this.retry.timer);
    if (this.state !== 'reconnecting') this.setState('connecting');
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      this.socketClosed(err);
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.sendRaw(ws, { type: 'join', v: PROTOCOL_VERSION, token: this.token, resume: this.secret });
    };
    ws.onmessage = (e) => {
      if (ws !== this.ws) return;
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      this.handle(msg);
    };
    ws.onclose = (e) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.socketClosed(e);
    };
  }

  sendRaw(ws, msg) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(msg));
    return true;
  }

  send(msg) {
    return this.sendRaw(this.ws, msg);
  }

  socketClosed() {
    this.failWaiters(new Error('connection lost'));
    if (this.state === 'ended') return;
    if (!this.you) {
      // Never welcomed: nothing to resume.
      this.end('unreachable', 'Could not reach the Ringside server.');
      return;
    }
    if (this.rejoin) {
      this.rejoin = false;
      this.setState('reconnecting');
      this.connect();
      return;
    }
    this.setState('reconnecting');
    const now = Date.now();
    if (!this.retry.since) this.retry.since = now;
    if (now - this.retry.since > RECONNECT_GIVE_UP_MS) {
      this.end('lost', 'The connection was lost and could not be restored.');
      return;
    }
    const delay = RECONNECT_DELAYS_MS[Math.min(this.retry.attempt, RECONNECT_DELAYS_MS.length - 1)];
    this.retry.attempt++;
    this.retry.timer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    clearTimeout(this.retry.timer);
    this.connect();
  }

  // dropSocket cuts the websocket as a network failure would (tests and the ICE watchdog).
  dropSocket() {
    if (this.ws) this.ws.close(4000, 'dropped by the client');
  }

  handle(msg) {
    const handler = HANDLERS[msg.type];
    if (handler) handler.call(this, msg);
    for (const w of this.waiters) {
      if (w.match(msg)) {
        this.waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve(msg);
      }
    }
  }

  // expect resolves with the next server message that match accepts.
  expect(match, ms = REPLY_TIMEOUT_MS) {
    return new Promise((resolve, reject) => {
      const w = { match, resolve, reject };
      w.timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(new Error('no answer from the server'));
      }, ms);
      this.waiters.add(w);
    });
  }

  failWaiters(err) {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.waiters.clear();
  }

  onWelcome(m) {
    const resumed = m.resumed && this.up !== null;
    this.you = m.you;
    this.info = m.session;
    this.secret = m.resume;
    this.iceServers = m.iceServers || [];
    this.recording = { state: m.recording ? 'on' : 'off', reason: '' };
    if (m.you.role === 'coach') this.mode = { mode: m.you.mode || 'silent', target: m.you.target || '' };
    this.retry = { attempt: 0, since: 0, timer: 0 };
    this.counters.joins++;
    if (resumed) {
      this.counters.resumes++;
      this.setState('connected');
      // The server restarts ICE on down with its offer; up's restart is ours.
      this.negotiateUp(true);
    } else {
      this.closePeers();
      this.sending = { ...this.sendingFor(m.you) };
      this.createPeers();
      this.setState('connected');
      this.negotiateUp(false);
    }
    this.reportMute(this.reported.audio, this.reported.video);
    this.emit('welcome');
    this.emit('recording');
    if (this.mode) this.emit('mode');
    if (this.first) {
      this.first.resolve(this);
      this.first = null;
    }
  }

  onError(m) {
    const err = new ProtocolError(m);
    if (m.code === 'resume_failed') {
      // The grace period ran out: join afresh, as a new participant.
      this.secret = '';
      this.rejoin = true;
      return;
    }
    if (m.fatal && (FINAL_CODES.has(m.code) || !this.you)) {
      if (this.first) {
        this.first.reject(err);
        this.first = null;
      }
      this.end(m.code, m.message);
      return;
    }
    this.emit('error', err);
  }

  end(reason, message = '') {
    if (this.state === 'ended') return;
    this.endReason = reason;
    this.endMessage = message;
    clearTimeout(this.retry.timer);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000, 'ended');
    this.failWaiters(new Error('ended'));
    this.closePeers();
    this.setState('ended');
    if (this.first) {
      this.first.reject(new ProtocolError({ code: reason, message }));
      this.first = null;
    }
    this.emit('ended');
  }

  leave() {
    if (this.state === 'ended') return Promise.resolve();
    const done = this.expect((m) => m.type === 'ended', LEAVE_TIMEOUT_MS).catch(() => {});
    if (!this.send({ type: 'leave' })) {
      this.end('left');
      return Promise.resolve();
    }
    return done.then(() => this.end('left'));
  }

  createPeers() {
    const conf = { iceServers: this.iceServers, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' };
    this.up = new RTCPeerConnection(conf);
    this.down = new RTCPeerConnection(conf);
    for (const [name, pc] of [['up', this.up], ['down', this.down]]) {
      this.gate[name] = false;
      this.heldLocal[name] = [];
      this.pendingRemote[name] = [];
      this.busy[name] = false;
      pc.onicecandidate = (e) => this.localCandidate(name, pc, e.candidate);
      pc.onconnectionstatechange = () => this.peerState(name, pc);
    }
    this.stream = new MediaStream();
    for (const kind of ['audio', 'video']) if (this.sending[kind]) this.tx[kind] = this.addSender(kind);
    // With nothing to send (a silent coach), one inactive m-line still carries ICE and DTLS,
    // so that a later whisper starts without a new handshake. It never sends.
    if (!this.tx.audio && !this.tx.video) this.up.addTransceiver('audio', { direction: 'inactive' });
  }

  // addSender adds a sendonly transceiver for kind, sending its source (none yet: a camera
  // that is off).
  addSender(kind) {
    const init = { direction: 'sendonly', streams: [this.stream] };
    if (kind === 'video') init.sendEncodings = [{ maxBitrate: VIDEO_MAX_BITRATE }];
    return this.up.addTransceiver(this.sources[kind] || kind, init);
  }

  closePeers() {
    for (const pc of [this.up, this.down]) if (pc) pc.close();
    this.up = null;
    this.down = null;
    this.tx = { audio: null, video: null };
    this.queue = { up: Promise.resolve(), down: Promise.resolve() };
    if (this.remote.size) {
      this.remote = new Map();
      this.emit('media');
    }
  }

  peerState(name, pc) {
    if (pc !== this[name]) return;
    if (pc.connectionState === 'failed' && this.state === 'connected') {
      // Up: restart ICE ourselves. Down: only the server offers, and it restarts ICE when we
      // resume, so cycle the websocket.
      if (name === 'up') this.negotiateUp(true);
      else this.dropSocket();
    }
    this.emit('state');
  }

  localCandidate(name, pc, c) {
    if (pc !== this[name]) return;
    if (c && !c.candidate) return;
    const msg = { type: 'candidate', pc: name, candidate: c ? c.toJSON() : null };
    if (this.gate[name]) this.send(msg);
    else this.heldLocal[name].push(msg);
  }

  // openGate lets local candidates go once the description they belong to has been sent.
  openGate(name) {
    this.gate[name] = true;
    const held = this.heldLocal[name];
    this.heldLocal[name] = [];
    for (const msg of held) this.send(msg);
  }

  remoteCandidate(name, c) {
    const pc = this[name];
    if (!pc || !c || !c.candidate) return;
    if (this.busy[name] || !pc.remoteDescription) {
      this.pendingRemote[name].push(c);
      return;
    }
    pc.addIceCandidate(c).catch(() => {}); // a candidate of an ICE generation already gone
  }

  flushRemote(name) {
    const pc = this[name];
    const list = this.pendingRemote[name];
    this.pendingRemote[name] = [];
    if (!pc) return;
    for (const c of list) pc.addIceCandidate(c).catch(() => {});
  }

  // negotiateUp sends an up offer and applies the answer; offers run one at a time.
  negotiateUp(iceRestart) {
    const pc = this.up;
    const run = async () => {
      if (!pc || pc !== this.up || pc.signalingState === 'closed') return;
      this.busy.up = true;
      this.gate.up = false;
      try {
        if (pc.signalingState === 'have-local-offer') await pc.setLocalDescription({ type: 'rollback' });
        const offer = await pc.createOffer({ iceRestart });
        await pc.setLocalDescription(offer);
        const answer = this.expect((m) => m.type === 'answer' && m.pc === 'up');
        if (!this.send({ type: 'offer', pc: 'up', sdp: pc.localDescription.sdp })) {
          answer.catch(() => {});
          throw new Error('offline');
        }
        this.counters.upOffers++;
        this.openGate('up');
        const m = await answer;
        if (pc === this.up) await pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
      } finally {
        if (pc === this.up) {
          this.busy.up = false;
          this.flushRemote('up');
        }
      }
    };
    // A failed offer is retried by the next resume (with an ICE restart).
    this.queue.up = this.queue.up.then(run).catch(() => {});
    return this.queue.up;
  }

  onOffer(m) {
    if (m.pc !== 'down') return;
    const pc = this.down;
    const run = async () => {
      if (!pc || pc !== this.down) return;
      this.busy.down = true;
      try {
        await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
        await pc.setLocalDescription(await pc.createAnswer());
        this.send({ type: 'answer', pc: 'down', sdp: pc.localDescription.sdp });
        this.counters.downOffers++;
        this.openGate('down');
      } finally {
        this.busy.down = false;
        this.flushRemote('down');
      }
      this.reconcile();
    };
    this.queue.down = this.queue.down.then(run).catch((err) => this.emit('error', err));
  }

  // reconcile rebuilds the set of received tracks from the down connection: a transceiver
  // that receives, matched to its publisher by the msid of its m-section.
  reconcile() {
    const pc = this.down;
    if (!pc) return;
    const owners = msidByMid(pc.remoteDescription && pc.remoteDescription.sdp);
    const next = new Map();
    for (const t of pc.getTransceivers()) {
      const dir = t.currentDirection;
      if (!t.mid || (dir !== 'recvonly' && dir !== 'sendrecv')) continue;
      const owner = owners.get(t.mid);
      if (!owner) continue;
      const track = t.receiver.track;
      const key = `${owner.stream}/${track.kind}/${t.mid}`;
      next.set(key, { key, pid: owner.stream, kind: track.kind, mid: t.mid, trackId: owner.track, track });
    }
    const same = next.size === this.remote.size && [...next.keys()].every((k) => this.remote.has(k));
    this.remote = next;
    if (!same) this.emit('media');
  }

  // publish chooses what the up connection sends. A kind no longer wanted stops at once
  // (replaceTrack(null)) and its transceiver is stopped, so that its m-line is rejected and
  // nothing of it is negotiated or sent; a kind wanted again gets a new transceiver (the
  // browser recycles the rejected m-line). A stopped, not an inactive, transceiver: the
  // server's Pion stops a transceiver that an offer makes inactive and never revives it.
  // It resolves once the tracks are swapped; the renegotiation follows in the background.
  async publish(want) {
    let renegotiate = false;
    for (const kind of ['audio', 'video']) {
      if (!(kind in want)) continue;
      this.sending[kind] = !!want[kind];
      const tx = this.tx[kind];
      if (!this.up) continue;
      if (want[kind] && tx) {
        await tx.sender.replaceTrack(this.sources[kind]);
      } else if (want[kind]) {
        this.tx[kind] = this.addSender(kind);
        renegotiate = true;
      } else if (tx) {
        await tx.sender.replaceTrack(null);
        tx.stop();
        this.tx[kind] = null;
        renegotiate = true;
      }
    }
    if (renegotiate) this.negotiateUp(false);
  }

  // setSource swaps a local track (a flipped camera; null turns the camera off without
  // renegotiating: the sender just stops sending frames).
  async setSource(kind, track) {
    this.sources[kind] = track;
    const tx = this.tx[kind];
    if (tx && this.sending[kind]) await tx.sender.replaceTrack(track);
  }

  // reportMute tells the others whether this participant's audio and video are on.
  reportMute(audio, video) {
    this.reported = { audio: !!audio, video: !!video };
    this.send({ type: 'mute', audio: !!audio, video: !!video });
  }

  // setMode asks for a coach mode and resolves with the mode the server confirmed.
  async setMode(mode, target = '') {
    const reply = this.expect((m) => m.type === 'mode' || m.type === 'error');
    const msg = { type: 'mode', mode };
    if (target) msg.target = target;
    if (!this.send(msg)) {
      reply.catch(() => {});
      throw new Error('not connected');
    }
    const m = await reply;
    if (m.type === 'error') throw new ProtocolError(m);
    return this.mode;
  }

  // mark sets a live marker and resolves with the server's "marked".
  async mark(note) {
    const reply = this.expect((m) => m.type === 'marked' || m.type === 'error');
    if (!this.send({ type: 'mark', note })) {
      reply.catch(() => {});
      throw new Error('not connected');
    }
    const m = await reply;
    if (m.type === 'error') throw new ProtocolError(m);
    return m;
  }

  // inbound lists the down connection's inbound-rtp stats with their publisher.
  async inbound() {
    if (!this.down) return [];
    const owners = msidByMid(this.down.remoteDescription && this.down.remoteDescription.sdp);
    const report = await this.down.getStats();
    const out = [];
    report.forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      const owner = owners.get(s.mid);
      out.push({
        mid: s.mid, kind: s.kind, pid: owner ? owner.stream : '', trackIdentifier: s.trackIdentifier,
        bytesReceived: s.bytesReceived || 0, packetsReceived: s.packetsReceived || 0,
        audioLevel: s.audioLevel || 0, framesDecoded: s.framesDecoded || 0,
      });
    });
    return out;
  }
}

const HANDLERS = {
  welcome(m) { this.onWelcome(m); },
  roster(m) {
    this.roster = m.members || [];
    this.emit('roster');
  },
  offer(m) { this.onOffer(m); },
  answer() {}, // awaited by negotiateUp
  candidate(m) { this.remoteCandidate(m.pc, m.candidate); },
  mode(m) {
    this.mode = { mode: m.mode, target: m.target || '' };
    this.emit('mode');
  },
  marked(m) { this.emit('marked', m); },
  recording(m) {
    this.recording = { state: m.state, reason: m.reason || '' };
    this.emit('recording');
  },
  error(m) { this.onError(m); },
  ended(m) { this.end(m.reason); },
};
