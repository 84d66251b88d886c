// Load generator for `python -m bench.compare`, on the official socket.io-client.
//
// The Python orchestrator drives it over stdin/stdout, one JSON object per line:
// it sends {"id", "cmd", ...args} and gets {"id", "ok": true, ...result} or
// {"id", "ok": false, "error"}. Commands run one at a time; the orchestrator
// reads /proc around each one, so a command is one measured phase.
//
// Two dialects for the same operations (`mode`):
//   ref     the reference servers (server.js, plain_sio.py): `session` on connect,
//           `echo` (ack = payload), `join` {room}, `publish` {room, payload} -> `message` payload
//   parley  Parley: connect with auth {token} until `session`; echo on namespace /echo;
//           `topic:subscribe` {topic}; `message:send` {topic, body} -> `message` Message
// Reactions use the same events in both: `reaction:add` / `reaction:remove` {id, emoji} ->
// `reaction:updated` {topic, id, reactions} to the room (a ref room gets a message id from `post` {room}).
//
// Every wait is bounded by the command's `timeout_s`; the process exits when stdin closes.
import { performance } from "node:perf_hooks";
import readline from "node:readline";
import { io } from "socket.io-client";

const groups = new Map(); // name -> [{socket, echo, token}]

function summary(values) {
  if (values.length === 0) return { n: 0 };
  const sorted = Float64Array.from(values).sort();
  const pick = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const round = (x) => Math.round(x * 100) / 100;
  return {
    n: sorted.length,
    p50: round(pick(0.5)),
    p95: round(pick(0.95)),
    p99: round(pick(0.99)),
    max: round(sorted[sorted.length - 1]),
  };
}

