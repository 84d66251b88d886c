// One peer of a call: the RTCPeerConnection to another participant, negotiated over
// `call:signal` (PROTOCOL.md section 18) with the "perfect negotiation" pattern (MDN): either side
// may offer at any time; on a collision the polite side (the lower peer id) rolls its offer back
// (or, before any negotiation, starts on a new connection) and the impolite one ignores the
// other's. Signals carry {description}, {candidates: [...]} or {state} (what the other side
// sends: microphone, camera, screen), as opaque JSON Parley relays and never reads. Candidates
// found together go in one signal: a socket's events are rate-limited (PROTOCOL.md sections 2
// and 18), and five peers' candidates one by one come near.
//
// The joiner offers (it adds one audio and one video transceiver); the peer already in the call
// answers into them. Every later change of a track is `RTCRtpSender.replaceTrack` on those two
// senders: muting, the camera, a screen shared or a device switched never renegotiate.

const CANDIDATES_MS = 40;
// A connection still "new" this long after its offer or answer went out or came in has not had
// a candidate of the other side: a signal was lost (a page offline for a moment, a relay that
// failed). The offer is sent again if it is unanswered, else ICE restarts (a new offer, every
// candidate again), at most RETRIES times.
const STUCK_MS = 4000;
const RETRIES = 3;

export class Peer {
  /**
   * spec: {id, username, polite, initiate, iceServers, policy, tracks() -> {audio, video},
   * send(data), changed()}
   */
  constructor(spec) {
    Object.assign(this, { id: spec.id, username: spec.username, polite: spec.polite });
    this.spec = spec;
    this.remote = new MediaStream();
    this.state = {}; // what the other side said of its media: {mic, camera, screen}
    this.senders = {}; // kind -> the RTCRtpSender this side sends that kind on
    this.candidateErrors = []; // {errorCode, url}: a TURN server that refused (a wrong credential: 401)
    this.pending = []; // candidates found, not yet sent
    // Candidates that came before the other side's description (Parley relays a socket's signals
    // in order; a page that reconnected may not have): added once it is set, not thrown away.
    this.early = [];
    this.flushTimer = null;
    this.stuckTimer = null;
    this.retries = 0;
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.queue = Promise.resolve(); // signals are handled one after another, in their order
    // Signals this side sent and handled, by kind ("offer", "answer", "candidates"): what a call
    // that never connects shows of its negotiation (window.parleyCalls.peers(), call_debug.js).
    this.traffic = { sent: {}, received: {} };
    this.open();
    if (spec.initiate) this.offerMedia();
  }

