// Spec evolution without losing data (issue 7, Proof 7). A cluster's rows, log entries and
// snapshots are protobuf bytes encoded with the spec of the day; after compatible edits the
// next build must still read every one of them, and edits that would misread them must be
// refused.
//
// 1. evolution-specs/v1.yaml is built with generate() (in memory, lock included) and run on
//    real NodeServers (RocksDB in mkdtemp directories, gRPC on 127.0.0.1): nodes 1 and 2 of a
//    3-node cluster write rows and log entries through a ServiceClient, then stop. v2.yaml
//    (fields added, also in the middle, reordered, widened, one optional, one removed; a
//    table, a command, queries and an enum value added) is built with v1's lock, and the
//    nodes restart on the same data directories with v2's descriptor, with node 3 joining
//    empty: it catches up either by the log (v1-encoded entries re-applied by v2's state
//    machine) or by a snapshot (v1-encoded rows, when the log was compacted). Every old row
//    is read back from every node, new fields at their defaults, and v2 writes new data.
// 2. One refused change per kind through the CLI (`main(["build", spec])` in a temporary
//    project with v1's spec and lock): exit 1, the exact `raft.yaml:LINE:COL: message` line,
//    nothing written; then with --allow-breaking: exit 0 and the lock updated.
//
// Handlers are plain objects (the generated types are not needed to run them). Nothing here
// may outlive a test: servers are stopped and directories removed in finally blocks.

