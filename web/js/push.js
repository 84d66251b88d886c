// Web Push on this page (PROTOCOL.md section 15): the service worker's registration, the
// browser's permission and subscription, and the server's copy of it. No DOM.
//
// The worker (web/sw.js) is registered at load: it asks nothing of the user, and it is what shows
// a push and opens the page at a message when one is clicked. Permission is asked, and the
// browser subscribed, only when the user turns push on. The server's id of this browser's
// subscription is kept in localStorage (its list names hosts, not endpoints) to delete it when
// push is turned off; without it, posting the subscription again answers its id (the server
// keeps one subscription per endpoint).
import * as api from "./api.js";

const KEPT = "parley.push"; // {endpoint, id}: this browser's subscription as the server stored it

export const pushSupported = () =>
  "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;

/** Register /sw.js (scope /); resolves to the registration, or null where there is none. */
export function registerWorker() {
  if (!("serviceWorker" in navigator)) return Promise.resolve(null);
  return navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => null);
}

/** A step of turning push on or off that failed, in words a person can act on. */
export class PushProblem extends Error {
  constructor(message) {
    super(message);
    this.name = "PushProblem";
  }
}

/** {supported, permission, subscription}: the browser's side now. */
export async function browserPush() {
  if (!pushSupported()) return { supported: false, permission: "unsupported", subscription: null };
  const registration = await navigator.serviceWorker.getRegistration("/");
  const subscription = registration ? await registration.pushManager.getSubscription().catch(() => null) : null;
  return { supported: true, permission: Notification.permission, subscription };
}

/** Ask permission (only now), subscribe with the server's key and hand the subscription over. */
export async function subscribe(token) {
  if (!pushSupported()) throw new PushProblem("This browser cannot receive push notifications.");
  const permission = await Notification.requestPermission();
  if (permission !== "granted") throw new PushProblem(blockedText(permission));
  if (!(await registerWorker())) throw new PushProblem("The page's service worker could not be installed.");
  const registration = await navigator.serviceWorker.ready;
  const key = await serverKey(token);
  let subscription;
  try {
    subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: fromBase64Url(key) });
  } catch (err) {
    throw new PushProblem(`This browser could not reach its push service, so push notifications cannot be turned on here (${err.message || err.name}).`);
  }
  const json = subscription.toJSON();
  try {
    const saved = await api.addPushSubscription(token, { endpoint: json.endpoint, keys: json.keys });
    localStorage.setItem(KEPT, JSON.stringify({ endpoint: json.endpoint, id: saved?.id }));
    return saved;
  } catch (err) {
    await subscription.unsubscribe().catch(() => {}); // not half on: the server would never push to it
    throw err;
  }
}

/** Unsubscribe this browser and remove the server's copy (when it is known). */
export async function unsubscribe(token) {
  const { subscription } = await browserPush();
  const kept = readKept();
  let id = kept && (!subscription || kept.endpoint === subscription.endpoint) ? kept.id : null;
  if (id == null && subscription) { // subscribed before this storage (or it was cleared)
    const json = subscription.toJSON(); // the same endpoint again answers the subscription stored
    id = (await api.addPushSubscription(token, { endpoint: json.endpoint, keys: json.keys }).catch(() => null))?.id ?? null;
  }
  if (subscription) await subscription.unsubscribe().catch(() => {});
  localStorage.removeItem(KEPT);
  if (id != null) {
    await api.removePushSubscription(token, id).catch((err) => {
      if (err.code !== "not_found") throw err;
    });
  }
}

/** A local notification through the worker, to see that they show; throws a PushProblem saying why not. */
export async function testNotification() {
  if (!pushSupported()) throw new PushProblem("This browser cannot show notifications.");
  if (Notification.permission !== "granted") throw new PushProblem(blockedText(Notification.permission));
  if (!(await registerWorker())) throw new PushProblem("The page's service worker could not be installed.");
  const registration = await navigator.serviceWorker.ready;
  await registration.showNotification("Parley", { body: "Notifications work", tag: "parley-test" });
}

/** The server's application server key; a server without Web Push says so in words. */
async function serverKey(token) {
  try {
    return (await api.pushKey(token)).public_key;
  } catch (err) {
    if (err.code === "not_found") throw new PushProblem("This server does not offer push notifications.");
    throw err;
  }
}

function blockedText(permission) {
  return permission === "denied"
    ? "Notifications are blocked for this site: allow them in the browser's site settings, then try again."
    : "The browser did not allow notifications: turn push on and allow them when it asks.";
}

function readKept() {
  try {
    const kept = JSON.parse(localStorage.getItem(KEPT) ?? "null");
    return kept && typeof kept.endpoint === "string" ? kept : null;
  } catch {
    return null;
  }
}

/** base64url text -> bytes (the form pushManager.subscribe takes everywhere). */
export function fromBase64Url(text) {
  const base64 = String(text).replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}
