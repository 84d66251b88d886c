// The call this page takes part in (PROTOCOL.md section 18): its local media, one Peer per other
// participant (a full mesh), and the controls: microphone, camera, screen, devices. The page
// holds at most one; it outlives switching conversations (it belongs to the chat, not to the
// conversation shown) and ends with `close()`.
import { Peer } from "./call_peer.js";
import { iceTransportPolicy, openCamera, openLocal, openMicrophone, openScreen, refusalText } from "./call_media.js";

export class CallSession {
  /** spec: {call, me, video, signal(to, data) -> Promise, changed(), notice(text)} */
  constructor(spec) {
    this.spec = spec;
    this.call = spec.call;
    this.me = spec.me;
    this.peerId = null;
    this.peers = new Map(); // peer id -> Peer
    this.local = new MediaStream();
    this.camera = null; // the camera's track while it is on
    this.screen = null; // the shared screen's track while sharing
    this.problems = [];
    this.early = []; // events for this call that came before the join's answer, replayed after it
    this.closed = false;
  }

  /** The microphone and (for a video call) the camera, before joining: what is refused is said. */
  async open() {
    const { stream, problems } = await openLocal(this.spec.video);
    this.local = stream;
    this.camera = stream.getVideoTracks()[0] ?? null;
    this.problems = problems;
    for (const text of problems) this.spec.notice(text);
  }

  /** The join's answer {peer, peers, ice_servers}: connect to everyone already in the call. */
  joined(answer) {
    this.peerId = answer.peer;
    this.iceServers = Array.isArray(answer.ice_servers) ? answer.ice_servers : [];
    this.policy = iceTransportPolicy();
    this.hook = window.__parleyTest?.iceServers; // a test alters the servers (a forged credential)
    for (const other of answer.peers ?? []) {
      if (other.peer !== this.peerId) this.connect(other.peer, other.username, true);
    }
    this.replay();
  }

  replay() {
    for (const [kind, event] of this.early.splice(0)) {
      if (kind === "joined") this.onJoined(event);
      else this.onSignal(event);
    }
  }

  /** A new connection: events wait, as before the first answer, until the join is answered again. */
  suspend() {
    const old = this.peerId;
    this.peerId = null;
    return old;
  }

  /** The join answered again: the same peer (the socket recovered) keeps every connection; a new
   * one (a new socket: the others replace the old peer) connects to everyone anew. */
  resumed(answer, old) {
    if (answer.peer === old) {
      this.peerId = old;
      return this.replay();
    }
    for (const id of [...this.peers.keys()]) this.drop(id);
    this.joined(answer);
  }

  connect(id, username, initiate) {
    this.peers.get(id)?.close();
    const servers = this.hook ? this.hook(structuredClone(this.iceServers)) : this.iceServers;
    const peer = new Peer({
      id, username, initiate, polite: String(this.peerId) < String(id), iceServers: servers, policy: this.policy,
      tracks: () => this.tracks(), send: (data) => this.spec.signal(id, data), changed: () => this.spec.changed(),
    });
    this.peers.set(id, peer);
    this.spec.signal(id, { state: this.mediaState() });
    this.spec.changed();
    return peer;
  }

  /** call:joined: someone came in (or moved to another socket: their old peer goes). */
  onJoined({ username, peer }) {
    if (!this.peerId) return void this.early.push(["joined", { username, peer }]);
    if (peer === this.peerId || !peer) return;
    for (const [id, known] of this.peers) if (known.username === username && id !== peer) this.drop(id);
    const known = this.peers.get(peer);
    if (known) known.username ??= username;
    else this.connect(peer, username, false);
    this.spec.changed();
  }

