// The node's HTTP port: /status (JSON: the node's status plus transport counters),
// /healthz (200 when the node runs and knows a leader, 503 otherwise, with the reason) and
// /metrics (Prometheus text). Read-only; anything else is 404.

import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { RaftNode } from "../node/node.js";
import type { TransportStats } from "../transport/transport.js";

export async function startHttp(host: string, port: number, node: RaftNode, transport: TransportStats, registry: Registry): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const url = (req.url ?? "/").split("?")[0];
    const send = (code: number, type: string, body: string) => {
      res.writeHead(code, { "content-type": type });
      res.end(body);
    };
    if (req.method !== "GET") return send(405, "text/plain", "method not allowed\n");
    try {
      if (url === "/status") {
        return send(200, "application/json", JSON.stringify({ ...node.status(), leader: node.leader(), clusterId: node.clusterId, transport }, null, 2));
      }
      if (url === "/healthz") {
        const fatal = node.fatal();
        if (fatal) return send(503, "text/plain", `stopped: ${fatal.message}\n`);
        const leader = node.leader();
        if (leader.id === 0) return send(503, "text/plain", "no leader known\n");
        return send(200, "text/plain", `ok (leader ${leader.id})\n`);
      }
      if (url === "/metrics") {
        registry.metrics().then(
          (text) => send(200, registry.contentType, text),
          (err: unknown) => send(500, "text/plain", `${(err as Error).message}\n`),
        );
        return;
      }
      return send(404, "text/plain", "not found\n");
    } catch (err) {
      return send(500, "text/plain", `${(err as Error).message}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
