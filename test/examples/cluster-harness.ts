// An in-process cluster of real NodeServers for tests of generated services: every node runs
// in this process (startNodeServer), with the service's generated state machine, its typed
// gRPC service (`services: typedServices(service)`), a RocksDB data directory under one mkdtemp
// root and gRPC ports reserved at run time on 127.0.0.1.
//
//   const cluster = await startServiceCluster({ service: counterService, stateMachine: () => createStateMachine(handlers) });
//   const leader = await cluster.waitForLeader();
//   await cluster.stopNode(leader);    // server.stop(): the node is gone for good
//   await cluster.waitForConvergence();
//   await cluster.close();             // stops every server, removes the data directories
//
// Callers close the cluster in afterAll/afterEach; `close()` never throws, and is safe to call
// twice or on a cluster whose start failed half-way. Every wait is bounded.
//
// Ports: reservePorts() closes the sockets it bound, so another process may take a port before
// a node binds it; a start that fails to bind is retried on fresh ports and directories.
//
// This module must not spawn processes (test/cluster/harness.ts is the multi-process one).

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { type CompiledService, type StateMachine, typedMethodPath, typedServices } from "raftgen/runtime/codegen-v1";
import { type NodeServer, startNodeServer } from "../../runtime/server/server.js";
import { type NodeTuning, TEST_TUNING, reservePorts, sleep, waitFor } from "../cluster/harness.js";

export { sleep, waitFor };

export interface ServiceClusterOptions {
  /** The generated `<service>Service` (from generated/descriptor.ts). */
  service: CompiledService;
  /** A new state machine for each node (the generated `createStateMachine(handlers)`). */
  stateMachine: () => StateMachine;
  /** Number of founding members, ids 1..size (default 3). */
  size?: number;
  /** Merged over TEST_TUNING. */
  tuning?: NodeTuning;
  clusterId?: string;
}

export interface ServiceCluster {
  readonly clusterId: string;
  /** Data directories live under here. */
  readonly root: string;
  /** Node ids, 1..size. */
  readonly ids: readonly number[];
  /** gRPC address of every node (stopped ones too), by id. */
  address(id: number): string;
  /** Every node's gRPC address, in id order. */
  readonly endpoints: readonly string[];
  /** The server of a running node (throws for a stopped one). */
  server(id: number): NodeServer;
  /** Ids of the nodes still running. */
  live(): number[];
  /** The one running node in role Leader, or undefined. */
  leader(): number | undefined;
  /** Wait until one running node leads and every other running node knows it. */
  waitForLeader(timeoutMs?: number): Promise<number>;
  /** Wait until every running node has applied everything the leader committed. */
  waitForConvergence(timeoutMs?: number): Promise<void>;
  /** server.stop() of one node; it stays down. */
  stopNode(id: number): Promise<void>;
  /** Stop every server and remove the data directories. Never throws. */
  close(): Promise<void>;
}

const BIND_ATTEMPTS = 3;

