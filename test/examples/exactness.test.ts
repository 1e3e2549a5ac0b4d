// Exactness through a real cluster (Proof 4 of issue 7): 64-bit integers, maps and enums go
// client -> command -> Raft log -> every node's handlers and RocksDB tables -> query -> client
// and come back exactly, read from the leader and from each node alone.
//
//   counter          int64 at -2^63, -(2^53+1), 0, 2^53+1, 2^63-1 (command input, table value,
//                    query output) and its map<string, int64> `list`
//   placement-center uint64 node_id at 0, 2^53+1, 2^63, 2^64-1, as a table key and a field
//   lock             the enum `outcome` (both values) and uint64 tokens
//   an inline spec   what no example has: int64 table keys (negative ones first), an enum as a
//                    table value, map<string, uint64>, repeated int64, an optional int64 whose
//                    0 is present, uint32/int32 limits; and a handler that writes, then
//                    throws, leaving every node's tables as they were. Built with generate() + compileService()
//                    and driven with ServiceClient and handlers written here.
//
// The four 3-node clusters start together in beforeAll and are closed together in afterAll.
// This file must not spawn processes.

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type CompiledService,
  type ServiceDescriptor,
  type ServiceHandlers,
  type StateMachine,
  type Table,
  CodecError,
  ServiceClient,
  compileService,
  createServiceStateMachine,
} from "raftgen/runtime/codegen-v1";
import { generate } from "../../generator/index.js";
import { descriptorOf } from "../../generator/emit/descriptor.js";
import { CounterClient, counterService, createStateMachine as counterMachine } from "../../examples/counter/generated/index.js";
import { handlers as counterHandlers } from "../../examples/counter/src/handlers.js";
import { LockServiceClient, lockServiceService, createStateMachine as lockMachine } from "../../examples/lock/generated/index.js";
import { handlers as lockHandlers } from "../../examples/lock/src/handlers.js";
import { PlacementCenterClient, placementCenterService, createStateMachine as placementMachine } from "../../examples/placement-center/generated/index.js";
import { handlers as placementHandlers } from "../../examples/placement-center/src/handlers.js";
import { type ServiceCluster, readEachNode, rejection, startServiceCluster } from "./cluster-harness.js";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const P53 = 2n ** 53n + 1n; // the first integer a double cannot hold

// ---- an inline spec for what no example has ----

const SPEC = `
service: Exact
package: exact
types:
  Level: { enum: [LOW, MID, HIGH] }
  Sample:
    i64: int64
    u64: uint64
    opt_i64: { type: int64, optional: true }
    many: { type: int64, repeated: true }
    by_name: map<string, uint64>
    level: Level
    u32: uint32
    i32: int32
state:
  samples: { key: int64, value: Sample }
  levels: { key: uint64, value: Level }
commands:
  put: { input: { key: int64, sample: Sample }, output: { previous: { type: Sample, optional: true } } }
  set_level: { input: { id: uint64, level: Level }, output: { previous: { type: Level, optional: true } } }
  put_then_fail: { input: { key: int64, sample: Sample } }
queries:
  sample: { input: { key: int64 }, output: { sample: { type: Sample, optional: true } } }
  keys: { output: { keys: { type: int64, repeated: true } } }
  all_levels: { output: { ids: { type: uint64, repeated: true }, levels: { type: Level, repeated: true } } }
`;

type Level = "LOW" | "MID" | "HIGH";
interface Sample {
  i64: bigint;
  u64: bigint;
  optI64?: bigint;
  many: bigint[];
  byName: Record<string, bigint>;
  level: Level;
  u32: number;
  i32: number;
}
interface ExactState {
  samples: Table<bigint, Sample>;
  levels: Table<bigint, Level>;
}

const exactHandlers: ServiceHandlers = {
  commands: {
    put({ key, sample }: { key: bigint; sample: Sample }, { state }: { state: ExactState }) {
      const previous = state.samples.get(key);
      state.samples.put(key, sample);
      return { previous };
    },
    putThenFail({ key, sample }: { key: bigint; sample: Sample }, { state }: { state: ExactState }) {
      // Writes to both tables, then throws: the node must drop every write of the command.
      state.samples.put(key, sample);
      state.samples.delete(INT64_MIN);
      state.levels.put(7n, "HIGH");
      throw new Error(`refusing ${key}`);
    },
    setLevel({ id, level }: { id: bigint; level: Level }, { state }: { state: ExactState }) {
      const previous = state.levels.get(id);
      state.levels.put(id, level);
      return { previous };
    },
  },
  queries: {
    sample({ key }: { key: bigint }, { state }: { state: ExactState }) {
      return { sample: state.samples.get(key) };
    },
    keys(_: unknown, { state }: { state: ExactState }) {
      return { keys: [...state.samples.keys()] };
    },
    allLevels(_: unknown, { state }: { state: ExactState }) {
      const entries = [...state.levels.entries()];
      return { ids: entries.map(([id]) => id), levels: entries.map(([, l]) => l) };
    },
  },
};