function withTimeout(promise, seconds, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${seconds}s`)), seconds * 1000);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

function emitAck(socket, event, payload, seconds = 30) {
  return withTimeout(
    new Promise((resolve) => socket.emit(event, payload, (answer) => resolve(answer))),
    seconds,
    event,
  );
}

function group(name) {
  const members = groups.get(name);
  if (!members) throw new Error(`no group ${name}`);
  return members;
}

// Run `worker(i)` for i in [0, count) with at most `concurrency` in flight.
async function pool(count, concurrency, worker) {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const i = next++;
      await worker(i);
    }
  });
  await Promise.all(lanes);
}

// `localAddress` (e.g. 127.0.0.2): the source address, passed by engine.io-client to `ws`, so that more
// clients than one address's ~28,000 ephemeral ports can reach one server.
function openSocket(url, mode, token, transports, seconds, localAddress) {
  const options = {
    forceNew: true, // one engine connection per client, as separate browsers would have
    transports,
    reconnection: false,
    timeout: seconds * 1000,
  };
  if (localAddress) options.localAddress = localAddress;
  if (mode === "parley") options.auth = { token };
  const socket = io(url, options);
  const session = new Promise((resolve, reject) => {
    socket.once("session", () => resolve());
    socket.once("connect_error", (err) => reject(new Error(`connect_error: ${err.message}`)));
    // Closed before its session (the server gave up on it): a failure now, not a wait until the phase's end.
    socket.once("disconnect", (reason) => reject(new Error(`disconnected before session: ${reason}`)));
  });
  return { socket, session };
}

// connect {group, url, mode, n, tokens?, concurrency, transports, local_address?, raw?, timeout_s}
// (`raw`: also every connect-to-session time, for percentiles over several generators)
async function cmdConnect(a) {
  const members = groups.get(a.group) ?? [];
  groups.set(a.group, members);
  const times = [];
  const errors = [];
  const started = performance.now();
  const deadline = started + a.timeout_s * 1000;
  await pool(a.n, a.concurrency, async (i) => {
    const left = (deadline - performance.now()) / 1000;
    if (left <= 0) {
      errors.push("time limit");
      return;
    }
    const token = a.tokens ? a.tokens[i % a.tokens.length] : null;
    const t0 = performance.now();
    const { socket, session } = openSocket(
      a.url,
      a.mode,
      token,
      a.transports ?? ["websocket"],
      left,
      a.local_address,
    );
    try {
      await withTimeout(session, left, "session");
      times.push(performance.now() - t0);
      members.push({ socket, token, echo: null });
    } catch (err) {
      errors.push(String(err.message ?? err));
      socket.close();
    }
  });
  return {
    connected: times.length,
    failed: errors.length,
    first_errors: [...new Set(errors)].slice(0, 3),
    wall_ms: Math.round((performance.now() - started) * 10) / 10,
    session_ms: summary(times),
    group_size: members.length,
    ...(a.raw ? { times_ms: times.map((t) => Math.round(t * 100) / 100) } : {}),
  };
}

// subgroup {group, name, from?, count}: group `name` is `count` sockets of `group` from index `from`
// (the same sockets: the fan-out room among all the connected ones)
async function cmdSubgroup(a) {
  const from = a.from ?? 0;
  const members = group(a.group).slice(from, from + a.count);
  groups.set(a.name, members);
  return { size: members.length };
}

// ---------------------------------------------------------------- the reconnect storm (bench/storm.py)
//
// storm_connect opens the group with the stock client's reconnection ON (its defaults: delay 1 s doubling
// to 5 s, randomization 0.5, attempts unlimited, connect timeout 20 s). storm_arm starts counting: the
// orchestrator then restarts the server, and storm_wait waits until every socket has connected again and
// (parley) received its backlog: the `expected` messages `storm <topic> <k>` (k = 0..expected-1) of its
// topic, each once and in k order. Times are wall-clock ms (Date.now(): comparable with the orchestrator's
// time.time() on this machine) since the orchestrator's `t0`, the moment it stopped the server.

// storm_connect {group, url, mode, tokens?, topics?, n, concurrency, local_address?, timeout_s}
async function cmdStormConnect(a) {
  const members = groups.get(a.group) ?? [];
  groups.set(a.group, members);
  let failed = 0;
  const errors = [];
  const started = performance.now();
  await pool(a.n, a.concurrency, async (i) => {
    const options = { forceNew: true, transports: ["websocket"] }; // reconnection: the stock defaults
    if (a.local_address) options.localAddress = a.local_address;
    if (a.mode === "parley") options.auth = { token: a.tokens[i] };
    const socket = io(a.url, options);
    const m = stormMember(socket, a.topics ? a.topics[i] : null);
    try {
      await withTimeout(
        new Promise((resolve) => socket.once("session", resolve)),
        a.timeout_s,
        "session",
      );
      members.push(m);
    } catch (err) {
      failed += 1;
      errors.push(String(err.message ?? err));
      socket.close();
    }
  });
  return {
    connected: a.n - failed,
    failed,
    first_errors: [...new Set(errors)].slice(0, 3),
    wall_ms: Math.round((performance.now() - started) * 10) / 10,
  };
}

function stormMember(socket, topic) {
  const m = { socket, topic, armed: false };
  stormReset(m);
  socket.on("connect", () => {
    if (m.armed && m.reconnectedAt === null) m.reconnectedAt = Date.now();
  });
  socket.on("disconnect", (reason) => {
    if (!m.armed) return;
    m.disconnects += 1;
    m.reasons.push(reason);
    if (!socket.active) m.gaveUp = true; // "io server disconnect": the stock client does not come back
  });
  // The attempt's own start: a connect_error's callback may run long after its attempt (a
  // generator's loop with thousands of sockets), so its stamp alone cannot say whether the attempt
  // came before the server listened.
  socket.io.on("reconnect_attempt", () => {
    if (m.armed) m.attemptAt = Date.now();
  });
  socket.on("connect_error", (err) => {
    if (!m.armed) return;
    m.connectErrors.push(Date.now());
    if (m.attemptAt !== null) m.refusedAttempts.push(m.attemptAt);
    m.firstError ??= String(err?.message ?? err);
    // "websocket error" says nothing more: the transport's own error (ECONNRESET, a status) is its cause
    const cause = err?.description?.message ?? err?.description?.error?.message ?? err?.description;
    const detail = `${err?.message ?? err}: ${cause === undefined ? "-" : String(cause)}`;
    m.errorDetails[detail] = (m.errorDetails[detail] ?? 0) + 1;
    if (!socket.active) m.gaveUp = true; // refused by the server's middleware: no retry
  });
  socket.io.on("reconnect_failed", () => {
    if (m.armed) m.gaveUp = true;
  });
  socket.on("message", (msg) => {
    if (!m.armed || m.reconnectedAt === null || !msg || msg.topic !== m.topic) return;
    const [word, , k] = String(msg.body).split(" ");
    if (word !== "storm") return;
    const index = Number(k);
    if (m.seen.has(index)) {
      m.duplicates += 1;
      return;
    }
    if (index < m.highest) m.outOfOrder += 1;
    m.highest = Math.max(m.highest, index);
    m.seen.add(index);
    if (m.seen.size === m.expected) m.caughtUpAt = Date.now();
  });
  return m;
}

function stormReset(m, expected = 0) {
  Object.assign(m, {
    expected,
    reconnectedAt: null,
    caughtUpAt: null,
    seen: new Set(),
    highest: -1,
    duplicates: 0,
    outOfOrder: 0,
    disconnects: 0,
    reasons: [],
    connectErrors: [], // when each came
    attemptAt: null, // when the Manager began its latest attempt (reconnect_attempt)
    refusedAttempts: [], // when each attempt that ended in a connect_error began
    firstError: null,
    errorDetails: {}, // "message: cause" -> count
    gaveUp: false,
  });
}

// storm_arm {group, expected}: from now on count; the server is about to be stopped
async function cmdStormArm(a) {
  const members = group(a.group);
  for (const m of members) {
    stormReset(m, a.expected);
    m.armed = true;
  }
  return { armed: members.length };
}

// storm_wait {group, expected, t0, up, timeout_s}: until every socket is back (and has its backlog) or the
// limit; `up`: when the new server answered /healthz (connect errors before it are the outage's)
async function cmdStormWait(a) {
  const members = group(a.group);
  const deadline = performance.now() + a.timeout_s * 1000;
  const finished = (m) => m.gaveUp || (m.reconnectedAt !== null && (a.expected === 0 || m.caughtUpAt !== null));
  let timedOut = false;
  while (!members.every(finished)) {
    if (performance.now() >= deadline) {
      timedOut = true;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50)); // a poll of local state, bounded by the deadline
  }
  const since = (t) => t - a.t0;
  const reasons = {};
  for (const m of members) for (const r of m.reasons) reasons[r] = (reasons[r] ?? 0) + 1;
  const back = members.filter((m) => m.reconnectedAt !== null);
  return {
    sockets: members.length,
    reconnected: back.length,
    caught_up: members.filter((m) => m.caughtUpAt !== null).length,
    reconnect_ms: back.map((m) => since(m.reconnectedAt)),
    caught_up_ms: members.filter((m) => m.caughtUpAt !== null).map((m) => since(m.caughtUpAt)),
    // over the sockets that came back: backlog messages never received, received twice, out of order
    missing: back.reduce((n, m) => n + Math.max(0, a.expected - m.seen.size), 0),
    duplicates: members.reduce((n, m) => n + m.duplicates, 0),
    out_of_order: members.reduce((n, m) => n + m.outOfOrder, 0),
    connect_errors: members.reduce((n, m) => n + m.connectErrors.length, 0),
    connect_errors_after_up: members.reduce((n, m) => n + m.connectErrors.filter((t) => t >= a.up).length, 0),
    // the latest start of an attempt that ended in a connect_error, since t0 (null: none)
    last_failed_attempt_ms: members.reduce((latest, m) => {
      for (const t of m.refusedAttempts) latest = latest === null ? since(t) : Math.max(latest, since(t));
      return latest;
    }, null),
    first_connect_errors: [...new Set(members.map((m) => m.firstError).filter(Boolean))].slice(0, 3),
    connect_error_causes: members.reduce((all, m) => {
      for (const [k, n] of Object.entries(m.errorDetails)) all[k] = (all[k] ?? 0) + n;
      return all;
    }, {}),
    gave_up: members.filter((m) => m.gaveUp).length,
    // disconnected again after coming back (a second backlog would follow)
    disconnected_twice: members.filter((m) => m.disconnects > 1).length,
    disconnect_reasons: reasons,
    timed_out: timedOut,
  };
}

// join {group, room, mode, from?, count?, concurrency, timeout_s?, prefix?} (timeout_s: each join's answer, default 30;
// prefix: the i-th socket of the slice joins `<prefix>-<i>` instead of `room`)
async function cmdJoin(a) {
  const members = group(a.group).slice(a.from ?? 0, (a.from ?? 0) + (a.count ?? Infinity));
  let failed = 0;
  let firstError = null;
  await pool(members.length, a.concurrency ?? 50, async (i) => {
    const { socket } = members[i];
    const room = a.prefix ? `${a.prefix}-${i}` : a.room;
    const answer =
      a.mode === "parley"
        ? await emitAck(socket, "topic:subscribe", { topic: room }, a.timeout_s ?? 30)
        : await emitAck(socket, "join", { room }, a.timeout_s ?? 30);
    if (!answer || !answer.ok) {
      failed += 1;
      firstError ??= answer;
    }
  });
  return { joined: members.length - failed, failed, first_error: firstError };
}

// heard {group, action: "start" | "count", expected?, timeout_s?}: "start" counts from now the `message`
// events every socket of the group receives; "count" answers how many arrived since (`heard`), one
// total for the group, once `expected` have arrived or after `timeout_s` s (a listener's copy may
// come in after the sender's acknowledgement, on its own connection).
const hearing = new Map(); // group -> {heard, waiters: [{expected, resolve}]}
async function cmdHeard(a) {
  const members = group(a.group);
  if (a.action === "start") {
    const state = { heard: 0, waiters: [] };
    hearing.set(a.group, state);
    for (const m of members) {
      m.socket.off("message", m.hearing);
      m.hearing = () => {
        state.heard += 1;
        state.waiters = state.waiters.filter((w) => (state.heard >= w.expected ? (w.resolve(), false) : true));
      };
      m.socket.on("message", m.hearing);
    }
    return { listening: members.length };
  }
  const state = hearing.get(a.group);
  if (!state) throw new Error(`group ${a.group} is not counting`);
  if (a.expected && state.heard < a.expected) {
    const arrived = new Promise((resolve) => state.waiters.push({ expected: a.expected, resolve }));
    await withTimeout(arrived, a.timeout_s ?? 10, "heard").catch(() => {});
  }
  return { heard: state.heard };
}

// create_topics {group, prefix, count}: parley only; socket i creates (and joins) topic prefix-i
async function cmdCreateTopics(a) {
  const members = group(a.group).slice(0, a.count);
  let failed = 0;
  await pool(members.length, 20, async (i) => {
    const answer = await emitAck(members[i].socket, "topic:create", { name: `${a.prefix}-${i}` });
    if (!answer || !answer.ok) failed += 1;
  });
  return { created: members.length - failed, failed };
}

// echo_prepare {group, count, url, timeout_s}: parley only; opens namespace /echo on each client's connection
async function cmdEchoPrepare(a) {
  const members = group(a.group).slice(0, a.count);
  let failed = 0;
  await pool(members.length, 50, async (i) => {
    const m = members[i];
    if (m.echo) return;
    const echo = m.socket.io.socket("/echo", { auth: { token: m.token } });
    try {
      await withTimeout(
        new Promise((resolve, reject) => {
          echo.once("connect", resolve);
          echo.once("connect_error", (err) => reject(err));
        }),
        a.timeout_s,
        "echo connect",
      );
      m.echo = echo;
    } catch {
      failed += 1;
      echo.close();
    }
  });
  return { ready: members.length - failed, failed };
}

// echo {group, count, per_client, mode, payload_size, timeout_s}: closed loop, one call in flight per client
async function cmdEcho(a) {
  const members = group(a.group).slice(0, a.count);
  const pad = "x".repeat(a.payload_size ?? 32);
  const rtts = [];
  let mismatches = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + a.timeout_s * 1000;
  await Promise.all(
    members.map(async (m, c) => {
      const socket = a.mode === "parley" ? m.echo : m.socket;
      for (let i = 0; i < a.per_client && performance.now() < deadline; i++) {
        const t0 = performance.now();
        try {
          const answer = await emitAck(socket, "echo", { c, i, pad }, 30);
          rtts.push(performance.now() - t0);
          if (!answer || answer.c !== c || answer.i !== i) mismatches += 1;
        } catch {
          errors += 1;
        }
      }
    }),
  );
  const wall = (performance.now() - started) / 1000;
  return {
    round_trips: rtts.length,
    errors,
    mismatches,
    wall_s: Math.round(wall * 1000) / 1000,
    per_s: Math.round(rtts.length / wall),
    rtt_ms: summary(rtts),
  };
}

// fanout {group, publisher_group, room, mode, rate, messages, body_size, timeout_s}
// The group's members are the recipients; the first socket of `publisher_group` publishes
// (it is in the room too, so the server also sends it each message: counted apart).
// Message i is sent at t0 + i/rate on this process's clock and carries its send time.
async function cmdFanout(a) {
  const recipients = group(a.group);
  const publisher = group(a.publisher_group)[0].socket;
  const expected = recipients.length * a.messages;
  const latencies = [];
  let received = 0;
  let selfReceived = 0;
  let outOfOrder = 0;
  let allDone;
  const done = new Promise((resolve) => {
    allDone = resolve;
  });
  const handlers = [];
  const sentAt = (payload) => {
    if (a.mode === "parley") {
      if (!payload || payload.topic !== a.room) return null;
      const head = String(payload.body).split(" ", 2)[1] ?? "";
      const [, index, t] = head.split(":");
      return { t: Number(t), i: Number(index) };
    }
    return payload && typeof payload.t === "number" ? payload : null;
  };
  const got = recipients.map(() => 0);
  recipients.forEach(({ socket }, r) => {
    let last = -1;
    const handler = (payload) => {
      const now = performance.now();
      const m = sentAt(payload);
      if (!m) return;
      got[r] += 1;
      latencies.push(now - m.t);
      if (m.i <= last) outOfOrder += 1;
      last = m.i;
      received += 1;
      if (received === expected) allDone();
    };
    socket.on("message", handler);
    handlers.push([socket, handler]);
  });
  const selfHandler = () => {
    selfReceived += 1;
  };
  publisher.on("message", selfHandler);
  const pad = "x".repeat(a.body_size ?? 64);
  const acks = [];
  let sendErrors = 0;
  let lateSends = 0;
  const started = performance.now();
  const deadline = started + a.timeout_s * 1000;
  const sends = [];
  for (let i = 0; i < a.messages && performance.now() < deadline; i++) {
    const due = started + (i * 1000) / a.rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    else if (wait < -5) lateSends += 1;
    const t = performance.now();
    const answer =
      a.mode === "parley"
        ? emitAck(publisher, "message:send", { topic: a.room, body: `b 0:${i}:${t} ${pad}` })
        : emitAck(publisher, "publish", { room: a.room, payload: { t, i, pad } });
    sends.push(
      answer.then(
        (ack) => {
          acks.push(performance.now() - t);
          if (!ack || !ack.ok) sendErrors += 1;
        },
        () => {
          sendErrors += 1;
        },
      ),
    );
  }
  const sendWall = (performance.now() - started) / 1000;
  await Promise.allSettled(sends);
  const left = Math.max(0.1, (deadline - performance.now()) / 1000);
  let timedOut = false;
  if (received < expected) {
    await withTimeout(done, left, "fanout drain").catch(() => {
      timedOut = true;
    });
  }
  const wall = (performance.now() - started) / 1000;
  for (const [socket, handler] of handlers) socket.off("message", handler);
  publisher.off("message", selfHandler);
  return {
    messages: sends.length,
    recipients: recipients.length,
    deliveries: received,
    expected,
    publisher_self_deliveries: selfReceived,
    out_of_order: outOfOrder,
    send_errors: sendErrors,
    late_sends: lateSends,
    timed_out: timedOut,
    // the first recipients that got fewer than every message: which socket, how many it got
    short: got
      .map((n, r) => ({ index: r, sid: recipients[r].socket.id, got: n }))
      .filter((x) => x.got < sends.length)
      .slice(0, 10),
    send_wall_s: Math.round(sendWall * 1000) / 1000,
    wall_s: Math.round(wall * 1000) / 1000,
    latency_ms: summary(latencies),
    ack_ms: summary(acks),
  };
}

// blast {group, publisher_group, room, publishers, per_publisher, window, body_size, timeout_s}: parley only.
// "As fast as acks allow": each of the first `publishers` sockets of `publisher_group` sends
// `per_publisher` messages with at most `window` unacknowledged; every socket of both groups
// is in the room (publishers get each other's messages and their own: counted apart).
// Bodies are `b p:i:t`; order is checked per (socket, publisher).
async function cmdBlast(a) {
  const recipients = group(a.group);
  const pubs = group(a.publisher_group).slice(0, a.publishers);
  const total = pubs.length * a.per_publisher;
  const expected = recipients.length * total;
  const expectedSelf = pubs.length * total;
  const latencies = [];
  let received = 0;
  let selfReceived = 0;
  let outOfOrder = 0;
  let foreign = 0;
  let allDone;
  const done = new Promise((resolve) => {
    allDone = resolve;
  });
  const parse = (payload) => {
    if (!payload || payload.topic !== a.room) return null;
    const [p, index, t] = (String(payload.body).split(" ", 2)[1] ?? "").split(":");
    return { p: Number(p), i: Number(index), t: Number(t) };
  };
  const handlers = [];
  const listen = (socket, isPublisher) => {
    const last = new Map();
    const handler = (payload) => {
      const now = performance.now();
      const m = parse(payload);
      if (!m) {
        foreign += 1;
        return;
      }
      if (m.i <= (last.get(m.p) ?? -1)) outOfOrder += 1;
      last.set(m.p, m.i);
      if (isPublisher) selfReceived += 1;
      else {
        latencies.push(now - m.t);
        received += 1;
      }
      if (received === expected && selfReceived === expectedSelf) allDone();
    };
    socket.on("message", handler);
    handlers.push([socket, handler]);
  };
  recipients.forEach(({ socket }) => listen(socket, false));
  pubs.forEach(({ socket }) => listen(socket, true));
  const pad = "x".repeat(a.body_size ?? 64);
  const acks = [];
  let sendErrors = 0;
  let firstError = null;
  const started = performance.now();
  const deadline = started + a.timeout_s * 1000;
  await Promise.all(
    pubs.map(async ({ socket }, p) => {
      await pool(a.per_publisher, a.window, async (i) => {
        if (performance.now() > deadline) return;
        const t = performance.now();
        try {
          const ack = await emitAck(socket, "message:send", { topic: a.room, body: `b ${p}:${i}:${t} ${pad}` }, 60);
          acks.push(performance.now() - t);
          if (!ack || !ack.ok) {
            sendErrors += 1;
            firstError ??= ack;
          }
        } catch (err) {
          sendErrors += 1;
          firstError ??= String(err.message ?? err);
        }
      });
    }),
  );
  const sendWall = (performance.now() - started) / 1000;
  let timedOut = false;
  if (received < expected || selfReceived < expectedSelf) {
    const left = Math.max(0.1, (deadline - performance.now()) / 1000);
    await withTimeout(done, left, "blast drain").catch(() => {
      timedOut = true;
    });
  }
  const wall = (performance.now() - started) / 1000;
  for (const [socket, handler] of handlers) socket.off("message", handler);
  return {
    messages: total,
    acked: acks.length,
    recipients: recipients.length,
    publishers: pubs.length,
    deliveries: received,
    expected,
    publisher_self_deliveries: selfReceived,
    expected_self: expectedSelf,
    out_of_order: outOfOrder,
    foreign,
    send_errors: sendErrors,
    first_error: firstError,
    timed_out: timedOut,
    send_wall_s: Math.round(sendWall * 1000) / 1000,
    wall_s: Math.round(wall * 1000) / 1000,
    latency_ms: summary(latencies),
    ack_ms: summary(acks),
  };
}

// sends {group, count, per_client, prefix, body_size, mentions?, link?, timeout_s}: parley only, durable
// message:send in closed loop, client i in its own topic prefix-i; `mentions` (usernames) start every body
// with "hey @a and @b"; `link` (a URL) puts `see <link>/<client>/<i>` in every body, a distinct URL each
async function cmdSends(a) {
  const members = group(a.group).slice(0, a.count);
  const pad = "x".repeat(a.body_size ?? 64);
  const lead = a.mentions?.length ? `hey ${a.mentions.map((name) => `@${name}`).join(" and ")} ` : "";
  const acks = [];
  let recognised = 0;
  let linked = 0;
  let errors = 0;
  let firstError = null;
  const started = performance.now();
  const deadline = started + a.timeout_s * 1000;
  await Promise.all(
    members.map(async (m, c) => {
      for (let i = 0; i < a.per_client && performance.now() < deadline; i++) {
        const t0 = performance.now();
        try {
          const answer = await emitAck(m.socket, "message:send", {
            topic: `${a.prefix}-${c}`,
            body: `${lead}b ${c}:${i}:${t0} ${a.link ? `see ${a.link}/${c}/${i} ` : ""}${pad}`,
          });
          if (answer && answer.ok) {
            acks.push(performance.now() - t0);
            // the server found every name (servers before mentions have no `mentions` field)
            const found = answer.data?.mentions;
            if (lead && Array.isArray(found) && a.mentions.every((name) => found.includes(name))) recognised += 1;
            if (a.link && answer.data?.links?.length === 1) linked += 1; // the server read the link
          } else {
            errors += 1;
            firstError ??= answer;
          }
        } catch (err) {
          errors += 1;
          firstError ??= String(err.message ?? err);
        }
      }
    }),
  );
  const wall = (performance.now() - started) / 1000;
  return {
    acked: acks.length,
    mentions_recognised: recognised,
    links_recognised: linked,
    errors,
    first_error: firstError,
    wall_s: Math.round(wall * 1000) / 1000,
    per_s: Math.round((acks.length / wall) * 10) / 10,
    ack_ms: summary(acks),
  };
}

// post {group, room, mode}: the group's first socket posts one message to the room; its id.
// parley: `message:send` {topic, body}; ref: `post` {room} (server.js only registers an id for the room)
async function cmdPost(a) {
  const { socket } = group(a.group)[0];
  const answer =
    a.mode === "parley"
      ? await emitAck(socket, "message:send", { topic: a.room, body: "react to this" })
      : await emitAck(socket, "post", { room: a.room });
  if (!answer || !answer.ok) throw new Error(`post: ${JSON.stringify(answer)}`);
  return { message_id: answer.data.id };
}

// reactions {group, room, id, reactors, rate, duration_s, emojis, idle_s, timeout_s}: the reaction storm.
// Every socket of the group (all members of the room) counts `reaction:updated` for message `id`;
// the first `reactors` sockets send `reaction:add` / `reaction:remove` {id, emoji}, `rate` per second
// in all for `duration_s` s (op k at t0 + k/rate, by reactor k % reactors). Each reactor toggles its own
// emoji (reactor r: `:bench<r % emojis>:`), add then remove, and waits for an op's ack before its next
// one, so every op changes the message's reactions and must reach every member once (no no-op add or
// remove, no reordering of one user's add and remove). Then it waits until every member got every
// update, or nothing arrived for `idle_s` s, or the time limit. Both dialects use the same events.
async function cmdReactions(a) {
  const members = group(a.group);
  const reactors = members.slice(0, a.reactors);
  const ops = Math.max(1, Math.floor(a.rate * a.duration_s));
  const expected = ops * members.length;
  let received = 0;
  let foreign = 0;
  let lastAt = performance.now();
  let allDone;
  const done = new Promise((resolve) => {
    allDone = resolve;
  });
  const handlers = [];
  const counts = new Array(members.length).fill(0);
  members.forEach(({ socket }, m) => {
    const handler = (payload) => {
      if (!payload || payload.topic !== a.room || payload.id !== a.id) {
        foreign += 1;
        return;
      }
      lastAt = performance.now();
      counts[m] += 1;
      received += 1;
      if (received === expected) allDone();
    };
    socket.on("reaction:updated", handler);
    handlers.push([socket, handler]);
  });
  const addAcks = [];
  const removeAcks = [];
  let errors = 0;
  let firstError = null;
  let lateOps = 0;
  let lastAckAt = 0;
  const started = performance.now();
  const deadline = started + a.timeout_s * 1000;
  const perReactor = Math.ceil(ops / reactors.length);
  await Promise.all(
    reactors.map(async ({ socket }, r) => {
      const emoji = `:bench${r % a.emojis}:`;
      for (let j = 0; j < perReactor; j++) {
        const k = j * reactors.length + r;
        if (k >= ops || performance.now() > deadline) return;
        const wait = started + (k * 1000) / a.rate - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        else if (wait < -5) lateOps += 1;
        const adding = j % 2 === 0;
        const t = performance.now();
        try {
          const ack = await emitAck(socket, adding ? "reaction:add" : "reaction:remove", { id: a.id, emoji }, 60);
          lastAckAt = performance.now();
          if (ack && ack.ok) (adding ? addAcks : removeAcks).push(lastAckAt - t);
          else {
            errors += 1;
            firstError ??= ack;
          }
        } catch (err) {
          errors += 1;
          firstError ??= String(err.message ?? err);
        }
      }
    }),
  );
  const sendWall = (performance.now() - started) / 1000;
  let timedOut = false;
  while (received < expected) {
    const now = performance.now();
    if (now >= deadline) {
      timedOut = true;
      break;
    }
    const quietFor = now - Math.max(lastAt, lastAckAt);
    if (quietFor >= a.idle_s * 1000) break;
    const left = Math.min(deadline - now, a.idle_s * 1000 - quietFor);
    await withTimeout(done, left / 1000, "reactions drain").catch(() => {});
  }
  const wall = (Math.max(lastAt, lastAckAt, started) - started) / 1000;
  for (const [socket, handler] of handlers) socket.off("reaction:updated", handler);
  return {
    members: members.length,
    reactors: reactors.length,
    ops,
    acked: addAcks.length + removeAcks.length,
    errors,
    first_error: firstError,
    late_ops: lateOps,
    deliveries: received,
    expected,
    // members that did not get exactly one update per op (missed some or got duplicates)
    uneven_members: counts.filter((n) => n !== ops).length,
    foreign,
    timed_out: timedOut,
    send_wall_s: Math.round(sendWall * 1000) / 1000,
    // from the first op to the last delivery (or ack)
    wall_s: Math.round(wall * 1000) / 1000,
    drain_ms: Math.round(Math.max(0, lastAt - lastAckAt) * 10) / 10,
    deliveries_per_s: wall > 0 ? Math.round(received / wall) : null,
    add_ack_ms: summary(addAcks),
    remove_ack_ms: summary(removeAcks),
  };
}

// backlog {url, token, topic, expected, timeout_s}: a fresh parley connection; the time from
// starting to connect to the last of `expected` backlog messages of `topic`, and their order
async function cmdBacklog(a) {
  let count = 0;
  let lastSeq = 0;
  let outOfOrder = 0;
  let sessionMs = null;
  let firstMs = null;
  let lastMs = null;
  const seen = new Set();
  let duplicates = 0;
  const t0 = performance.now();
  let finish;
  const done = new Promise((resolve) => {
    finish = resolve;
  });
  const { socket, session } = openSocket(a.url, "parley", a.token, ["websocket"], a.timeout_s);
  socket.on("message", (m) => {
    if (!m || m.topic !== a.topic) return;
    const now = performance.now() - t0;
    firstMs ??= now;
    if (seen.has(m.id)) {
      duplicates += 1;
      return;
    }
    seen.add(m.id);
    if (m.seq !== lastSeq + 1) outOfOrder += 1;
    lastSeq = m.seq;
    count += 1;
    lastMs = now;
    if (count >= a.expected) finish();
  });
  let timedOut = false;
  try {
    await withTimeout(session, a.timeout_s, "session");
    sessionMs = performance.now() - t0;
    await withTimeout(done, Math.max(0.1, a.timeout_s - sessionMs / 1000), "backlog");
  } catch {
    timedOut = true;
  }
  socket.close();
  const round = (x) => (x === null ? null : Math.round(x * 10) / 10);
  return {
    received: count,
    expected: a.expected,
    last_seq: lastSeq,
    out_of_order_or_gaps: outOfOrder,
    duplicates,
    timed_out: timedOut,
    connect_to_session_ms: round(sessionMs),
    connect_to_first_ms: round(firstMs),
    connect_to_last_ms: round(lastMs),
  };
}

// close {group, from?}: disconnect the group's sockets (from index `from` on) and forget them
async function cmdClose(a) {
  const members = groups.get(a.group) ?? [];
  const from = a.from ?? 0;
  const closing = members.splice(from);
  for (const m of closing) {
    m.echo?.close();
    m.socket.close();
  }
  if (members.length === 0) groups.delete(a.group);
  return { closed: closing.length, left: members.length };
}

const commands = {
  connect: cmdConnect,
  subgroup: cmdSubgroup,
  storm_connect: cmdStormConnect,
  storm_arm: cmdStormArm,
  storm_wait: cmdStormWait,
  join: cmdJoin,
  heard: cmdHeard,
  create_topics: cmdCreateTopics,
  echo_prepare: cmdEchoPrepare,
  echo: cmdEcho,
  fanout: cmdFanout,
  blast: cmdBlast,
  sends: cmdSends,
  post: cmdPost,
  reactions: cmdReactions,
  backlog: cmdBacklog,
  close: cmdClose,
  ping: async () => ({ pid: process.pid }),
};

const lines = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on("line", (line) => {
  queue = queue.then(async () => {
    let request;
    try {
      request = JSON.parse(line);
      const run = commands[request.cmd];
      if (!run) throw new Error(`unknown command ${request.cmd}`);
      const result = await run(request);
      process.stdout.write(`${JSON.stringify({ id: request.id, ok: true, ...result })}\n`);
    } catch (err) {
      process.stdout.write(`${JSON.stringify({ id: request?.id ?? null, ok: false, error: String(err?.stack ?? err) })}\n`);
    }
  });
});
lines.on("close", () => {
  queue.then(() => {
    for (const members of groups.values()) for (const m of members) m.socket.close();
    process.exit(0);
  });
});