/** Start a cluster and wait for its first leader. On failure everything started is cleaned up. */
export async function startServiceCluster(o: ServiceClusterOptions): Promise<ServiceCluster> {
  const size = o.size ?? 3;
  const clusterId = o.clusterId ?? `examples-${o.service.descriptor.service.toLowerCase()}`;
  const tuning: NodeTuning = { ...TEST_TUNING, ...o.tuning };
  const root = await mkdtemp(path.join(tmpdir(), "raftgen-examples-"));
  let lastError: unknown;
  for (let attempt = 1; attempt <= BIND_ATTEMPTS; attempt++) {
    const ports = await reservePorts(size);
    const peers = new Map(ports.map((p, i) => [i + 1, `127.0.0.1:${p}`] as [number, string]));
    const servers = new Map<number, NodeServer>();
    try {
      const started = await Promise.allSettled(
        ports.map((grpcPort, i) =>
          startNodeServer({
            id: i + 1,
            clusterId,
            dataDir: path.join(root, `try${attempt}`, `n${i + 1}`),
            grpcPort,
            httpPort: 0,
            peers,
            stateMachine: o.stateMachine(),
            services: typedServices(o.service),
            node: tuning,
          }).then((s) => servers.set(i + 1, s)),
        ),
      );
      const failed = started.find((r) => r.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
      const cluster = new InProcessCluster(clusterId, root, peers, servers);
      await cluster.waitForLeader();
      return cluster;
    } catch (err) {
      lastError = err;
      await Promise.all([...servers.values()].map((s) => s.stop().catch(() => undefined)));
      if (!/EADDRINUSE|address already in use|No address added/i.test(String((err as Error)?.message ?? err))) break;
    }
  }
  await rm(root, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
  throw lastError;
}

class InProcessCluster implements ServiceCluster {
  readonly ids: readonly number[];
  readonly endpoints: readonly string[];
  private closing: Promise<void> | undefined;

  constructor(
    readonly clusterId: string,
    readonly root: string,
    private readonly peers: ReadonlyMap<number, string>,
    private readonly servers: Map<number, NodeServer>,
  ) {
    this.ids = [...peers.keys()].sort((a, b) => a - b);
    this.endpoints = this.ids.map((id) => peers.get(id)!);
  }

  address(id: number): string {
    const a = this.peers.get(id);
    if (!a) throw new Error(`no node ${id}`);
    return a;
  }

  server(id: number): NodeServer {
    const s = this.servers.get(id);
    if (!s) throw new Error(`node ${id} is not running`);
    return s;
  }

  live(): number[] {
    return this.ids.filter((id) => this.servers.has(id));
  }

  leader(): number | undefined {
    const leaders = this.live().filter((id) => this.server(id).node.isLeader());
    if (leaders.length !== 1) return undefined;
    const term = this.server(leaders[0]!).node.status().hardState.term;
    return this.live().every((id) => this.server(id).node.status().hardState.term <= term) ? leaders[0] : undefined;
  }

  waitForLeader(timeoutMs = 15_000): Promise<number> {
    return waitFor(
      "a leader every running node knows",
      () => {
        const l = this.leader();
        return l !== undefined && this.live().every((id) => this.server(id).node.leader().id === l) ? l : undefined;
      },
      { timeoutMs, intervalMs: 20 },
    );
  }

  async waitForConvergence(timeoutMs = 15_000): Promise<void> {
    await waitFor(
      `nodes ${this.live().join(",")} to apply the leader's commit index`,
      () => {
        const l = this.leader();
        if (l === undefined) return false;
        const commit = this.server(l).node.status().hardState.commit;
        return this.live().every((id) => this.server(id).node.status().applied >= commit);
      },
      { timeoutMs, intervalMs: 20 },
    );
  }

  async stopNode(id: number): Promise<void> {
    const s = this.server(id);
    this.servers.delete(id);
    await s.stop();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const servers = [...this.servers.values()];
      this.servers.clear();
      await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
      await rm(this.root, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
    })();
    return this.closing;
  }
}

/**
 * After the running nodes converge, the answer of `read` from each node alone: a client made
 * for that node's endpoint only (pass `stale` in the reads, so the node answers from what it
 * applied itself). Keyed by node id; each client is closed.
 */
export async function readEachNode<C extends { close(): void }, T>(cluster: ServiceCluster, make: (endpoint: string) => C, read: (c: C) => Promise<T>): Promise<Map<number, T>> {
  await cluster.waitForConvergence();
  const out = new Map<number, T>();
  for (const id of cluster.live()) {
    const c = make(cluster.address(id));
    try {
      out.set(id, await read(c));
    } finally {
      c.close();
    }
  }
  return out;
}

/** Await a promise that should reject; return its error (fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error("expected the call to fail, and it succeeded");
}

/**
 * Call one method of the spec's typed gRPC service (`/<package>.<Service>/<Rpc>`) on one node,
 * as a gRPC client in another language would: Input message bytes in, Output bytes out.
 */
export async function callTyped<O>(service: CompiledService, address: string, kind: "command" | "query", name: string, input: unknown): Promise<O> {
  const m = (kind === "command" ? service.commands : service.queries).get(name);
  if (!m) throw new Error(`no ${kind} ${name}`);
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  try {
    const bytes = await new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest(
        typedMethodPath(service, m),
        (b: Uint8Array) => Buffer.from(b),
        (b: Buffer) => b,
        service.encode(m.input, input),
        new grpc.Metadata(),
        { deadline: Date.now() + 10_000 },
        (err, reply) => (err ? reject(err) : resolve(reply!)),
      ),
    );
    return service.decode<O>(m.output, bytes);
  } finally {
    client.close();
  }
}
