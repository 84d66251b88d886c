// A burst of acknowledged sends from the official socket.io-client over long-polling.
//
//   node burst.mjs http://127.0.0.1:8000 200
//
// Registers a user over REST, connects with transports: ["polling"], creates
// a topic (its creator is subscribed) and emits N "message:send" with
// emitWithAck without awaiting in between, so the client batches the queued
// packets into few POST bodies. Prints one JSON line for the test to check:
//   {"topic": name, "token": jwt, "acks": [ack or {"timeout": true}, ...]}
// Exits 1 with "FAIL: <what>" when the session itself cannot be set up.

import assert from "node:assert/strict";
import { io } from "socket.io-client";

import { bounded } from "./bounded.mjs";

const SESSION_LIMIT_MS = 40_000;
const ACK_WAIT_MS = 15_000;
const PASSWORD = "password123";

const [url, countText] = process.argv.slice(2);
const count = Number(countText);

async function register(username) {
  const response = await fetch(`${url}/api/users`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  const body = await response.json();
  assert.equal(response.status, 201, `registering ${username}: ${JSON.stringify(body)}`);
  return body.token;
}

function connected(socket) {
  return new Promise((resolve, reject) => {
    socket.once("session", resolve);
    socket.once("connect_error", reject);
  });
}

async function burst(socket) {
  assert.ok(url && Number.isInteger(count) && count > 0, "usage: node burst.mjs <server url> <count>");
  const suffix = Math.random().toString(36).slice(2, 8);
  const [username, topic] = [`burst_${suffix}`, `burst-${suffix}`];
  const token = await register(username);
  socket.auth = { token };
  socket.connect();
  await connected(socket);
  assert.equal(socket.io.engine.transport.name, "polling", "the transport");

  const created = await socket.timeout(ACK_WAIT_MS).emitWithAck("topic:create", { name: topic });
  assert.equal(created?.ok, true, `topic:create: ${JSON.stringify(created)}`);

  // No await between emits: they queue while the first POST is in flight.
  const pending = [];
  for (let i = 0; i < count; i += 1) {
    const payload = { topic, body: `burst ${i}`, client_id: `b-${suffix}-${i}` };
    pending.push(socket.timeout(ACK_WAIT_MS).emitWithAck("message:send", payload));
  }
  const settled = await Promise.allSettled(pending);
  const acks = settled.map((s) => (s.status === "fulfilled" ? s.value : { timeout: true }));
  console.log(JSON.stringify({ topic, token, acks }));
}

const socket = io(url, { transports: ["polling"], reconnection: false, forceNew: true, autoConnect: false });
await bounded("the burst", SESSION_LIMIT_MS, () => burst(socket), () => socket.close());
// python-engineio keeps the long-poll GET in flight at close open until its
// ping timeout (up to 45 s); that request would keep node alive meanwhile. Exit once stdout is
// flushed: a pipe is written asynchronously, and process.exit() cuts a pending write (the acks,
// about 100 KB since Messages carry section 8's fields, were cut at 64 KiB).
process.stdout.write("", () => process.exit());