  /**
   * call:signal: a peer unknown so far (its call:joined not yet here) is met by its first signal;
   * in a direct call it can only be the other person. `{bye}` is a peer leaving (its call:left
   * follows, or may not reach a page that opened before the conversation existed).
   */
  onSignal({ from, data }) {
    if (!this.peerId) return void this.early.push(["signal", { from, data }]);
    if (data?.bye) return this.drop(from);
    let peer = this.peers.get(from);
    if (!peer) {
      const other = this.call.with ?? null;
      for (const [id, known] of this.peers) if (other && known.username === other) this.drop(id); // moved
      peer = this.connect(from, other, false);
    }
    peer.receive(data ?? {});
  }

  /** call:left: the peer goes (every peer of that person when none is named). */
  onLeft({ username, peer }) {
    for (const [id, known] of [...this.peers]) {
      if (peer ? id === peer : known.username === username) this.drop(id);
    }
  }

  drop(id) {
    this.peers.get(id)?.close();
    this.peers.delete(id);
    this.spec.changed();
  }

  /** What goes out: the microphone, and the screen when shared, else the camera. */
  tracks() {
    return { audio: this.local.getAudioTracks()[0] ?? null, video: this.screen ?? this.camera };
  }

  mediaState() {
    const mic = this.local.getAudioTracks()[0];
    return { mic: Boolean(mic?.enabled), camera: Boolean(this.camera), screen: Boolean(this.screen) };
  }

  /** Tell every peer what this side sends now, and send it. */
  async resend(kind) {
    const track = this.tracks()[kind];
    await Promise.all([...this.peers.values()].map((p) => p.use(kind, track)));
    for (const id of this.peers.keys()) this.spec.signal(id, { state: this.mediaState() });
    this.spec.changed();
  }

  async toggleMic() {
    const mic = this.local.getAudioTracks()[0];
    if (mic) mic.enabled = !mic.enabled;
    else if (!(await this.addMicrophone())) return;
    await this.resend("audio");
  }

  /** Listening only so far (refused or missing): ask again, as the person pressed the button. */
  async addMicrophone() {
    try {
      this.local.addTrack(await openMicrophone());
      return true;
    } catch (err) {
      this.spec.notice(refusalText(err, "microphone"));
      return false;
    }
  }

  async toggleCamera() {
    if (this.camera) {
      this.local.removeTrack(this.camera);
      this.camera.stop();
      this.camera = null;
    } else {
      try {
        this.camera = await openCamera();
        this.local.addTrack(this.camera);
      } catch (err) {
        this.spec.notice(refusalText(err, "camera"));
        return;
      }
    }
    await this.resend("video");
  }

  async toggleScreen() {
    if (this.screen) return this.stopSharing();
    try {
      this.screen = await openScreen();
    } catch (err) {
      if (err?.name !== "NotAllowedError") this.spec.notice(refusalText(err, "screen sharing")); // cancelled: nothing to say
      return;
    }
    this.screen.addEventListener("ended", () => this.stopSharing()); // the browser's own "Stop sharing"
    await this.resend("video");
  }

  async stopSharing() {
    if (!this.screen) return;
    this.screen.stop();
    this.screen = null;
    if (!this.closed) await this.resend("video"); // back to the camera (or nothing)
  }

  /** Another device chosen in the devices menu: its track replaces the one in use. */
  async switchDevice(kind) {
    const old = kind === "audio" ? this.local.getAudioTracks()[0] : this.camera;
    if (!old) return;
    let fresh;
    try {
      fresh = kind === "audio" ? await openMicrophone() : await openCamera();
    } catch (err) {
      this.spec.notice(refusalText(err, kind === "audio" ? "microphone" : "camera"));
      return;
    }
    fresh.enabled = old.enabled;
    this.local.removeTrack(old);
    old.stop();
    this.local.addTrack(fresh);
    if (kind === "video") this.camera = fresh;
    await this.resend(kind);
  }

  close() {
    this.closed = true;
    for (const id of [...this.peers.keys()]) this.drop(id);
    this.screen?.stop();
    this.local.getTracks().forEach((t) => t.stop());
  }
}