function compileSpec(text: string): CompiledService {
  const r = generate(text, { version: "0.0.0" });
  if (!r.model) throw new Error(`the inline spec does not build:\n${r.issues.map((i) => i.message).join("\n")}`);
  return compileService(descriptorOf(r.model) as unknown as ServiceDescriptor);
}

// ---- clusters ----

let counter: ServiceCluster;
let placement: ServiceCluster;
let lock: ServiceCluster;
let exact: ServiceCluster;
let exactService: CompiledService;
const closers: { close(): unknown }[] = [];

function track<C extends { close(): unknown }>(c: C): C {
  closers.push(c);
  return c;
}

beforeAll(async () => {
  exactService = compileSpec(SPEC);
  const start = (service: CompiledService, stateMachine: () => StateMachine) => startServiceCluster({ service, stateMachine }).then(track);
  [counter, placement, lock, exact] = await Promise.all([
    start(counterService, () => counterMachine(counterHandlers)),
    start(placementCenterService, () => placementMachine(placementHandlers)),
    start(lockServiceService, () => lockMachine(lockHandlers)),
    start(exactService, () => createServiceStateMachine(exactService, exactHandlers)),
  ]);
});

afterAll(async () => {
  // Clients first, then clusters; a cluster whose start failed was never tracked, and
  // startServiceCluster cleans up after itself.
  await Promise.all(closers.splice(0).reverse().map(async (c) => c.close()));
});

/** The answers of `read` from each node alone, in node order (see readEachNode). */
async function onEachNode<C extends { close(): void }, T>(cluster: ServiceCluster, make: (endpoints: string[]) => C, read: (c: C) => Promise<T>): Promise<T[]> {
  return [...(await readEachNode(cluster, (endpoint) => make([endpoint]), read)).values()];
}

describe("int64 through counter", () => {
  const values = [INT64_MIN, -P53, -1n, 0n, 1n, P53, INT64_MAX];
  const name = (v: bigint) => `v${v}`;

  test("each value goes through add (input and output) and back through get exactly, on every node", async () => {
    const c = track(new CounterClient({ endpoints: [...counter.endpoints] }));
    for (const v of values) expect(await c.add({ name: name(v), delta: v })).toEqual({ value: v });
    for (const v of values) expect(await c.get({ name: name(v) })).toEqual({ value: v });
    const perNode = await onEachNode(counter, (endpoints) => new CounterClient({ endpoints }), async (n) => Promise.all(values.map(async (v) => (await n.get({ name: name(v) }, { consistency: "stale" })).value)));
    expect(perNode).toEqual([values, values, values]);
  });

  test("arithmetic at the edges is exact: 2^53+1 + 2^53+1, and the way back to -2^63", async () => {
    const c = track(new CounterClient({ endpoints: [...counter.endpoints] }));
    expect(await c.add({ name: "walk", delta: P53 })).toEqual({ value: P53 });
    expect(await c.add({ name: "walk", delta: P53 })).toEqual({ value: 2n * P53 });
    expect(await c.add({ name: "walk", delta: -2n * P53 })).toEqual({ value: 0n });
    expect(await c.add({ name: "walk", delta: INT64_MIN })).toEqual({ value: INT64_MIN });
    expect(await c.get({ name: "walk" })).toEqual({ value: INT64_MIN });
  });

  test("the map<string, int64> of list holds every value exactly, in name order", async () => {
    const c = track(new CounterClient({ endpoints: [...counter.endpoints] }));
    const expected: Record<string, bigint> = { walk: INT64_MIN };
    for (const v of values) expected[name(v)] = v;
    const sorted = Object.keys(expected).sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : 1));
    const lists = [await c.list({}), ...(await onEachNode(counter, (endpoints) => new CounterClient({ endpoints }), (n) => n.list({}, { consistency: "stale" })))];
    for (const { counters } of lists) {
      expect(counters).toEqual(expected);
      expect(Object.keys(counters)).toEqual(sorted);
    }
  });

  test("values outside int64, and numbers where bigints belong, are refused before anything is proposed", async () => {
    const c = track(new CounterClient({ endpoints: [...counter.endpoints] }));
    for (const delta of [INT64_MAX + 1n, INT64_MIN - 1n, 5 as unknown as bigint]) {
      expect((await rejection(c.add({ name: "bad", delta }))).code).toBe("InvalidArgument");
    }
    expect(await c.get({ name: "bad" })).toEqual({ value: 0n });
  });
});

