// Shared by the `raftgen status` and `raftgen call` tests: a small spec compiled from text (with
// its raft.lock.json, as `raftgen build` writes it), plain-object handlers, and a cluster of
// real NodeServers in this process (RocksDB under one mkdtemp root, gRPC on ports reserved at
// run time on 127.0.0.1). A start that cannot bind its ports is retried on fresh ones.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type CompiledService, compileService, createServiceStateMachine, typedServices } from "raftgen/runtime/codegen-v1";
import { descriptorOf } from "../../generator/descriptor.js";
import { specModel } from "../../generator/spec-model.js";
import type { CliIO } from "../../generator/cli.js";
import { type NodeServer, startNodeServer } from "../../runtime/server/server.js";
import { type NodeTuning, TEST_TUNING, reservePorts, waitFor } from "../cluster/harness.js";

export const STORE_SPEC = `# A small service that uses every kind of value the CLI converts.
service: Store
package: store

types:
  Color: { enum: [RED, GREEN, BLUE] }
  Item:
    fields:
      name: string
      count: uint64
      delta: int64
      color: Color
      blob: bytes
      labels: "map<string, string>"
      ttl_ms: uint32

state:
  items: { key: string, value: Item }

commands:
  put:
    input: Item
    output: { item: Item, index: uint64 }
  remove:
    input: { name: string }
  explode:
    input: { reason: string }

queries:
  get:
    input: { name: string }
    output: { item: { type: Item, optional: true } }
  total:
    output: { count: uint64 }
`;

/** The handlers, as a user would write them (plain functions; bigint for 64-bit values). */
export const storeHandlers = {
  commands: {
    put(item: { name: string }, { state, entry }: { state: { items: { put(k: string, v: unknown): void } }; entry: { index: number } }) {
      state.items.put(item.name, item);
      return { item, index: BigInt(entry.index) };
    },
    remove({ name }: { name: string }, { state }: { state: { items: { delete(k: string): boolean } } }) {
      state.items.delete(name);
    },
    explode({ reason }: { reason: string }) {
      throw new Error(`refused: ${reason}`);
    },
  },
  queries: {
    get({ name }: { name: string }, { state }: { state: { items: { get(k: string): unknown } } }) {
      return { item: state.items.get(name) };
    },
    total(_input: unknown, { state }: { state: { items: { values(): Iterable<{ count: bigint }> } } }) {
      let count = 0n;
      for (const item of state.items.values()) count += item.count;
      return { count };
    },
  },
};

/** The spec's compiled service and the text of its raft.lock.json. */
export function compileStore(): { service: CompiledService; lockText: string } {
  const r = specModel(STORE_SPEC, { version: "0.0.0-test" });
  if (!r.model || r.lockText === undefined) throw new Error(`test spec has issues: ${JSON.stringify(r.issues)}`);
  return { service: compileService(descriptorOf(r.model)), lockText: r.lockText };
}

export interface TestCluster {
  root: string;
  /** raft.yaml (with raft.lock.json beside it). */
  specPath: string;
  servers: NodeServer[];
  endpoints: string[];
  leader(): NodeServer | undefined;
  waitForLeader(): Promise<NodeServer>;
  close(): Promise<void>;
}

const TUNING: NodeTuning = { ...TEST_TUNING, tickMs: 20 };

export async function startStoreCluster(size = 3, tuning: NodeTuning = {}): Promise<TestCluster> {
  const { service, lockText } = compileStore();
  const root = await mkdtemp(path.join(tmpdir(), "raftgen-cli-"));
  const specPath = path.join(root, "raft.yaml");
  await writeFile(specPath, STORE_SPEC);
  await writeFile(path.join(root, "raft.lock.json"), lockText);
  let servers: NodeServer[] = [];
  for (let attempt = 1; ; attempt++) {
    const ports = await reservePorts(size);
    const peers = new Map(ports.map((p, i) => [i + 1, `127.0.0.1:${p}`] as [number, string]));
    const started = await Promise.allSettled(
      ports.map((grpcPort, i) =>
        startNodeServer({
          id: i + 1,
          clusterId: "cli-test",
          dataDir: path.join(root, `try${attempt}`, `n${i + 1}`),
          grpcPort,
          httpPort: 0,
          peers,
          stateMachine: createServiceStateMachine(service, storeHandlers),
          services: typedServices(service),
          node: { ...TUNING, ...tuning },
        }),
      ),
    );
    servers = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    const failed = started.find((s) => s.status === "rejected");
    if (!failed) break;
    for (const s of servers) await s.stop();
    if (attempt >= 3) {
      await rm(root, { recursive: true, force: true });
      throw failed.reason;
    }
  }
  const leader = () => servers.find((s) => s.node.isLeader());
  return {
    root,
    specPath,
    servers,
    endpoints: servers.map((s) => s.grpcAddress),
    leader,
    waitForLeader: () =>
      waitFor("a leader known to every node", () => {
        const l = leader();
        return l && servers.every((s) => s.node.leader().id === l.node.id) ? l : undefined;
      }),
    async close() {
      for (const s of servers) await s.stop().catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A CliIO that keeps what was written. */
export function captureIO(): CliIO & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    stdout(s: string) {
      io.out += s;
    },
    stderr(s: string) {
      io.err += s;
    },
  };
  return io;
}

/** A port nothing listens on (reserved, then released). */
export async function closedEndpoint(): Promise<string> {
  const [port] = await reservePorts(1);
  return `127.0.0.1:${port}`;
}
