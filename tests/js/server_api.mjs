// The official socket.io-client as a backend's user sees the server API (PROTOCOL.md section 17).
//
//   node server_api.mjs http://127.0.0.1:8000 <server key>
//
// Registers a user over REST and connects them; then, as the backend, creates a private topic and
// adds the user to it server-side: the socket gets topic:invited and, without joining anything,
// the message the backend publishes there. An app: event asking for an acknowledgement is answered
// by the client's callback, and the backend's answer carries it. Removed server-side, the socket
// gets topic:removed and no later message of the topic.
// Exits 0 when every check passes; otherwise prints "FAIL: <what>" and exits 1 (2 when the whole
// run overruns its time limit).

import assert from "node:assert/strict";
import { io } from "socket.io-client";

import { bounded } from "./bounded.mjs";

const LIMIT_MS = 20_000;
const EVENT_WAIT_MS = 5_000;

const [url, key] = process.argv.slice(2);
const sockets = [];

function step(text) {
  console.log(`ok - ${text}`);
}

async function call(method, path, body) {
  const response = await fetch(`${url}/api/server${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json();
  assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

function next(socket, event) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" within ${EVENT_WAIT_MS} ms`)), EVENT_WAIT_MS);
    socket.once(event, (payload) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}

async function run() {
  assert.ok(url && key, "usage: node server_api.mjs <server url> <server key>");
  const suffix = Math.random().toString(36).slice(2, 8);
  const [name, topic] = [`erin_${suffix}`, `orders-${suffix}`];
  const registered = await fetch(`${url}/api/users`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: name, password: "password123" }),
  });
  const { token } = await registered.json();
  const socket = io(url, { auth: { token }, reconnection: false, forceNew: true, transports: ["websocket"] });
  sockets.push(socket);
  await next(socket, "session");
  step("a user connected with the stock client");

  await call("POST", "/topics", { name: topic, private: true });
  const invited = next(socket, "topic:invited");
  await call("PUT", `/topics/${topic}/members/${name}`, {});
  assert.equal((await invited).topic.name, topic, "topic:invited names the topic");
  const heard = next(socket, "message");
  const sent = await call("POST", "/messages", { topic, body: "your order shipped", client_id: "o-1" });
  const message = await heard;
  assert.deepEqual([message.topic, message.seq, message.body], [topic, sent.seq, "your order shipped"]);
  step("added server-side: invited, and the topic's message came without a join");

  socket.on("app:order", (data, ack) => ack({ seen: data.id }));
  const answer = await call("POST", "/emit", { user: name, event: "app:order", data: { id: 7 }, ack_timeout_ms: 3000 });
  assert.equal(answer.missing, 0, "no socket missed the acknowledgement");
  assert.deepEqual(answer.acks.map((a) => [a.socket, a.data]), [[socket.id, { seen: 7 }]]);
  step("an app: event's acknowledgement reached the backend");

  const removed = next(socket, "topic:removed");
  await call("DELETE", `/topics/${topic}/members/${name}`);
  assert.equal((await removed).topic, topic, "topic:removed names the topic");
  let later = null;
  socket.on("message", (m) => {
    if (m.topic === topic) later = m;
  });
  await call("POST", "/messages", { topic, body: "not for erin" });
  await call("GET", `/users/${name}/presence`); // one more round trip: anything meant for the socket came
  assert.equal(later, null, "a removed member's socket hears no more of the topic");
  step("removed server-side: topic:removed, and nothing more of the topic");
}

const finished = await bounded("the server API session", LIMIT_MS, run, () => {
  for (const socket of sockets) socket.close();
});
if (finished) console.log("PASS");
