// Reference Socket.IO server for `python -m bench.compare`: the same small app
// as ../plain_sio.py, on Node's socket.io 4.8.
//
//   node server.js [PORT]     PORT 0 (default) picks a free port; the port is printed on stdout.
//
// On connection it emits `session` (parity with Parley); `echo` acks the payload
// as is; `join` {room} joins the room (acked); `publish` {room, payload} emits
// `message` payload to the room (acked), like Parley's topic fan-out.
// Reactions (the reaction storm): `post` {room} gives a new message id in that room
// (nothing is stored but the id's room); `reaction:add` / `reaction:remove` {id, emoji}
// keep a per-message map emoji -> set of users (the socket id is the user), idempotent as
// Parley's, ack {id, reactions} and emit `reaction:updated` {topic, id, reactions} to the
// room, encoded once for all (no per-receiver `me`: it is always false here).
import http from "node:http";
import { Server } from "socket.io";

const port = Number(process.argv[2] ?? 0);
const httpServer = http.createServer((req, res) => {
  if (req.url === "/healthz") {
    res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    return;
  }
  res.writeHead(404).end();
});
const io = new Server(httpServer, {
  transports: ["websocket", "polling"],
  perMessageDeflate: false,
  httpCompression: false,
  cors: { origin: "*" },
});

const messageRooms = new Map(); // message id -> room
const reactions = new Map(); // message id -> Map(emoji -> Set(user)), emoji in order of first reaction
let lastId = 0;

function reactionList(byEmoji) {
  return [...byEmoji].map(([emoji, users]) => ({
    emoji,
    count: users.size,
    users: [...users].slice(0, 10),
    me: false,
  }));
}

function react(socket, data, adding) {
  const id = data?.id;
  const room = messageRooms.get(id);
  const emoji = data?.emoji;
  if (room === undefined) return { ok: false, error: { code: "not_found", message: "no such message" } };
  if (typeof emoji !== "string" || emoji.length < 1 || emoji.length > 32 || /\s/.test(emoji)) {
    return { ok: false, error: { code: "invalid", message: "bad emoji" } };
  }
  const byEmoji = reactions.get(id);
  let users = byEmoji.get(emoji);
  let changed = false;
  if (adding) {
    if (!users) {
      if (byEmoji.size >= 20) return { ok: false, error: { code: "invalid", message: "too many emoji" } };
      users = new Set();
      byEmoji.set(emoji, users);
    }
    changed = !users.has(socket.id);
    users.add(socket.id);
  } else if (users) {
    changed = users.delete(socket.id);
    if (users.size === 0) byEmoji.delete(emoji);
  }
  const list = reactionList(byEmoji);
  if (changed) io.to(room).emit("reaction:updated", { topic: room, id, reactions: list });
  return { ok: true, data: { id, reactions: list } };
}

io.on("connection", (socket) => {
  socket.emit("session", { user: { username: socket.id }, server_time: new Date().toISOString() });
  socket.on("echo", (payload, ack) => {
    if (typeof ack === "function") ack(payload);
  });
  socket.on("join", (data, ack) => {
    socket.join(String(data?.room));
    if (typeof ack === "function") ack({ ok: true });
  });
  socket.on("publish", (data, ack) => {
    io.to(String(data?.room)).emit("message", data?.payload);
    if (typeof ack === "function") ack({ ok: true });
  });
  socket.on("post", (data, ack) => {
    const id = ++lastId;
    messageRooms.set(id, String(data?.room));
    reactions.set(id, new Map());
    if (typeof ack === "function") ack({ ok: true, data: { id } });
  });
  socket.on("reaction:add", (data, ack) => {
    const answer = react(socket, data, true);
    if (typeof ack === "function") ack(answer);
  });
  socket.on("reaction:remove", (data, ack) => {
    const answer = react(socket, data, false);
    if (typeof ack === "function") ack(answer);
  });
});

httpServer.listen(port, "127.0.0.1", () => {
  process.stdout.write(`${httpServer.address().port}\n`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    io.close();
    process.exit(0);
  });
}
