// Reference Socket.IO server for `python -m bench.compare`: the same small app
// as ../plain_sio.py, on Node's socket.io 4.8.
//
//   node server.js [PORT]     PORT 0 (default) picks a free port; the port is printed on stdout.
//
// On connection it emits `session` (parity with Parley); `echo` acks the payload
// as is; `join` {room} joins the room (acked); `publish` {room, payload} emits
// `message` payload to the room (acked), like Parley's topic fan-out.
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
