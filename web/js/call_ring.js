// An incoming call rings: the page's chime (web/sounds/alert.wav) every two seconds until it is
// answered, declined or ended, or for RING_MS at most; and a browser notification when the page
// is hidden. Both follow alerts.js: its switches on this browser (sound, notifications and the
// permission asked there), and nothing at all on do-not-disturb or in quiet hours.
import { alertSettings } from "./alerts.js";

const SOUND = "/sounds/alert.wav";
const EVERY_MS = 2000;
const RING_MS = 45_000;

export class Ringer {
  /** alerts: the page's Alerts (hushed()). */
  constructor(alerts) {
    this.alerts = alerts;
    this.ringing = null; // the call's id
    this.timer = null;
    this.stopTimer = null;
    this.shown = null;
    this.rings = 0; // how many times the chime was played for this call (the tests read it)
  }

  /** Ring for a call: {id, title, body, open()}; nothing when hushed. */
  start({ id, title, body, open }) {
    this.stop();
    if (this.alerts.hushed()) return;
    this.ringing = id;
    const settings = alertSettings();
    if (settings.sound) {
      this.audio ??= new Audio(SOUND);
      this.play();
      this.timer = setInterval(() => this.play(), EVERY_MS);
    }
    if (settings.notify && document.visibilityState === "hidden") this.notify(id, title, body, open);
    this.stopTimer = setTimeout(() => this.stop(), RING_MS);
  }

  play() {
    this.rings += 1;
    this.audio.currentTime = 0;
    this.audio.play().catch(() => {}); // no gesture on this page yet: the banner shows, silently
  }

  notify(id, title, body, open) {
    if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
    try {
      this.shown = new Notification(title, { body, tag: `call:${id}`, requireInteraction: true });
      this.shown.onclick = () => {
        window.focus();
        this.shown?.close();
        open();
      };
    } catch {
      // notifications only through a service worker here: the chime and the banner remain
    }
  }

  /** Stop ringing (any call, or only `id`'s). */
  stop(id = null) {
    if (id !== null && id !== this.ringing) return;
    clearInterval(this.timer);
    clearTimeout(this.stopTimer);
    this.timer = this.stopTimer = null;
    this.audio?.pause();
    this.shown?.close();
    this.shown = null;
    this.ringing = null;
  }
}