  /** A new connection for this peer, its events heard. */
  open() {
    const { spec } = this;
    const config = { iceServers: spec.iceServers, iceTransportPolicy: spec.policy };
    const pc = (this.pc = new RTCPeerConnection(config));
    pc.ontrack = ({ track }) => {
      if (!this.remote.getTracks().includes(track)) this.remote.addTrack(track);
      spec.changed();
    };
    pc.onicecandidate = ({ candidate }) => candidate && this.gathered(candidate.toJSON());
    pc.onicecandidateerror = (event) => {
      this.candidateErrors.push({ errorCode: event.errorCode, url: event.url ?? "" });
    };
    pc.onnegotiationneeded = () => this.offer();
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "failed") pc.restartIce(); // a new path, e.g. after a network change
      spec.changed();
    };
  }

  /** A candidate found: sent with the others found within CANDIDATES_MS. */
  gathered(candidate) {
    this.pending.push(candidate);
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = null;
      const candidates = this.pending.splice(0);
      if (candidates.length) this.signal({ candidates });
    }, CANDIDATES_MS);
  }

  /** The joiner's side: one audio and one video transceiver, sending what this page has. */
  offerMedia() {
    const tracks = this.spec.tracks();
    for (const kind of ["audio", "video"]) {
      const transceiver = this.pc.addTransceiver(tracks[kind] ?? kind, { direction: "sendrecv" });
      this.senders[kind] = transceiver.sender;
    }
  }

  /**
   * The answering side: the offer's transceivers carry this page's tracks back. A connection
   * replaced in a collision (`describe`) has none of its own, so each kind goes on the offer's
   * transceiver of that kind; a later offer (an ICE restart) brings the same ones, already used.
   */
  answerMedia() {
    const tracks = this.spec.tracks();
    for (const transceiver of this.pc.getTransceivers()) {
      if (transceiver.stopped || transceiver.mid === null) continue; // not in the offer
      const kind = transceiver.receiver.track.kind;
      if (this.senders[kind]) continue;
      transceiver.direction = "sendrecv";
      this.senders[kind] = transceiver.sender;
      transceiver.sender.replaceTrack(tracks[kind] ?? null);
    }
  }

  async offer() {
    const { pc } = this;
    try {
      this.makingOffer = true;
      await pc.setLocalDescription();
      if (pc !== this.pc) return; // replaced meanwhile (`describe`): the offer is moot
      this.signal({ description: pc.localDescription.toJSON() });
      this.watch();
    } catch (err) {
      if (pc === this.pc) console.warn("call: an offer failed", err);
    } finally {
      if (pc === this.pc) this.makingOffer = false;
    }
  }

  /** A signal to this peer, counted by kind. */
  signal(data) {
    count(this.traffic.sent, data);
    this.spec.send(data);
  }

  /** A signal from this peer: handled after the ones before it. */
  receive(data) {
    count(this.traffic.received, data);
    this.queue = this.queue.then(() => this.handle(data)).catch((err) => console.warn("call: a signal failed", err));
    return this.queue;
  }

  async handle({ description, candidates, state } = {}) {
    if (state && typeof state === "object") {
      this.state = { mic: Boolean(state.mic), camera: Boolean(state.camera), screen: Boolean(state.screen) };
      this.spec.changed();
    }
    if (description) await this.describe(description);
    if (!Array.isArray(candidates)) return;
    if (!this.pc.remoteDescription) return void this.early.push(...candidates); // before the description
    for (const candidate of candidates) {
      try {
        await this.pc.addIceCandidate(candidate);
      } catch (err) {
        if (!this.ignoreOffer) throw err; // a candidate of the offer ignored: expected
      }
    }
  }

  async describe(description) {
    const { pc } = this;
    const collision = description.type === "offer" && (this.makingOffer || pc.signalingState !== "stable");
    this.ignoreOffer = !this.polite && collision;
    if (this.ignoreOffer) return;
    // A polite collision rolls its own offer back, by itself, in setRemoteDescription. Not the
    // first one: Chromium, its offer rolled back while it gathers, at times never finds a
    // candidate again, even on an ICE restart, and the call stays silent (3 in 84 runs of two
    // peers offering at once, with the cores busy). A connection never negotiated has nothing to
    // keep: it is replaced by a new one, which answers.
    if (collision && !pc.currentRemoteDescription) this.replace();
    await this.pc.setRemoteDescription(description);
    if (description.type === "offer") {
      this.answerMedia();
      await this.pc.setLocalDescription();
      this.signal({ description: this.pc.localDescription.toJSON() });
    }
    for (const candidate of this.early.splice(0)) {
      // one of an offer replaced, rolled back or ignored in a collision may not fit this description
      await this.pc.addIceCandidate(candidate).catch(() => {});
    }
    this.watch();
  }

  /** A new connection for this peer, the old one closed with what it had found and not sent. */
  replace() {
    this.detach();
    clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.pending = [];
    this.senders = {};
    this.makingOffer = false;
    this.open();
  }

  /** The connection closed, none of its events heard any more. */
  detach() {
    const { pc } = this;
    pc.onnegotiationneeded = pc.onicecandidate = pc.onicecandidateerror = pc.ontrack = null;
    pc.onconnectionstatechange = null;
    pc.close();
  }

  /**
   * Look again in STUCK_MS: a connection still "new" then is negotiated afresh. The polite side
   * looks later: both sides watch from the same exchange, and two ICE restarts at once collide.
   */
  watch() {
    clearTimeout(this.stuckTimer);
    this.stuckTimer = setTimeout(() => this.unstick(), this.polite ? STUCK_MS * 1.5 : STUCK_MS);
  }

  unstick() {
    const { pc } = this;
    if (pc.connectionState !== "new" || pc.signalingState === "closed" || this.retries >= RETRIES) return;
    this.retries += 1;
    if (pc.signalingState === "have-local-offer") {
      this.signal({ description: pc.localDescription.toJSON() }); // unanswered, or its answer lost
      this.watch();
    } else pc.restartIce(); // negotiationneeded: a new offer, which watches again
  }

  /** Send another track of a kind (or none): the camera, the screen, another device. */
  use(kind, track) {
    return this.senders[kind]?.replaceTrack(track ?? null);
  }

  /** The remote stream's video track, when the other side says it sends one. */
  get showsVideo() {
    return Boolean(this.state.camera || this.state.screen) && this.remote.getVideoTracks().length > 0;
  }

  close() {
    clearTimeout(this.flushTimer);
    clearTimeout(this.stuckTimer);
    this.detach();
  }
}

/** One more signal of its kind ("offer", "answer", "candidates") in `counts`. */
function count(counts, { description, candidates } = {}) {
  const kind = description?.type ?? (Array.isArray(candidates) ? "candidates" : null);
  if (kind) counts[kind] = (counts[kind] ?? 0) + 1;
}
