// Connection-state recovery with the official socket.io-client against a Parley server.
//
//   node recovery.mjs http://127.0.0.1:8000            the client drops its own transport
//   node recovery.mjs http://127.0.0.1:8000 --restart  prints "KILL ME" and the server is killed
//                                                       (-9) and started again on the same port
//
// alice connects with {token, recover: true} and gets live messages (each with its offset);
// her connection drops; bob sends messages to their topic and to her meanwhile; the client
// reconnects by itself, sending {pid, offset}: socket.recovered is true and every missed
// message arrives once, in seq order per topic, then live ones.
//
// "Meanwhile" without a sleep: alice's auth is a function (the client calls it before each
// CONNECT and merges pid and offset into what it returns), and on a reconnection it first has
// bob's messages stored. The engine is open then but her Socket.IO session is not: the server
// has nobody to deliver them to live.
// Exits 0 when every check passes; otherwise prints "FAIL: <what>" and exits 1 (2 on overrun).

import assert from "node:assert/strict";
import { io } from "socket.io-client";

import { bounded } from "./bounded.mjs";

const SESSION_LIMIT_MS = 40_000;
const EVENT_WAIT_MS = 10_000;
const RESTART_WAIT_MS = 30_000;
const PASSWORD = "password123";
const MISSED_PER_TOPIC = 5;

const [url, mode] = process.argv.slice(2);
const restart = mode === "--restart";
let socket;

function step(text) {
  console.log(`ok - ${text}`);
}

async function rest(path, body, token) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${url}/api${path}`, { method: "POST", headers, body: JSON.stringify(body) });
  const answer = await response.json();
  assert.ok(response.ok, `POST ${path}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

// Every `message` as its arguments ([Message] or [Message, offset]), in arrival order, and
// `until(what, done)`: resolves once `done()` holds for what arrived so far.
function inbox(client) {
  const received = [];
  let wake = () => {};
  client.on("message", (...args) => {
    received.push(args);
    wake();
  });
  const until = (what, done) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} within ${EVENT_WAIT_MS} ms`)), EVENT_WAIT_MS);
      wake = () => {
        if (done()) {
          clearTimeout(timer);
          resolve();
        }
      };
      wake();
    });
  return [received, until];
}

function event(client, name, waitMs = EVENT_WAIT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${name}" within ${waitMs} ms`)), waitMs);
    client.once(name, (payload) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}

async function recovery() {
  assert.ok(url, "usage: node recovery.mjs <server url> [--restart]");
  const suffix = Math.random().toString(36).slice(2, 8);
  const [aliceName, bobName] = [`alice_${suffix}`, `bob_${suffix}`];
  const aliceToken = (await rest("/users", { username: aliceName, password: PASSWORD })).token;
  const bobToken = (await rest("/users", { username: bobName, password: PASSWORD })).token;
  const fromBob = (target, body) => rest("/messages", { ...target, body }, bobToken);
  const toTopic = { topic: "lobby" }; // every new account is in the default topic
  const toAlice = { to: aliceName };

  let connects = 0;
  const missed = [];
  const auth = (send) => {
    connects += 1;
    const ready = connects === 1 ? Promise.resolve() : storeWhatAliceMisses();
    ready.then(() => send({ token: aliceToken, recover: true }), (error) => fail(error));
  };
  const storeWhatAliceMisses = async () => {
    for (let n = 0; n < MISSED_PER_TOPIC; n += 1) {
      missed.push(await fromBob(toTopic, `missed ${n}`));
      missed.push({ ...(await fromBob(toAlice, `missed ${n}`)), topic: `@${bobName}` });
    }
  };
  socket = io(url, { auth, reconnectionDelay: 100, reconnectionDelayMax: 500 });
  const [received, until] = inbox(socket);
  await event(socket, "session");
  assert.equal(socket.recovered, false, "a first connection is not a recovered one");
  step("connected with {token, recover: true}");

  const live = [await fromBob(toTopic, "live 0"), { ...(await fromBob(toAlice, "live 1")), topic: `@${bobName}` }];
  await until("live messages", () => received.length >= live.length);
  assert.deepEqual(received, live.map((m) => [m, String(m.id)]), "live messages carry their id as offset");
  step("live messages arrive with their offset");

  const dropped = event(socket, "disconnect");
  if (restart) console.log("KILL ME");
  else socket.io.engine.close();
  step(`disconnected: ${await dropped}`);
  // After a kill -9 the session waits for a whole new server process to start (and, on a loaded
  // machine, that alone has taken longer than one event's wait): the session's own bound applies.
  const session = await event(socket, "session", restart ? RESTART_WAIT_MS : EVENT_WAIT_MS);
  assert.equal(session.user.username, aliceName, "session after the reconnection");
  assert.equal(socket.recovered, true, "socket.recovered after the reconnection");
  assert.ok(connects >= 2, "the client reconnected by itself");
  step("reconnected by itself: socket.recovered is true");

  const since = () => received.slice(live.length);
  const arrived = (message) => since().some(([m]) => m.id === message.id);
  await until("the missed messages", () => missed.every(arrived));
  const last = await fromBob(toTopic, "after");
  await until("the message sent after", () => arrived(last));
  const after = since();
  assert.ok(after.every((args) => args.length <= 2), "a Message, then at most its offset");
  const missedIds = new Set(missed.map((m) => m.id));
  const replayed = after.filter(([m]) => missedIds.has(m.id));
  assert.equal(replayed.length, missed.length, "every missed message arrives once");
  const heard = after.map(([m]) => m);
  for (const topic of [toTopic.topic, `@${bobName}`]) {
    const seqs = heard.filter((m) => m.topic === topic).map((m) => m.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), `${topic} in seq order: ${seqs}`);
    assert.equal(new Set(seqs).size, seqs.length, `${topic} once each: ${seqs}`);
  }
  for (const m of missed) {
    assert.deepEqual(heard.find((r) => r.id === m.id), m, "a replayed Message is the stored one");
  }
  assert.deepEqual(after.at(-1), [last, String(last.id)], "then live, with its offset");
  step(`the ${missed.length} missed messages arrived once, in order per topic, then live`);
}

function fail(error) {
  console.error(`FAIL: ${error.message}`);
  process.exit(1);
}

const finished = await bounded("the session", SESSION_LIMIT_MS, recovery, () => socket?.close());
if (finished) console.log("PASS");