import { copyFileSync, readFileSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { main } from "../../generator/cli.js";
import { descriptorOf } from "../../generator/emit/descriptor.js";
import { type GenerateResult, generate } from "../../generator/index.js";
import { raftgenPackage } from "../../generator/version.js";
import {
  type CommandContext,
  type CompiledService,
  type QueryContext,
  type ReadonlyTable,
  type ServiceDescriptor,
  ServiceClient,
  type Table,
  compileService,
  createServiceStateMachine,
  typedServices,
} from "raftgen/runtime/codegen-v1";
import { type NodeServer, type NodeServerOptions, startNodeServer } from "../../runtime/server/server.js";
import { reservePorts } from "../cluster/harness.js";
import { pictureDiff, pictureOf } from "./project-helpers.js";

const SPECS = join(import.meta.dirname, "evolution-specs");
const VERSION = raftgenPackage().version;
const spec = (name: string) => readFileSync(join(SPECS, name), "utf8");
const U64_MAX = 2n ** 64n - 1n;

// ---------------------------------------------------------------------------------------------
// The two versions of the service, and their handlers

type StatusV1 = "ACTIVE" | "RETIRED";
type StatusV2 = "ACTIVE" | "PAUSED" | "RETIRED";

interface ItemV1 {
  name: string;
  count: number;
  price: number;
  tags: string[];
  status: StatusV1;
  note: string;
  ownerId: number;
}

interface ItemV2 {
  tags: string[];
  name: string;
  color: string;
  count: bigint;
  price: number;
  status: StatusV2;
  ownerId: bigint;
  owner?: string;
  labels: Record<string, string>;
}

interface StateV1 {
  items: Table<string, ItemV1>;
  totals: Table<bigint, number>;
}
type ReadStateV1 = { [K in keyof StateV1]: StateV1[K] extends Table<infer K2, infer V> ? ReadonlyTable<K2, V> : never };

interface StateV2 {
  items: Table<string, ItemV2>;
  totals: Table<bigint, bigint>;
  audit: Table<bigint, string>;
}
type ReadStateV2 = { [K in keyof StateV2]: StateV2[K] extends Table<infer K2, infer V> ? ReadonlyTable<K2, V> : never };

const handlersV1 = {
  commands: {
    putItem(input: { id: string; item: ItemV1 }, { state }: CommandContext<StateV1>): undefined {
      state.items.put(input.id, input.item);
      return undefined;
    },
    add(input: { key: bigint; by: number }, { state }: CommandContext<StateV1>): { total: number } {
      const total = (state.totals.get(input.key) ?? 0) + input.by;
      state.totals.put(input.key, total);
      return { total };
    },
  },
  queries: {
    getItem(input: { id: string }, { state }: QueryContext<ReadStateV1>): { item?: ItemV1 } {
      const item = state.items.get(input.id);
      return item === undefined ? {} : { item };
    },
    getTotal(input: { key: bigint }, { state }: QueryContext<ReadStateV1>): { total: number } {
      return { total: state.totals.get(input.key) ?? 0 };
    },
  },
};

/** v2's handlers do for v1's inputs (source and reason empty) exactly what v1's did. */
const handlersV2 = {
  commands: {
    putItem(input: { id: string; source: string; item: ItemV2 }, { state, entry }: CommandContext<StateV2>): undefined {
      state.items.put(input.id, input.item);
      if (input.source) state.audit.put(BigInt(entry.index), `put ${input.id} from ${input.source}`);
      return undefined;
    },
    add(input: { key: bigint; reason: string; by: bigint }, { state, entry }: CommandContext<StateV2>): { total: bigint } {
      const total = (state.totals.get(input.key) ?? 0n) + input.by;
      state.totals.put(input.key, total);
      if (input.reason) state.audit.put(BigInt(entry.index), `add ${input.by} to ${input.key}: ${input.reason}`);
      return { total };
    },
    retire(input: { id: string }, { state }: CommandContext<StateV2>): { found: boolean } {
      const item = state.items.get(input.id);
      if (item === undefined) return { found: false };
      state.items.put(input.id, { ...item, status: "RETIRED" });
      return { found: true };
    },
  },
  queries: {
    getItem(input: { id: string }, { state }: QueryContext<ReadStateV2>): { item?: ItemV2 } {
      const item = state.items.get(input.id);
      return item === undefined ? {} : { item };
    },
    getTotal(input: { key: bigint }, { state }: QueryContext<ReadStateV2>): { total: bigint } {
      return { total: state.totals.get(input.key) ?? 0n };
    },
    countItems(input: { status: StatusV2 }, { state }: QueryContext<ReadStateV2>): { count: bigint } {
      let count = 0n;
      for (const item of state.items.values()) if (item.status === input.status) count++;
      return { count };
    },
    auditLines(input: { since: bigint }, { state }: QueryContext<ReadStateV2>): { lines: string[] } {
      return { lines: [...state.audit.entries()].filter(([k]) => k >= input.since).map(([, v]) => v) };
    },
  },
};

/** What v1 writes: two puts of "a" (the second wins), extreme values, both enum values. */
const V1_ITEMS: Record<string, ItemV1> = {
  a: { name: "apple", count: 7, price: 1.25, tags: ["fruit", "red"], status: "ACTIVE", note: "crisp", ownerId: -5 },
  b: { name: "bolt", count: 4_294_967_295, price: -0.5, tags: [], status: "RETIRED", note: "", ownerId: 2_147_483_647 },
  c: { name: "", count: 0, price: 0, tags: ["x"], status: "RETIRED", note: "n", ownerId: -2_147_483_648 },
};
const V1_FIRST_A: ItemV1 = { name: "apricot", count: 1, price: 9, tags: ["old"], status: "RETIRED", note: "first", ownerId: 1 };

/** How v2 reads a v1 item: the same values (widened), new fields at their defaults, note gone. */
function asV2(item: ItemV1): ItemV2 {
  return { tags: item.tags, name: item.name, color: "", count: BigInt(item.count), price: item.price, status: item.status, ownerId: BigInt(item.ownerId), labels: {} };
}

/** v1's totals: key -> the adds applied to it, in order. */
const V1_ADDS: [bigint, number][] = [
  [1n, 5],
  [U64_MAX, 4_294_967_295],
  [1n, 7],
];
const V1_TOTALS = new Map<bigint, number>([
  [1n, 12],
  [U64_MAX, 4_294_967_295],
]);

interface Built {
  result: GenerateResult;
  service: CompiledService;
}

function build(text: string, lockText?: string): Built {
  const result = generate(text, { specFile: "raft.yaml", version: VERSION, ...(lockText !== undefined ? { lockText } : {}) });
  expect(result.issues).toEqual([]);
  return { result, service: compileService(descriptorOf(result.model!) as unknown as ServiceDescriptor) };
}

/** message -> field -> number, from a compiled service's descriptor. */
function numbersOf(service: CompiledService): Record<string, Record<string, number>> {
  return Object.fromEntries(
    Object.entries(service.descriptor.messages).map(([name, m]) => [name, Object.fromEntries(m.fields.map((f) => [f.name, f.no]))]),
  );
}

// ---------------------------------------------------------------------------------------------
// Nodes

const TUNING = { tickMs: 20, electionTicks: 10, heartbeatTicks: 2, proposalTimeoutMs: 5_000, readTimeoutMs: 5_000 };

async function waitFor<T>(what: string, f: () => T | undefined | false, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Cluster {
  root: string;
  ports: number[];
  peers: Map<number, string>;
  servers: Map<number, NodeServer>;
}

type Tuning = NonNullable<NodeServerOptions["node"]>;

async function startNode(c: Cluster, id: number, built: Built, handlers: object, node: Tuning): Promise<NodeServer> {
  const s = await startNodeServer({
    id,
    clusterId: "evolution",
    dataDir: join(c.root, `n${id}`),
    grpcPort: c.ports[id - 1]!,
    httpPort: 0,
    peers: c.peers,
    stateMachine: createServiceStateMachine(built.service, handlers as { commands: object; queries: object }),
    services: typedServices(built.service),
    node: { ...TUNING, ...node },
  });
  c.servers.set(id, s);
  return s;
}

async function stopAll(c: Cluster): Promise<void> {
  const all = [...c.servers.values()];
  c.servers.clear();
  await Promise.all(all.map((s) => s.stop()));
}

function leaderOf(c: Cluster): NodeServer | undefined {
  return [...c.servers.values()].find((s) => s.node.isLeader());
}

/** A client of one node only: its queries are served by that node's own state. */
function clientOf(c: Cluster, id: number, built: Built): ServiceClient {
  return new ServiceClient(built.service, { endpoints: [c.peers.get(id)!], deadlineMs: 15_000 });
}

// ---------------------------------------------------------------------------------------------

describe("data written with v1 is read back with v2", () => {
  let v1: Built;
  let v2: Built;

  beforeAll(() => {
    v1 = build(spec("v1.yaml"));
    v2 = build(spec("v2.yaml"), v1.result.lockText);
  });

  test("v2 builds with v1's lock: no issues, surviving fields keep their numbers, new ones take new numbers", () => {
    const before = numbersOf(v1.service);
    const after = numbersOf(v2.service);
    expect(before.Item).toEqual({ name: 1, count: 2, price: 3, tags: 4, status: 5, note: 6, owner_id: 7 });
    // Reordered, inserted in the middle, widened: every surviving field kept its number; note's 6 is never reused.
    expect(after.Item).toEqual({ name: 1, count: 2, price: 3, tags: 4, status: 5, owner_id: 7, color: 8, owner: 9, labels: 10 });
    for (const [message, fields] of Object.entries(before)) {
      for (const [field, no] of Object.entries(fields)) {
        if (after[message]?.[field] !== undefined) expect(after[message]![field], `${message}.${field}`).toBe(no);
      }
    }
    expect(after.PutItemInput).toEqual({ id: 1, item: 2, source: 3 });
    expect(after.AddInput).toEqual({ key: 1, by: 2, reason: 3 });
    // PAUSED, inserted between ACTIVE and RETIRED, takes a new number; RETIRED keeps 1.
    expect(v2.service.descriptor.enums.Status!.values).toEqual({ ACTIVE: 0, RETIRED: 1, PAUSED: 2 });
    const lock = JSON.parse(v2.result.lockText!) as { messages: Record<string, { removed: Record<string, unknown> }> };
    expect(lock.messages.Item!.removed).toEqual({ note: { number: 6, type: "string", repeated: false } });
    // Building v2 again with its own lock changes nothing.
    const again = generate(spec("v2.yaml"), { specFile: "raft.yaml", version: VERSION, lockText: v2.result.lockText! });
    expect(again.issues).toEqual([]);
    expect(again.lockText).toBe(v2.result.lockText);
    expect(again.files).toEqual(v2.result.files);
  });

  test.each<{ via: "log" | "snapshot"; node: Tuning }>([
    { via: "log", node: { snapshotEntries: 100_000 } },
    { via: "snapshot", node: { snapshotEntries: 3, catchUpEntries: 0 } },
  ])("restarted with v2, every node reads v1's rows; node 3 catches up by the $via from v1's entries", { timeout: 120_000 }, async ({ via, node }) => {
    const root = await mkdtemp(join(tmpdir(), "raftgen-evolution-"));
    const ports = await reservePorts(3);
    const c: Cluster = { root, ports, peers: new Map(ports.map((p, i) => [i + 1, `127.0.0.1:${p}`])), servers: new Map() };
    const clients: ServiceClient[] = [];
    const client = (id: number | "any", built: Built) => {
      const cl = id === "any" ? new ServiceClient(built.service, { endpoints: [...c.peers.values()], deadlineMs: 15_000 }) : clientOf(c, id, built);
      clients.push(cl);
      return cl;
    };
    try {
      // ---- v1: nodes 1 and 2 (a quorum of 3) write rows and log entries.
      await startNode(c, 1, v1, handlersV1, node);
      await startNode(c, 2, v1, handlersV1, node);
      await waitFor("a v1 leader", () => leaderOf(c));
      const w1 = client("any", v1);
      const v1FirstIndex = leaderOf(c)!.node.status().lastIndex + 1;
      await w1.command("put_item", { id: "a", item: V1_FIRST_A });
      for (const [id, item] of Object.entries(V1_ITEMS)) await w1.command("put_item", { id, item });
      for (const [key, by] of V1_ADDS) await w1.command("add", { key, by });
      for (const [id, item] of Object.entries(V1_ITEMS)) expect(await w1.query("get_item", { id })).toEqual({ item });
      for (const [key, total] of V1_TOTALS) expect(await w1.query("get_total", { key })).toEqual({ total });
      const v1LastIndex = leaderOf(c)!.node.status().lastIndex;
      await stopAll(c);

      // ---- v2: the same data directories; node 3 starts empty and catches up from the others.
      await startNode(c, 1, v2, handlersV2, node);
      await startNode(c, 2, v2, handlersV2, node);
      const leader = await waitFor("a v2 leader", () => leaderOf(c));
      if (via === "snapshot") {
        // v1's first entries are compacted away: node 3 can only get them as a snapshot of v1 rows.
        expect(leader.node.status().firstIndex).toBeGreaterThan(v1FirstIndex);
      } else {
        expect(leader.node.status().firstIndex).toBeLessThanOrEqual(v1FirstIndex);
      }
      const n3 = await startNode(c, 3, v2, handlersV2, node);
      await waitFor("node 3 to apply v1's entries", () => n3.node.status().applied >= v1LastIndex);
      // By the log: node 3 holds every v1 entry and applied each with v2's state machine.
      if (via === "log") expect(n3.node.status().firstIndex).toBeLessThanOrEqual(v1FirstIndex);
      else expect(n3.node.status().firstIndex).toBeGreaterThan(v1FirstIndex);

      // Every old row, from every node: old values intact, widened; new fields at their defaults.
      for (const id of [1, 2, 3]) {
        const r = client(id, v2);
        for (const [key, item] of Object.entries(V1_ITEMS)) {
          const got = (await r.query<{ item?: ItemV2 }>("get_item", { id: key })).item;
          expect(got, `node ${id}, item ${key}`).toEqual(asV2(item));
          expect(got!.owner, `node ${id}, item ${key}: optional field absent`).toBeUndefined();
        }
        for (const [key, total] of V1_TOTALS) expect(await r.query("get_total", { key }), `node ${id}, total ${key}`).toEqual({ total: BigInt(total) });
        expect(await r.query("count_items", { status: "RETIRED" })).toEqual({ count: 2n });
        expect(await r.query("count_items", { status: "PAUSED" })).toEqual({ count: 0n });
        expect(await r.query("audit_lines", { since: 0n })).toEqual({ lines: [] });
      }

      // ---- v2 writes new data: new fields, the new enum value, the new table and command.
      const w2 = client("any", v2);
      const d: ItemV2 = { tags: ["new"], name: "drill", color: "blue", count: U64_MAX, price: 3.5, status: "PAUSED", ownerId: -(2n ** 63n), owner: "ops", labels: { site: "b2", "": "empty key" } };
      await w2.command("put_item", { id: "d", source: "import", item: d });
      expect(await w2.command("add", { key: 1n, reason: "restock", by: 2n ** 40n })).toEqual({ total: 12n + 2n ** 40n });
      expect(await w2.command("retire", { id: "a" })).toEqual({ found: true });
      expect(await w2.command("retire", { id: "zz" })).toEqual({ found: false });
      // An old row rewritten by v2 keeps its old values.
      expect(await w2.query("get_item", { id: "a" })).toEqual({ item: { ...asV2(V1_ITEMS.a!), status: "RETIRED" } });
      const last = leaderOf(c)!.node.status().lastIndex;
      await waitFor("every node to apply v2's writes", () => [...c.servers.values()].every((s) => s.node.status().applied >= last));
      for (const id of [1, 2, 3]) {
        const r = client(id, v2);
        expect(await r.query("get_item", { id: "d" }), `node ${id}`).toEqual({ item: d });
        expect(await r.query("count_items", { status: "RETIRED" })).toEqual({ count: 3n });
        expect(await r.query("count_items", { status: "PAUSED" })).toEqual({ count: 1n });
        const { lines } = await r.query<{ lines: string[] }>("audit_lines", { since: 0n });
        expect(lines).toEqual(["put d from import", `add ${2n ** 40n} to 1: restock`]);
      }

      // A client still built from v1 (a rolling upgrade) keeps working for what v1 knew.
      const old = client("any", v1);
      expect(await old.command("add", { key: 2n, by: 3 })).toEqual({ total: 3 });
      // It no longer sees the removed field note (v2 does not store it).
      expect(await old.query("get_item", { id: "c" })).toEqual({ item: { ...V1_ITEMS.c!, note: "" } });
    } finally {
      for (const cl of clients) cl.close();
      await stopAll(c);
      await rm(root, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Refused breaking changes, through the CLI

const ACCEPT = "(pass --allow-breaking to accept)";

interface BreakingCase {
  readonly kind: string;
  readonly file: string;
  /** The spec the project was last built with (and the one before it, whose lock it inherited). */
  readonly base: readonly string[];
  /** Exactly what build prints on stderr. */
  readonly stderr: string;
  /** What --allow-breaking must have written into the lock. */
  readonly accepted: (lock: LockJson) => void;
}

interface LockJson {
  messages: Record<string, { fields: Record<string, { number: number; type: string; repeated: boolean }>; removed: Record<string, { number: number; type: string; repeated: boolean }> }>;
  enums: Record<string, { values: Record<string, number>; removed: Record<string, number> }>;
  tables: Record<string, { key: string; value: string }>;
  commands: Record<string, unknown>;
}

const CASES: readonly BreakingCase[] = [
  {
    kind: "a field's type changed incompatibly",
    file: "field-type.yaml",
    base: ["v1.yaml"],
    stderr: `raft.yaml:9:12: types.Item.price: type changed from double to string; existing data written as double would be misread ${ACCEPT}\n`,
    accepted: (lock) => expect(lock.messages.Item!.fields.price).toEqual({ number: 3, type: "string", repeated: false }),
  },
  {
    kind: "a field no longer repeated",
    file: "repeated-toggled.yaml",
    base: ["v1.yaml"],
    stderr: `raft.yaml:10:5: types.Item.tags: is no longer repeated; existing data written as repeated string would be misread ${ACCEPT}\n`,
    accepted: (lock) => expect(lock.messages.Item!.fields.tags).toEqual({ number: 4, type: "string", repeated: false }),
  },
  {
    kind: "a table's key type changed",
    file: "table-key.yaml",
    base: ["v1.yaml"],
    stderr: `raft.yaml:17:17: table items: key type changed from string to uint64; existing rows are stored under string keys and would be misread ${ACCEPT}\n`,
    accepted: (lock) => expect(lock.tables.items).toEqual({ key: "uint64", value: "Item" }),
  },
  {
    kind: "a table's value type changed incompatibly",
    file: "table-value.yaml",
    base: ["v1.yaml"],
    stderr: `raft.yaml:18:33: table totals: value type changed from uint32 to string; existing rows written as uint32 would be misread ${ACCEPT}\n`,
    accepted: (lock) => expect(lock.tables.totals).toEqual({ key: "uint64", value: "string" }),
  },
  {
    kind: "a table removed",
    file: "table-removed.yaml",
    base: ["v1.yaml"],
    stderr: `raft.yaml:16:1: table totals was removed; its stored rows would be left behind and misread if a table totals came back ${ACCEPT}\n`,
    accepted: (lock) => expect(Object.keys(lock.tables)).toEqual(["items"]),
  },
  {
    kind: "a command removed",
    file: "command-removed.yaml",
    base: ["v1.yaml"],
    stderr: `raft.yaml:20:1: command add was removed; the log may still hold add entries, which could no longer be applied ${ACCEPT}\n`,
    accepted: (lock) => expect(Object.keys(lock.commands)).toEqual(["put_item"]),
  },
  {
    kind: "an enum value removed",
    file: "enum-value-removed.yaml",
    base: ["v1.yaml"],
    stderr: `raft.yaml:14:3: enum Status: value RETIRED (number 1) was removed; existing data holding it could not be read ${ACCEPT}\n`,
    accepted: (lock) => expect(lock.enums.Status).toEqual({ values: { ACTIVE: 0 }, removed: { RETIRED: 1 } }),
  },
  {
    kind: "a removed field's number reused (explicit number:)",
    file: "number-reused.yaml",
    base: ["v1.yaml", "v2.yaml"],
    stderr: `raft.yaml:16:5: types.Item.weight: number 6 was the removed field note (string) in raft.lock.json; existing data would be misread as weight ${ACCEPT}\n`,
    accepted: (lock) => {
      expect(lock.messages.Item!.fields.weight).toEqual({ number: 6, type: "double", repeated: false });
      expect(lock.messages.Item!.removed).toEqual({});
    },
  },
  {
    kind: "a removed field re-added with an incompatible type",
    file: "readded-incompatible.yaml",
    base: ["v1.yaml", "v2.yaml"],
    stderr: `raft.yaml:16:11: types.Item.note: the removed field note (number 6) was string; re-adding it as uint64 would misread existing data ${ACCEPT}\n`,
    accepted: (lock) => {
      expect(lock.messages.Item!.fields.note).toEqual({ number: 6, type: "uint64", repeated: false });
      expect(lock.messages.Item!.removed).toEqual({});
    },
  },
];

describe("breaking changes are refused by raftgen build, and accepted with --allow-breaking", () => {
  const cwd = process.cwd();
  let root = "";

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "raftgen-breaking-"));
  });
  afterAll(async () => {
    process.chdir(cwd);
    if (root) await rm(root, { recursive: true, force: true });
  });

  /** `raftgen build ...args` with the project directory as the current directory (paths print as raft.yaml). */
  async function raftgen(dir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = "";
    let stderr = "";
    process.chdir(dir);
    try {
      const code = await main(["build", ...args], { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
      return { code, stdout, stderr };
    } finally {
      process.chdir(cwd);
    }
  }

  test("every kind of breaking change has a fixture", () => {
    expect(CASES.map((c) => c.file).sort()).toEqual(readdirSync(join(SPECS, "breaking")).sort());
  });

  test.each(CASES)("$kind ($file)", async (c) => {
    const dir = await mkdtemp(join(root, "project-"));
    for (const base of c.base) {
      copyFileSync(join(SPECS, base), join(dir, "raft.yaml"));
      const built = await raftgen(dir, ["raft.yaml"]);
      expect(built.stderr).toBe("");
      expect(built.code).toBe(0);
    }
    const lockBefore = readFileSync(join(dir, "raft.lock.json"), "utf8");
    copyFileSync(join(SPECS, "breaking", c.file), join(dir, "raft.yaml"));
    const before = pictureOf(dir);

    const refused = await raftgen(dir, ["raft.yaml"]);
    expect(refused.stderr).toBe(c.stderr);
    expect(refused.stdout).toBe("");
    expect(refused.code).toBe(1);
    expect(pictureDiff(before, pictureOf(dir))).toEqual([]);
    // --check agrees that the spec has a problem, and writes nothing either.
    expect((await raftgen(dir, ["--check", "raft.yaml"])).code).toBe(1);
    expect(pictureDiff(before, pictureOf(dir))).toEqual([]);

    const accepted = await raftgen(dir, ["raft.yaml", "--allow-breaking"]);
    expect(accepted.stderr).toBe("");
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toMatch(/^raftgen build: \d+ files? written to generated\/, raft\.lock\.json updated in \d+ ms\n$/);
    const lockAfter = readFileSync(join(dir, "raft.lock.json"), "utf8");
    expect(lockAfter).not.toBe(lockBefore);
    const expected = generate(readFileSync(join(SPECS, "breaking", c.file), "utf8"), { specFile: "raft.yaml", version: VERSION, lockText: lockBefore, allowBreaking: true });
    expect(lockAfter).toBe(expected.lockText);
    for (const f of expected.files) expect(readFileSync(join(dir, f.path), "utf8"), f.path).toBe(f.content);
    c.accepted(JSON.parse(lockAfter) as LockJson);

    // Accepted once, the change is the lock's: the next plain build has nothing to refuse.
    const next = await raftgen(dir, ["raft.yaml"]);
    expect(next.stderr).toBe("");
    expect(next.code).toBe(0);
  });
});
