// NodeServer: one raftgen node as a server. It opens the RocksDB data directory (refusing a
// foreign, newer or corrupt one with a clear message), starts the node, and serves one gRPC
// port (RaftTransport + RaftAdmin + the application's StateMachine service + any extra
// services, such as a spec's typed service) and one HTTP port (/status, /healthz, /metrics).
//
// This module composes; the logic lives in runtime/node, runtime/storage, runtime/transport.

import * as grpc from "@grpc/grpc-js";
import { MEMBERS_TABLE, RaftNode, type NodeConfig } from "../node/node.js";
import type { StateMachine } from "../node/state-machine.js";
import { type Logger, discardLogger } from "../raft/index.js";
import { RocksNodeStorage } from "../storage/node-storage.js";
import { GrpcTransport, TRANSPORT_SERVER_OPTIONS, raftTransportDefinition } from "../transport/index.js";
import { startHttp } from "./http.js";
import { createNodeMetrics } from "./metrics.js";
import { adminDefinition, stateMachineDefinition } from "./definitions.js";
import { type GrpcService, NodeGateway, adminService, stateMachineService } from "./services.js";

export interface NodeServerOptions {
  id: number;
  clusterId: string;
  dataDir: string;
  /** Host to bind (default 127.0.0.1). */
  host?: string;
  /** gRPC port; 0 = chosen by the OS. */
  grpcPort: number;
  /** HTTP port; 0 = chosen by the OS. */
  httpPort: number;
  /** Known members: id → gRPC address (founders at bootstrap; any members when joining). */
  peers: ReadonlyMap<number, string>;
  /** Start as a node waiting to be added (no founding membership). */
  join?: boolean;
  stateMachine: StateMachine;
  /**
   * Extra gRPC services to serve on the node's port beside the built-in ones (a spec's typed
   * service). They get the node's gateway, so they share its command path (leader check,
   * forwarding, propose), query path and error mapping. Called once, after the node started.
   */
  services?: (gateway: NodeGateway) => readonly GrpcService[];
  /** Node tuning (tickMs, electionTicks, snapshotEntries, ...). */
  node?: Partial<Omit<NodeConfig, "id" | "clusterId" | "peers" | "logger" | "metrics">>;
  logger?: Logger;
}

export interface NodeServer {
  node: RaftNode;
  grpcAddress: string;
  httpAddress: string;
  stop(): Promise<void>;
}

/** How long stop() lets the calls being answered finish before closing connections. */
const STOP_GRACE_MS = 2_000;

export async function startNodeServer(o: NodeServerOptions): Promise<NodeServer> {
  const host = o.host ?? "127.0.0.1";
  const logger = o.logger ?? discardLogger;
  const storage = await RocksNodeStorage.open(o.dataDir, {
    clusterId: o.clusterId,
    nodeId: o.id,
    create: true,
    voters: o.join ? [] : [...o.peers.keys()],
    tables: [MEMBERS_TABLE, ...o.stateMachine.tables],
  });
  const transport = new GrpcTransport({ clusterId: o.clusterId, nodeId: o.id, logger });
  const metrics = createNodeMetrics();
  let node: RaftNode;
  try {
    node = await RaftNode.start({ ...o.node, id: o.id, clusterId: o.clusterId, peers: o.peers, logger, metrics: metrics.hooks }, storage, transport, o.stateMachine);
  } catch (err) {
    await storage.close().catch(() => undefined);
    throw err;
  }
  metrics.bind(node, transport.stats);

  const server = new grpc.Server(TRANSPORT_SERVER_OPTIONS);
  server.addService(raftTransportDefinition, transport.serviceImplementation());
  let grpcAddress = "";
  const gateway = new NodeGateway(node);
  server.addService(adminDefinition, adminService(gateway, () => grpcAddress));
  server.addService(stateMachineDefinition, stateMachineService(gateway));
  let http: Awaited<ReturnType<typeof startHttp>> | undefined;
  try {
    for (const extra of o.services?.(gateway) ?? []) server.addService(extra.definition, extra.implementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${host}:${o.grpcPort}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    grpcAddress = `${host}:${port}`;
    http = await startHttp(host, o.httpPort, node, transport.stats, metrics.registry);
  } catch (err) {
    server.forceShutdown();
    gateway.close();
    await node.stop();
    throw err;
  }
  const httpServer = http;
  let stopping: Promise<void> | undefined;
  return {
    node,
    grpcAddress,
    httpAddress: `${host}:${httpServer.port}`,
    stop() {
      stopping ??= (async () => {
        // No new calls from here on; the calls being answered get up to STOP_GRACE_MS to finish.
        // Then the connections are closed: the peers' transport streams never end by themselves,
        // so waiting for tryShutdown alone would always take the whole grace period.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(finish, STOP_GRACE_MS);
          let done = false;
          function finish(): void {
            if (done) return;
            done = true;
            clearTimeout(timer);
            server.forceShutdown();
            resolve();
          }
          server.tryShutdown(finish);
          void gateway.inflight.drained().then(finish);
        });
        gateway.close();
        await new Promise<void>((resolve) => httpServer.server.close(() => resolve()));
        await node.stop();
      })();
      return stopping;
    },
  };
}
