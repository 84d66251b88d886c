// The reference app of server.js and cluster.js (see server.js for what each event does):
// `session` on connect, `echo`, `join`, `publish`, `post`, `reaction:add` / `reaction:remove`.
// attach(io) installs it on one socket.io Server. Under cluster.js each worker has its own copy of
// the reaction state (a message id is known to the worker whose socket posted it); rooms, and so
// `publish`, span the workers through the Redis adapter.

export function attach(io) {
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
}