describe("uint64 through placement-center (node_id: a table key and a field)", () => {
  const ids = [0n, 1n, P53, 2n ** 63n, UINT64_MAX];

  test("each id is registered, returned, listed in numeric order and heartbeaten exactly, on every node", async () => {
    const c = track(new PlacementCenterClient({ endpoints: [...placement.endpoints] }));
    // Registered in reverse, so the list's order comes from the key encoding.
    for (const id of [...ids].reverse()) {
      const { node } = await c.registerNode({ clusterName: "x", nodeId: id, nodeIp: `ip-${id}` });
      expect(node.nodeId).toBe(id);
      expect(node.nodeIp).toBe(`ip-${id}`);
    }
    for (const id of ids) expect(await c.heartbeat({ clusterName: "x", nodeId: id })).toBeUndefined();
    const lists = [await c.listNodes({ clusterName: "x" }), ...(await onEachNode(placement, (endpoints) => new PlacementCenterClient({ endpoints }), (n) => n.listNodes({ clusterName: "x" }, { consistency: "stale" })))];
    for (const { nodes } of lists) {
      expect(nodes.map((n) => n.nodeId)).toEqual(ids);
      expect(nodes.map((n) => n.nodeIp)).toEqual(ids.map((id) => `ip-${id}`));
      expect(nodes).toEqual(lists[0]!.nodes);
    }
  });

  test("neighbours of the edges are other keys: unregistering 2^64-1 leaves 2^64-2 unknown and 0 in place", async () => {
    const c = track(new PlacementCenterClient({ endpoints: [...placement.endpoints] }));
    expect(await c.unregisterNode({ clusterName: "x", nodeId: UINT64_MAX - 1n })).toEqual({ removed: false });
    expect(await c.unregisterNode({ clusterName: "x", nodeId: UINT64_MAX })).toEqual({ removed: true });
    expect((await c.listNodes({ clusterName: "x" })).nodes.map((n) => n.nodeId)).toEqual([0n, 1n, P53, 2n ** 63n]);
  });

  test("ids outside uint64 are refused with InvalidArgument", async () => {
    const c = track(new PlacementCenterClient({ endpoints: [...placement.endpoints] }));
    for (const nodeId of [UINT64_MAX + 1n, -1n]) {
      expect((await rejection(c.registerNode({ clusterName: "y", nodeId, nodeIp: "ip" }))).code).toBe("InvalidArgument");
    }
    expect(await c.listNodes({ clusterName: "y" })).toEqual({ nodes: [] });
  });
});

describe("the enum outcome through lock", () => {
  test("ACQUIRED (the value numbered 0) and HELD_BY_OTHER both come back, with their uint64 tokens", async () => {
    const c = track(new LockServiceClient({ endpoints: [...lock.endpoints] }));
    const a = await c.acquire({ name: "e", owner: "alice", ttlMs: 600_000 });
    expect(a.outcome).toBe("ACQUIRED");
    expect(a.lock.token).toBe(1n);
    const b = await c.acquire({ name: "e", owner: "bob", ttlMs: 600_000 });
    expect(b).toEqual({ outcome: "HELD_BY_OTHER", lock: a.lock });
    const holders = await onEachNode(lock, (endpoints) => new LockServiceClient({ endpoints }), (n) => n.holder({ name: "e" }, { consistency: "stale" }));
    expect(holders).toEqual([{ lock: a.lock }, { lock: a.lock }, { lock: a.lock }]);
  });

  test("the codec takes only the enum's names: a handler answering another name would fail its command", () => {
    const lockValue = { name: "", owner: "", token: 0n, expiresAt: 0n };
    expect(lockServiceService.decode("AcquireOutput", lockServiceService.encode("AcquireOutput", { outcome: "HELD_BY_OTHER", lock: lockValue }))).toEqual({ outcome: "HELD_BY_OTHER", lock: lockValue });
    expect(() => lockServiceService.encode("AcquireOutput", { outcome: "MAYBE", lock: lockValue })).toThrow(CodecError);
  });
});

