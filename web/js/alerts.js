// Alerts in the open tab (issue 55, row 1): a browser notification and a short sound for what
// PROTOCOL.md section 15 would push (a direct message, a mention of me or @all, any message of a
// topic at the "all" level), while this page is open. Web Push needs a push service and email
// needs SMTP; these need neither, so a LAN install alerts too.
//
// Nothing for the conversation I am reading in a focused, visible tab; nothing while I am on
// do-not-disturb or in my quiet hours (in my profile's time zone); nothing for my own messages,
// system lines or a blocked sender's. Both kinds are switched on this browser (localStorage);
// notification permission is asked when I turn them on (a click), never at load. A click on the
// notification focuses the tab at that message. The notification's tag is the service worker's
// ("<topic>:<id>"): a Web Push of the same message later replaces it instead of adding another.
// The favicon badge and the title's count stay as they are (chat.js).
import { keyOf } from "./targets.js";
import { people } from "./people.js";

const STORE = "parley.alerts";
const BODY_CHARS = 140;
const SOUND = "/sounds/alert.wav"; // a 0.23 s two-note chime, made for Parley (web/sounds/README)

/** The switches kept on this browser: {notify: bool, sound: bool}. */
export function alertSettings() {
  try {
    const kept = JSON.parse(localStorage.getItem(STORE) ?? "{}");
    return { notify: Boolean(kept.notify), sound: kept.sound !== false };
  } catch {
    return { notify: false, sound: true };
  }
}

export function saveAlertSettings(settings) {
  localStorage.setItem(STORE, JSON.stringify({ notify: Boolean(settings.notify), sound: Boolean(settings.sound) }));
}

/** Ask for the browser's permission (from a click); true when notifications may be shown. */
export async function allowNotifications() {
  if (typeof Notification === "undefined") return false;
  if (Notification.permission === "granted") return true;
  if (Notification.permission === "denied") return false;
  return (await Notification.requestPermission()) === "granted";
}

/** "HH:MM" now in an IANA time zone (UTC when none or unknown). */
export function clockIn(timezone, now = new Date()) {
  const format = (zone) => new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(now);
  try {
    return format(timezone || "UTC");
  } catch {
    return format("UTC");
  }
}

/** Whether "HH:MM" falls in quiet hours {from, to} (which may run past midnight). */
export function inQuietHours(quiet, time) {
  if (!quiet?.from || !quiet?.to || quiet.from === quiet.to) return false;
  return quiet.from < quiet.to ? time >= quiet.from && time < quiet.to : time >= quiet.from || time < quiet.to;
}

/** Whether a message is one section 15 would notify me of, at the conversation's level. */
export function notifies(message, { me, level, direct }) {
  if (!message || message.type === "system" || message.blocked || message.deleted) return false;
  if (String(message.sender).toLowerCase() === String(me).toLowerCase()) return false;
  if (level === "none") return false;
  if (direct) return true;
  const mentioned = (message.mentions ?? []).some((name) => String(name).toLowerCase() === String(me).toLowerCase());
  return mentioned || Boolean(message.mentions_all) || level === "all";
}

export class Alerts {
  /** chat: the controller (state, conn, openLink). */
  constructor(chat) {
    this.chat = chat;
    this.quiet = null; // {from, to} from notifications:get
    this.sound = null;
  }

  /** My quiet hours, asked once the connection is up (and again when I change them). */
  async loadPreferences() {
    try {
      const prefs = await this.chat.conn.request("notifications:get", {});
      this.quiet = prefs?.quiet_hours ?? null;
    } catch {
      this.quiet = null; // an older server: no quiet hours known
    }
  }

  /** A message arrived live: alert when it notifies and I am not reading it. */
  onMessage(message) {
    const state = this.chat.state;
    const key = keyOf(message.topic);
    const topic = state.topics.get(key);
    const direct = topic?.kind === "direct" || String(message.topic).startsWith("@");
    if (!notifies(message, { me: state.me, level: topic?.notify ?? "all", direct })) return;
    const reading = key === state.current && document.visibilityState === "visible" && document.hasFocus();
    if (reading || this.hushed()) return;
    const settings = alertSettings();
    if (settings.notify) this.notify(message, direct);
    if (settings.sound) this.ring();
  }

  /** Do-not-disturb, or my quiet hours now. */
  hushed() {
    const mine = people().get(this.chat.state.me);
    if (mine?.availability === "dnd") return true;
    return inQuietHours(this.quiet, clockIn(mine?.timezone));
  }

  notify(message, direct) {
    if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
    const who = people().nameOf(message.sender);
    const title = direct ? who : `${who} in #${message.topic}`;
    const body = String(message.body ?? "").replace(/\s+/g, " ").trim().slice(0, BODY_CHARS) || "Sent a file";
    try {
      const shown = new Notification(title, { body, tag: `${message.topic}:${message.id}` });
      shown.onclick = () => {
        window.focus();
        shown.close();
        this.chat.openLink({ topic: message.topic, id: message.id, seq: message.seq });
      };
    } catch {
      // a browser that only shows notifications through a service worker: the sound still plays
    }
  }

  ring() {
    this.sound ??= new Audio(SOUND);
    this.sound.currentTime = 0;
    this.sound.play().catch(() => {}); // no user gesture yet on this page: silence, not an error
  }
}
