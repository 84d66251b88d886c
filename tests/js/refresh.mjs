// Token refresh on a live socket with the official socket.io-client (PROTOCOL.md 10, "Token refresh").
//
//   node refresh.mjs http://127.0.0.1:8000      (a server whose tokens live a few seconds)
//
// Registers alice and bob, whose tokens expire at about the same time. alice waits for
// "auth:expiring", gets a new token with POST /api/auth/refresh and hands it to her socket with
// "auth:refresh" (a bad token is refused "unauthorized" and changes nothing); bob does nothing and
// is disconnected by the server at his token's expiry. Past it, alice's socket still answers, and
// when her transport drops she reconnects by herself with the new token (her `auth` is a function
// that hands the newest one). Prints "PASS" and exits 0 when every check passes; else "FAIL: ...".

import assert from "node:assert/strict";
import { io } from "socket.io-client";

import { bounded } from "./bounded.mjs";

const LIMIT_MS = 30_000;
const EVENT_WAIT_MS = 15_000; // a notice comes a few seconds after the start, an expiry later
const PASSWORD = "password123";

const url = process.argv[2];
const sockets = [];

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

function step(text) {
  console.log(`ok - ${text}`);
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

async function call(socket, event, payload) {
  return socket.timeout(EVENT_WAIT_MS).emitWithAck(event, payload);
}

async function refresh() {
  assert.ok(url, "usage: node refresh.mjs <url>");
  const suffix = Math.random().toString(36).slice(2, 8);
  let token = await register(`alice_${suffix}`);
  const bobToken = await register(`bob_${suffix}`);
  const alice = io(url, { auth: (cb) => cb({ token }), forceNew: true, reconnectionDelay: 100 });
  const bob = io(url, { auth: { token: bobToken }, forceNew: true, reconnection: false });
  sockets.push(alice, bob);
  const aliceSession = next(alice, "session");
  const bobSession = next(bob, "session");
  const bobGone = next(bob, "disconnect");
  const notice = next(alice, "auth:expiring");
  await Promise.all([aliceSession, bobSession]);
  step("connected with short tokens");

  const { expires_at: firstExpiry } = await notice;
  assert.ok(Date.parse(firstExpiry) > Date.now(), `auth:expiring comes before the expiry: ${firstExpiry}`);
  step("auth:expiring arrived before the expiry");

  const response = await fetch(`${url}/api/auth/refresh`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
  });
  const fresh = await response.json();
  assert.equal(response.status, 200, `POST /api/auth/refresh: ${JSON.stringify(fresh)}`);
  assert.deepEqual(Object.keys(fresh).sort(), ["expires_at", "token"], "the refresh answer");
  token = fresh.token; // the next reconnection presents it

  const refused = await call(alice, "auth:refresh", { token: "not-a-token" });
  assert.equal(refused.ok, false, "a bad token is refused");
  assert.equal(refused.error?.code, "unauthorized", `refused: ${JSON.stringify(refused)}`);
  const answer = await call(alice, "auth:refresh", { token });
  assert.equal(answer.ok, true, `auth:refresh: ${JSON.stringify(answer)}`);
  assert.ok(Date.parse(answer.data.expires_at) > Date.parse(firstExpiry), "the socket's expiry moved on");
  step("auth:refresh gave the socket its new token (a bad one was refused)");

  assert.equal(await bobGone, "io server disconnect", "bob is disconnected by the server");
  assert.ok(Date.now() >= Date.parse(firstExpiry) - 100, "bob went at his token's expiry");
  const listed = await call(alice, "topic:list", {});
  assert.equal(listed.ok, true, "alice's socket still answers past her first token's expiry");
  assert.ok(alice.connected, "alice is connected");
  step("past the first expiry: bob (no refresh) is gone, alice is not");

  const back = next(alice, "session");
  alice.io.engine.close(); // the transport drops: the client reconnects by itself
  const again = await back;
  assert.equal(again.user.username, (await aliceSession).user.username, "reconnected as alice");
  step("a reconnection presents the refreshed token");
}

const finished = await bounded("the refresh", LIMIT_MS, refresh, () => {
  for (const socket of sockets) socket.close();
});
if (finished) console.log("PASS");
