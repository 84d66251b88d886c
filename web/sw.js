// Parley's service worker (PROTOCOL.md section 15), served at /sw.js with scope /.
//
// push: the server's payload {"type": "message", topic, id, seq, sender, title, body, url}
// becomes a notification (tag "<topic>:<id>", so a push sent again replaces it), unless a
// window of this page is focused, visible and has that conversation open.
//
// Which conversation a window has open: the worker asks each focused and visible window with a
// message, {type: "parley:showing?"} and a MessagePort, and the page (web/js/app.js) answers on
// that port {topic: the open conversation's name, or null}. Asked at each push, not remembered:
// the browser stops an idle worker and its memory with it (and a window's `url` does not follow
// the page's history.replaceState in Chromium, so the address cannot carry it). A window that
// does not answer within ASK_MS counts as showing nothing.
//
// notificationclick: the notification closes; a window of this page is focused and told to open
// the conversation at that message ({type: "parley:open", topic, id, seq}); with no window, the
// payload's url opens in a new one.
//
// No fetch handler: the worker never stands between the page and the network.

const OPEN_MESSAGE = "parley:open";
const ASK_MESSAGE = "parley:showing?";
const ASK_MS = 1000;

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => event.waitUntil(onPush(event.data)));

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(openAt(event.notification.data ?? {}));
});

async function onPush(data) {
  const payload = parse(data);
  if (payload && (await showingConversation(payload.topic))) return;
  const shown = payload ?? { title: "Parley", body: "", url: "/" };
  await self.registration.showNotification(String(shown.title || "Parley"), {
    body: shown.body ? String(shown.body) : "New message",
    tag: payload ? `${payload.topic}:${payload.id}` : "parley",
    data: shown,
  });
}

/** The push's JSON when it is a message notification, else null (shown as a plain "New message"). */
function parse(data) {
  try {
    const payload = data?.json();
    return payload?.type === "message" && typeof payload.topic === "string" ? payload : null;
  } catch {
    return null;
  }
}

const keyOf = (name) => String(name).toLowerCase();

/** The conversation a window shows (its answer on a MessagePort), or null. */
function askShowing(client) {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => resolve(null), ASK_MS);
    channel.port1.onmessage = (event) => {
      clearTimeout(timer);
      resolve(typeof event.data?.topic === "string" ? event.data.topic : null);
    };
    client.postMessage({ type: ASK_MESSAGE }, [channel.port2]);
  });
}

/** The windows of the chat page ("/"; not /docs, /redoc or /admin/, also in this scope). */
async function pageWindows() {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  return windows.filter((c) => ["/", "/index.html"].includes(new URL(c.url).pathname));
}

async function showingConversation(topic) {
  const windows = await pageWindows();
  const seen = windows.filter((c) => c.focused && c.visibilityState === "visible");
  const shown = await Promise.all(seen.map(askShowing));
  return shown.some((name) => name !== null && keyOf(name) === keyOf(topic));
}

/** The page's address for a message: the payload's url when it is of this origin, else built here. */
function linkOf(data) {
  try {
    const url = new URL(data.url, self.location.origin);
    if (url.origin === self.location.origin) return url.href;
  } catch {
    // no url, or not one: built below
  }
  const hash = data.topic ? `#topic=${encodeURIComponent(data.topic)}&message=${data.id}` : "";
  return new URL(`/${hash}`, self.location.origin).href;
}

async function openAt(data) {
  const windows = await pageWindows();
  const client = windows.find((c) => c.focused) ?? windows[0];
  if (!client) {
    await self.clients.openWindow(linkOf(data));
    return;
  }
  try {
    await client.focus();
  } catch {
    // focusing needs the click's user activation; the message is still worth sending
  }
  if (data.topic) client.postMessage({ type: OPEN_MESSAGE, topic: data.topic, id: data.id, seq: data.seq });
}
