// Who is speaking in a call: each participant's audio through a Web Audio AnalyserNode, its level
// (the RMS of the waveform) read a few times a second. A tile lights while its level stays over a
// threshold, and a moment after, so that a word's gaps do not make it flicker.

const EVERY_MS = 150;
const THRESHOLD = 0.02; // RMS of samples in -1..1: a voice at speaking distance is well above
const HOLD_MS = 450;

export class Levels {
  /** changed(): some participant started or stopped speaking. */
  constructor(changed) {
    this.changed = changed;
    this.watched = new Map(); // key -> {source, analyser, buffer, track, loudAt, speaking}
    this.context = null;
    this.timer = null;
  }

  /** Listen to the first audio track of `stream` under `key` (again when the track changed). */
  watch(key, stream) {
    const track = stream?.getAudioTracks()[0] ?? null;
    const known = this.watched.get(key);
    if (known?.track === track) return;
    this.unwatch(key);
    if (!track || typeof AudioContext === "undefined") return;
    this.context ??= new AudioContext();
    if (this.context.state === "suspended") this.context.resume().catch(() => {});
    const source = this.context.createMediaStreamSource(new MediaStream([track]));
    const analyser = this.context.createAnalyser();
    analyser.fftSize = 512;
    source.connect(analyser); // not to the destination: the tile's element plays the sound
    this.watched.set(key, { source, analyser, track, buffer: new Float32Array(analyser.fftSize), loudAt: 0, speaking: false });
    this.timer ??= setInterval(() => this.measure(), EVERY_MS);
  }

  unwatch(key) {
    const known = this.watched.get(key);
    if (!known) return;
    known.source.disconnect();
    this.watched.delete(key);
  }

  speaking(key) {
    return Boolean(this.watched.get(key)?.speaking);
  }

  measure() {
    const now = performance.now();
    let moved = false;
    for (const entry of this.watched.values()) {
      entry.analyser.getFloatTimeDomainData(entry.buffer);
      let sum = 0;
      for (const sample of entry.buffer) sum += sample * sample;
      const loud = entry.track.enabled && Math.sqrt(sum / entry.buffer.length) > THRESHOLD;
      if (loud) entry.loudAt = now;
      const speaking = now - entry.loudAt < HOLD_MS;
      if (speaking !== entry.speaking) {
        entry.speaking = speaking;
        moved = true;
      }
    }
    if (moved) this.changed();
  }

  close() {
    for (const key of [...this.watched.keys()]) this.unwatch(key);
    clearInterval(this.timer);
    this.timer = null;
    this.context?.close().catch(() => {});
    this.context = null;
  }
}