describe("an inline spec: int64 keys, enum table values, map<string, uint64>, repeated int64, optional int64", () => {
  const full = (i64: bigint, rest: Partial<Sample> = {}): Sample => ({
    i64,
    u64: UINT64_MAX,
    many: [INT64_MIN, -P53, 0n, P53, INT64_MAX],
    byName: { zero: 0n, p53: P53, max: UINT64_MAX },
    level: "HIGH",
    u32: 2 ** 32 - 1,
    i32: -(2 ** 31),
    ...rest,
  });
  const keys = [INT64_MIN, -P53, -1n, 0n, 1n, P53, INT64_MAX];

  test("samples keyed by int64 round-trip exactly, and keys() lists negative keys first", async () => {
    const c = track(new ServiceClient(exactService, { endpoints: [...exact.endpoints] }));
    for (const key of [...keys].reverse()) expect(await c.command("put", { key, sample: full(key, { optI64: 0n }) })).toEqual({});
    for (const key of keys) expect(await c.query("sample", { key })).toEqual({ sample: full(key, { optI64: 0n }) });
    const perNode = await onEachNode(exact, (endpoints) => new ServiceClient(exactService, { endpoints }), (n) => n.query("keys", {}, { consistency: "stale" }));
    expect([await c.query("keys", {}), ...perNode]).toEqual(Array(4).fill({ keys }));
  });

  test("an optional int64: 0 is present, absent stays absent; repeated and map fields may be empty", async () => {
    const c = track(new ServiceClient(exactService, { endpoints: [...exact.endpoints] }));
    const bare: Sample = { i64: 0n, u64: 0n, many: [], byName: {}, level: "LOW", u32: 0, i32: 0 };
    // The previous sample (with optI64: 0n) comes back as the command's optional output.
    expect(await c.command("put", { key: 0n, sample: bare })).toEqual({ previous: full(0n, { optI64: 0n }) });
    const got = await c.query<{ sample: Sample }>("sample", { key: 0n });
    expect(got).toEqual({ sample: bare });
    expect("optI64" in got.sample).toBe(false);
    const present = await c.query<{ sample: Sample }>("sample", { key: 1n });
    expect("optI64" in present.sample && present.sample.optI64).toBe(0n);
    expect(await c.query("sample", { key: 2n })).toEqual({});
  });

  test("an enum as a table value under uint64 keys: every value, the default (LOW) included, round-trips", async () => {
    const c = track(new ServiceClient(exactService, { endpoints: [...exact.endpoints] }));
    expect(await c.command("set_level", { id: UINT64_MAX, level: "MID" })).toEqual({});
    expect(await c.command("set_level", { id: 0n, level: "LOW" })).toEqual({});
    expect(await c.command("set_level", { id: P53, level: "HIGH" })).toEqual({});
    expect(await c.command("set_level", { id: UINT64_MAX, level: "LOW" })).toEqual({ previous: "MID" });
    const expected = { ids: [0n, P53, UINT64_MAX], levels: ["LOW", "HIGH", "LOW"] };
    const perNode = await onEachNode(exact, (endpoints) => new ServiceClient(exactService, { endpoints }), (n) => n.query("all_levels", {}, { consistency: "stale" }));
    expect([await c.query("all_levels", {}), ...perNode]).toEqual(Array(4).fill(expected));
    expect((await rejection(c.command("set_level", { id: 1n, level: "TOP" }))).code).toBe("InvalidArgument");
  });

  test("a handler that writes and then throws fails with CommandFailed and leaves every node's tables as they were", async () => {
    const c = track(new ServiceClient(exactService, { endpoints: [...exact.endpoints] }));
    const read = async (n: ServiceClient) => ({
      keys: await n.query("keys", {}, { consistency: "stale" }),
      min: await n.query("sample", { key: INT64_MIN }, { consistency: "stale" }),
      levels: await n.query("all_levels", {}, { consistency: "stale" }),
    });
    const before = await read(c);
    expect(before.min).toEqual({ sample: full(INT64_MIN, { optI64: 0n }) });
    const err = await rejection(c.command("put_then_fail", { key: 99n, sample: full(99n) }));
    expect({ code: err.code, message: err.message }).toEqual({ code: "CommandFailed", message: "refusing 99" });
    const perNode = await onEachNode(exact, (endpoints) => new ServiceClient(exactService, { endpoints }), read);
    expect(perNode).toEqual([before, before, before]);
  });
});
