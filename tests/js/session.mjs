// A scripted session of the official socket.io-client against a Parley server.
//
//   node session.mjs http://127.0.0.1:8000 [default|polling|websocket]
//
// Registers two users over REST, connects them (without a transport argument:
// one with the default polling-then-upgrade transports, one with websocket
// only; with one: both on those transports), creates a topic,
// subscribes, sends a topic message and a direct message with emitWithAck,
// acknowledges delivery, and checks how refused connections are reported.
// Exits 0 when every check passes; otherwise prints "FAIL: <what>" and exits 1
// (2 when the whole session overruns its time limit).

import assert from "node:assert/strict";
import { io } from "socket.io-client";

import { bounded } from "./bounded.mjs";

const SESSION_LIMIT_MS = 20_000;
const EVENT_WAIT_MS = 5_000;
const PASSWORD = "password123";

const url = process.argv[2];
const TRANSPORTS = { polling: ["polling"], websocket: ["websocket"], default: ["polling", "websocket"] };
const chosen = process.argv[3];
const aliceOptions = chosen ? { transports: TRANSPORTS[chosen] } : {};
const bobOptions = { transports: chosen ? TRANSPORTS[chosen] : ["websocket"] };
const sockets = [];

function step(text) {
  console.log(`ok - ${text}`);
}

