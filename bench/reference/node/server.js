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
import { attach } from "./app.js";

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

attach(io);

httpServer.listen(port, "127.0.0.1", () => {
  process.stdout.write(`${httpServer.address().port}\n`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    io.close();
    process.exit(0);
  });
}
