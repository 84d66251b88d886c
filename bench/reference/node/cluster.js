// Node's cluster mode, the reference for `parley serve --workers N` (python -m bench.workers):
// a node:cluster primary and N workers on one port, each worker a socket.io 4.8 Server with the
// app of server.js (./app.js), WebSocket only, rooms shared through @socket.io/redis-adapter.
//
//   node cluster.js [PORT] [WORKERS]    PORT 0 (default) picks a free port; WORKERS default 3.
//   env REDIS_URL (default redis://127.0.0.1:6379/0), ADAPTER_KEY (the adapter's channel prefix,
//   default socket.io-<random>: a run of its own never hears another's broadcasts).
//
// The port is printed on stdout once every worker listens. The primary accepts and hands each
// connection to a worker in turn (node:cluster's round-robin, the default on Linux): WebSocket
// needs no stickiness, so any worker may hold any socket. A worker that dies ends the cluster
// (exit 1): a bench must not go on with fewer workers than it says.
import cluster from "node:cluster";
import crypto from "node:crypto";
import http from "node:http";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import { Server } from "socket.io";
import { attach } from "./app.js";

const port = Number(process.argv[2] ?? 0);
const workers = Number(process.argv[3] ?? 3);

if (cluster.isPrimary) {
  const key = process.env.ADAPTER_KEY ?? `socket.io-${crypto.randomBytes(4).toString("hex")}`;
  let listening = 0;
  let stopping = false;
  for (let i = 0; i < workers; i += 1) {
    cluster.fork({ ADAPTER_KEY: key });
  }
  cluster.on("listening", (_worker, address) => {
    listening += 1;
    if (listening === workers) process.stdout.write(`${address.port}\n`);
  });
  cluster.on("exit", (worker, code, signal) => {
    if (stopping) return;
    process.stderr.write(`cluster.js: worker ${worker.process.pid} exited (${code ?? signal}): stopping\n`);
    stopping = true;
    for (const other of Object.values(cluster.workers)) other?.kill("SIGTERM");
    process.exit(1);
  });
  for (const signal of ["SIGTERM", "SIGINT"]) {
    process.on(signal, () => {
      stopping = true;
      for (const worker of Object.values(cluster.workers)) worker?.kill("SIGTERM");
      process.exit(0);
    });
  }
} else {
  const pub = createClient({ url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0" });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  const httpServer = http.createServer((req, res) => {
    if (req.url === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
      return;
    }
    res.writeHead(404).end();
  });
  const io = new Server(httpServer, {
    transports: ["websocket"],
    perMessageDeflate: false,
    httpCompression: false,
    cors: { origin: "*" },
    // bench.workers --ping-interval: the heartbeat's cost per round, read off the idle CPU
    pingInterval: Number(process.env.PING_INTERVAL_MS ?? 25000),
    adapter: createAdapter(pub, sub, { key: process.env.ADAPTER_KEY }),
  });
  attach(io);
  // Every worker asks for the same port: node:cluster gives them the primary's one listening
  // socket (with port 0, the same free port for all).
  httpServer.listen(port, "127.0.0.1");
  for (const signal of ["SIGTERM", "SIGINT"]) {
    process.on(signal, () => {
      io.close();
      Promise.allSettled([pub.quit(), sub.quit()]).finally(() => process.exit(0));
    });
  }
}