async function register(username) {
  const response = await fetch(`${url}/api/users`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  const body = await response.json();
  assert.equal(response.status, 201, `registering ${username}: ${JSON.stringify(body)}`);
  assert.equal(typeof body.token, "string", "the registration answer carries a token");
  return body.token;
}

function timeLimit(what, reject) {
  return setTimeout(() => reject(new Error(`no ${what} within ${EVENT_WAIT_MS} ms`)), EVENT_WAIT_MS);
}

// Queue every server event of a socket by name, from before it connects, so
// that nothing sent right after "session" (the backlog) is missed.
function withInbox(socket) {
  const boxes = new Map();
  const box = (event) => {
    if (!boxes.has(event)) boxes.set(event, { items: [], waiters: [] });
    return boxes.get(event);
  };
  socket.onAny((event, payload) => {
    const { items, waiters } = box(event);
    const waiter = waiters.shift();
    if (waiter) waiter(payload);
    else items.push(payload);
  });
  socket.next = (event) => {
    const { items, waiters } = box(event);
    if (items.length) return Promise.resolve(items.shift());
    return new Promise((resolve, reject) => {
      const timer = timeLimit(`"${event}" event`, reject);
      waiters.push((payload) => {
        clearTimeout(timer);
        resolve(payload);
      });
    });
  };
  return socket;
}

function once(socket, event) {
  return new Promise((resolve, reject) => {
    const timer = timeLimit(`"${event}"`, reject);
    socket.once(event, (payload) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}

// Connect and resolve with [socket, session payload] once "session" arrived.
async function connect(token, options = {}) {
  const socket = withInbox(io(url, { auth: { token }, reconnection: false, forceNew: true, ...options }));
  sockets.push(socket);
  const refused = new Promise((_, reject) => socket.once("connect_error", reject));
  return [socket, await Promise.race([socket.next("session"), refused])];
}

// The connect_error of a connection that must be refused.
async function refusal(options) {
  const socket = io(url, { reconnection: false, forceNew: true, ...options });
  sockets.push(socket);
  const connected = new Promise((_, reject) =>
    socket.once("connect", () => reject(new Error(`a connection with ${JSON.stringify(options)} was accepted`))),
  );
  return Promise.race([once(socket, "connect_error"), connected]);
}

async function ok(socket, event, payload) {
  const ack = await socket.timeout(EVENT_WAIT_MS).emitWithAck(event, payload);
  assert.equal(ack?.ok, true, `${event} ${JSON.stringify(payload)} was not acknowledged ok: ${JSON.stringify(ack)}`);
  assert.deepEqual(Object.keys(ack).sort(), ["data", "ok"], `the ${event} ack is an envelope`);
  return ack.data;
}

function checkMessage(message, expected) {
  const fields = ["body", "client_id", "created_at", "deleted", "edited_at", "id", "kind", "sender", "seq", "topic"];
  for (const field of fields.filter((f) => f !== "deleted")) {
    assert.ok(field in message, `a Message has "${field}": ${JSON.stringify(message)}`);
  }
  assert.equal(typeof message.id, "number", "Message.id is a number");
  assert.match(message.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, "created_at is ISO 8601 UTC");
  for (const [field, value] of Object.entries(expected)) {
    assert.deepEqual(message[field], value, `Message.${field}`);
  }
}

async function session() {
  assert.ok(url, "usage: node session.mjs <server url>");
  const suffix = Math.random().toString(36).slice(2, 8);
  const [aliceName, bobName, topic] = [`alice_${suffix}`, `bob_${suffix}`, `js-${suffix}`];
  const aliceToken = await register(aliceName);
  const bobToken = await register(bobName);
  step("registered two users over REST");

  assert.ok(!chosen || TRANSPORTS[chosen], `unknown transports ${chosen}`);
  const [alice, aliceSession] = await connect(aliceToken, aliceOptions);
  assert.equal(aliceSession.user.username, aliceName, "session.user.username");
  assert.ok(!Number.isNaN(Date.parse(aliceSession.server_time)), "session.server_time is a time");
  let [bob, bobSession] = await connect(bobToken, bobOptions);
  assert.equal(bobSession.user.username, bobName, "session.user.username");
  if (chosen !== "polling") assert.equal(bob.io.engine.transport.name, "websocket", "bob's transport");
  if (chosen === "polling") assert.equal(alice.io.engine.transport.name, "polling", "alice's transport");
  step(`connected with auth.token (${chosen ?? "polling-then-upgrade and websocket only"})`);

  const created = await ok(alice, "topic:create", { name: topic });
  assert.equal(created.name, topic, "Topic.name");
  assert.equal(created.kind, "public", "Topic.kind");
  assert.equal(created.owner, aliceName, "Topic.owner");
  const subscribed = await ok(bob, "topic:subscribe", { topic });
  assert.equal(subscribed.topic.subscribed, true, "the subscribed Topic says so");
  assert.deepEqual(subscribed.history, [], "a new topic has no history");
  step("created a topic and subscribed the second user");

  const sent = await ok(alice, "message:send", { topic, body: "hello from node", client_id: `c-${suffix}` });
  checkMessage(sent, { topic, kind: "public", seq: 1, sender: aliceName, body: "hello from node", edited_at: null });
  assert.deepEqual(await bob.next("message"), sent, "bob receives the Message alice's ack describes");
  step("sent a topic message with emitWithAck; the other client got the same Message");

  const direct = await ok(alice, "message:send", { to: bobName, body: "just between us" });
  checkMessage(direct, { topic: `@${bobName}`, kind: "direct", sender: aliceName, body: "just between us" });
  const heard = await bob.next("message");
  assert.deepEqual(heard, { ...direct, topic: `@${aliceName}` }, "bob sees the direct message as from @alice");
  assert.deepEqual(await ok(bob, "delivered", { with: aliceName, seq: heard.seq }), {}, "the delivered ack");
  step("sent a direct message and acknowledged its delivery");

  assert.deepEqual(await ok(alice, "typing", { topic, typing: true }), {}, "the typing ack");
  assert.deepEqual(await bob.next("typing"), { topic, username: aliceName, typing: true }, "bob sees alice typing");
  step("typing reached the other member");

  bob.close();
  [bob, bobSession] = await connect(bobToken, bobOptions);
  // The backlog follows "session"; a marker sent now comes after it.
  const marker = await ok(alice, "message:send", { to: bobName, body: "marker" });
  const backlog = [await bob.next("message")];
  while (backlog.at(-1).id !== marker.id) backlog.push(await bob.next("message"));
  assert.deepEqual(backlog.map((m) => m.id), [sent.id, marker.id], "the backlog skips what bob acknowledged");
  step("reconnected: the backlog holds the unacknowledged message only");

  const noToken = await refusal({});
  const badToken = await refusal({ auth: { token: "not-a-token" } });
  for (const err of [noToken, badToken]) {
    assert.equal(err.message, "unauthorized", "connect_error message");
    assert.equal(err.data?.code, "unauthorized", "connect_error data.code");
    assert.equal(typeof err.data?.message, "string", "connect_error data.message");
  }
  step("refused connections report connect_error unauthorized");
}

const finished = await bounded("the session", SESSION_LIMIT_MS, session, () => {
  for (const socket of sockets) socket.close();
});
if (finished) console.log("PASS");
