// Typed tables and the service state machine of runtime/codegen-v1: key conversion and key
// order (int64 negatives before positives, uint64 beyond 2^53), bad keys, read-your-writes,
// commands and queries through createServiceStateMachine, and the rules handlers live by: a
// throwing handler changes nothing, an async handler is refused, a query cannot write. The
// last part runs the state machine in a real RaftNode over the in-memory twins.

import { afterEach, describe, expect, it } from "vitest";
import { type ServiceDescriptor, compileService, createServiceStateMachine, isNodeError } from "raftgen/runtime/codegen-v1";
import { RaftNode } from "../../runtime/node/node.js";
import { StateStore } from "../../runtime/node/state-machine.js";
import { createState } from "../../runtime/codegen-v1/table.js";
import type { ReadonlyTable, Table } from "../../runtime/codegen-v1/table.js";
import { LocalNetwork } from "../../runtime/testing/twins/local-transport.js";
import { MemoryNodeStorage } from "../../runtime/testing/twins/memory-node-storage.js";
import { kv, kvHandlers } from "./fixtures.js";

const tablesDescriptor: ServiceDescriptor = {
  service: "Tables",
  package: "test.tables",
  messages: { Rec: { fields: [{ name: "n", ts: "n", no: 1, type: "uint32" }, { name: "tags", ts: "tags", no: 2, type: "string", repeated: true }] } },
  enums: { Color: { values: { RED: 0, GREEN: 1 } } },
  tables: {
    by_u64: { ts: "byU64", key: "uint64", value: "Rec" },
    by_i64: { ts: "byI64", key: "int64", value: "string" },
    by_u32: { ts: "byU32", key: "uint32", value: "Color" },
    by_str: { ts: "byStr", key: "string", value: "bytes" },
  },
  commands: {},
  queries: {},
};
const tablesService = compileService(tablesDescriptor);

interface TablesState {
  byU64: Table<bigint, { n: number; tags: string[] }>;
  byI64: Table<bigint, string>;
  byU32: Table<number, "RED" | "GREEN">;
  byStr: Table<string, Uint8Array>;
}

function writable(store = new StateStore(Object.keys(tablesDescriptor.tables))) {
  const tx = store.begin();
  const state = createState(tablesService, { tx }, { open: true }) as unknown as TablesState;
  return { store, tx, state };
}

describe("typed tables", () => {
  it("int64 keys iterate in numeric order, negatives first", () => {
    const { store, tx, state } = writable();
    const keys = [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 1n, -(2n ** 53n) - 1n, 2n ** 53n + 1n];
    for (const k of keys) state.byI64.put(k, `v${k}`);
    const sorted = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect([...state.byI64.keys()]).toEqual(sorted);
    store.applyOps(tx.ops());
    // Committed, through a read-only view: same order, values decoded.
    const view = createState(tablesService, { view: store }, { open: true }) as unknown as { byI64: ReadonlyTable<bigint, string> };
    expect([...view.byI64.entries()]).toEqual(sorted.map((k) => [k, `v${k}`]));
    expect(view.byI64.get(-1n)).toBe("v-1");
    expect(view.byI64.size).toBe(keys.length);
  });

  it("uint64 keys beyond 2^53 stay exact and ordered; uint32 keys come back as numbers", () => {
    const { state } = writable();
    const keys = [2n ** 64n - 1n, 0n, 2n ** 53n + 1n, 2n ** 53n, 7n];
    for (const k of keys) state.byU64.put(k, { n: Number(k % 1000n), tags: [] });
    expect([...state.byU64.keys()]).toEqual([0n, 7n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 64n - 1n]);
    expect(state.byU64.get(2n ** 64n - 1n)).toEqual({ n: Number((2n ** 64n - 1n) % 1000n), tags: [] });
    state.byU32.put(4294967295, "GREEN");
    state.byU32.put(0, "RED");
    expect([...state.byU32.entries()]).toEqual([
      [0, "RED"],
      [4294967295, "GREEN"],
    ]);
  });

  it("reads see the transaction's writes; delete reports whether a row was there; get returns fresh objects", () => {
    const { state } = writable();
    expect(state.byStr.has("a")).toBe(false);
    state.byStr.put("a", new Uint8Array([1]));
    expect(state.byStr.has("a")).toBe(true);
    expect(state.byStr.size).toBe(1);
    expect(state.byStr.delete("a")).toBe(true);
    expect(state.byStr.delete("a")).toBe(false);
    expect(state.byStr.get("a")).toBeUndefined();
    state.byU64.put(1n, { n: 1, tags: ["x"] });
    state.byU64.get(1n)!.tags.push("changed");
    expect(state.byU64.get(1n)).toEqual({ n: 1, tags: ["x"] });
    expect([...state.byU64.values()]).toEqual([{ n: 1, tags: ["x"] }]);
    expect([...state.byU64]).toEqual([[1n, { n: 1, tags: ["x"] }]]);
  });

  it.each<[string, (s: TablesState) => unknown, string]>([
    ["negative uint64", (s) => s.byU64.get(-1n), "table by_u64: key -1n is out of the uint64 range"],
    ["uint64 above 2^64-1", (s) => s.byU64.has(2n ** 64n), "table by_u64: key 18446744073709551616n is out of the uint64 range"],
    ["uint64 as number", (s) => s.byU64.get(1 as unknown as bigint), "table by_u64: key 1 is not a bigint (uint64 key)"],
    ["int64 above range", (s) => s.byI64.put(2n ** 63n, "x"), "table by_i64: key 9223372036854775808n is out of the int64 range"],
    ["non-integer uint32", (s) => s.byU32.get(1.5), "table by_u32: key 1.5 is not a uint32 (an integer in [0, 2^32-1])"],
    ["negative uint32", (s) => s.byU32.delete(-1), "table by_u32: key -1 is not a uint32 (an integer in [0, 2^32-1])"],
    ["string key of the wrong type", (s) => s.byStr.get(5 as unknown as string), "table by_str: key 5 is not a string"],
    ["lone surrogate", (s) => s.byStr.get("\uDC00"), 'table by_str: key "\\udc00" contains a lone surrogate (not valid Unicode)'],
  ])("a bad key throws: %s", (_, f, message) => {
    const { state } = writable();
    expect(() => f(state)).toThrow(message);
  });

  it("types: a ReadonlyTable has no put or delete (checked by tsc)", () => {
    const t = {} as ReadonlyTable<string, string>;
    // @ts-expect-error put does not exist on a read-only table
    const put = () => t.put("a", "b");
    // @ts-expect-error delete does not exist on a read-only table
    const del = () => t.delete("a");
    expect([typeof put, typeof del]).toEqual(["function", "function"]);
  });

  it("a bad value throws, naming the table", () => {
    const { state } = writable();
    expect(() => state.byI64.put(1n, 5 as unknown as string)).toThrow("table by_i64 value: expected a string, got number 5");
    expect(() => state.byU64.put(1n, { n: -1, tags: [] })).toThrow("table by_u64 value.n: -1 is out of the uint32 range");
    expect(() => state.byU32.put(1, "BLUE" as "RED")).toThrow('table by_u32 value: "BLUE" is not a value of Color (RED, GREEN)');
  });
});

const enc = (message: string, value: unknown) => kv.encode(message, value);
const entry = { index: 7, term: 2, timestamp: 1_700_000_000_000 };

function runCommand(sm: ReturnType<typeof createServiceStateMachine>, store: StateStore, name: string, input: unknown) {
  const tx = store.begin();
  const out = sm.apply(name, enc(kv.commands.get(name)!.input, input), tx, entry);
  store.applyOps(tx.ops());
  return out;
}

describe("createServiceStateMachine", () => {
  const sm = createServiceStateMachine(kv, kvHandlers);

  it("runs commands and queries through the codec", () => {
    const store = new StateStore(sm.tables);
    expect(sm.tables).toEqual(["kv", "counters"]);
    expect(runCommand(sm, store, "set", { key: "a", value: "1" })).toEqual(new Uint8Array(0));
    expect(kv.decode("GetOutput", sm.query("get", enc("GetInput", { key: "a" }), store))).toEqual({ value: "1" });
    expect(kv.decode("GetOutput", sm.query("get", enc("GetInput", { key: "b" }), store))).toEqual({});
    expect(kv.decode("DeleteOutput", runCommand(sm, store, "delete", { key: "a" }))).toEqual({ deleted: true });
    const added = kv.decode("AddOutput", runCommand(sm, store, "add", { by: -5n, at: -(2n ** 63n) }));
    expect(added).toEqual({ total: -5n, index: 7n, timestamp: 1_700_000_000_000n });
    runCommand(sm, store, "add", { by: 2n ** 62n, at: 2n ** 63n - 1n });
    expect(kv.decode("ListOutput", sm.query("list", new Uint8Array(0), store))).toEqual({ keys: [-(2n ** 63n), 2n ** 63n - 1n], totals: [-5n, 2n ** 62n] });
  });

  it("knows its methods, and nothing from Object.prototype", () => {
    expect(sm.hasCommand("set")).toBe(true);
    expect(sm.hasCommand("get")).toBe(false);
    expect(sm.hasQuery("get")).toBe(true);
    expect(sm.hasCommand("toString")).toBe(false);
    expect(sm.hasQuery("constructor")).toBe(false);
  });

  it("checkCommand / checkQuery refuse payloads that do not decode", () => {
    expect(() => sm.checkCommand!("set", new Uint8Array([0x0a, 0x05, 0x41]))).toThrow("SetInput.key: length 5 runs past the end of its message");
    expect(() => sm.checkQuery!("get", new Uint8Array([0x08, 0x01]))).toThrow("GetInput.key: wire type 0 where string has 2");
    expect(() => sm.checkCommand!("set", enc("SetInput", { key: "k", value: "v" }))).not.toThrow();
  });

  it("a throwing handler fails and its writes are dropped (the transaction is never applied)", () => {
    const store = new StateStore(sm.tables);
    const tx = store.begin();
    expect(() => sm.apply("fail_after_write", enc("SetInput", { key: "k", value: "v" }), tx, entry)).toThrow("refusing k");
    expect(store.size("kv")).toBe(0);
    expect(store.size("counters")).toBe(0);
  });

  it("an async handler is refused, and its tables are dead for the code after its await", async () => {
    const store = new StateStore(sm.tables);
    const tx = store.begin();
    expect(() => sm.apply("async_set", enc("SetInput", { key: "k", value: "v" }), tx, entry)).toThrow(
      "handler commands.asyncSet returned a Promise: handlers must be synchronous (no async, no await)",
    );
    await new Promise((r) => setTimeout(r, 10));
    // The write after the await threw inside the abandoned promise (no unhandled rejection).
    expect(tx.ops().map((op) => op.key)).toEqual(["k"]);
  });

  it("a query cannot write: its tables have no put or delete", () => {
    const store = new StateStore(sm.tables);
    expect(() => sm.query("put_in_query", enc("SetInput", { key: "k", value: "v" }), store)).toThrow(/put is not a function/);
    expect(store.size("kv")).toBe(0);
  });

  it("a handler that must return an output and returns undefined fails; a bad output names the field", () => {
    const store = new StateStore(sm.tables);
    expect(() => runCommand(sm, store, "no_output", {})).toThrow("handler commands.noOutput returned undefined; command no_output must return a DeleteOutput");
    const bad = createServiceStateMachine(kv, { ...kvHandlers, commands: { ...kvHandlers.commands, delete: () => ({ deleted: "yes" }) } });
    expect(() => runCommand(bad, store, "delete", { key: "x" })).toThrow('handler commands.delete returned a bad DeleteOutput: DeleteOutput.deleted: expected a boolean, got string "yes"');
  });

  it("a missing handler fails at creation", () => {
    const { set: _set, ...rest } = kvHandlers.commands;
    expect(() => createServiceStateMachine(kv, { commands: rest, queries: kvHandlers.queries })).toThrow('handlers.commands.set is missing (command "set" of the spec)');
    expect(() => createServiceStateMachine(kv, { commands: { ...kvHandlers.commands, set: 5 }, queries: kvHandlers.queries })).toThrow(
      'handlers.commands.set is not a function (command "set" of the spec)',
    );
  });
});

describe("in a RaftNode (in-memory twins)", () => {
  const nodes: RaftNode[] = [];
  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.stop().catch(() => undefined);
  });

  async function singleNode(): Promise<RaftNode> {
    const net = new LocalNetwork();
    const node = await RaftNode.start(
      { id: 1, clusterId: "codegen", peers: new Map([[1, "node-1"]]), tickMs: 10, proposalTimeoutMs: 3000, readTimeoutMs: 3000 },
      new MemoryNodeStorage([1]),
      net.transport(1),
      createServiceStateMachine(kv, kvHandlers),
    );
    nodes.push(node);
    const deadline = Date.now() + 5000;
    while (!node.isLeader()) {
      if (Date.now() > deadline) throw new Error("no leader");
      await new Promise((r) => setTimeout(r, 5));
    }
    return node;
  }

  it("a throwing handler fails with CommandFailed and changes nothing; bad payloads are refused before proposing", async () => {
    const node = await singleNode();
    await node.propose("set", enc("SetInput", { key: "a", value: "1" }));
    const err = await node.propose("fail_after_write", enc("SetInput", { key: "b", value: "2" })).catch((e: unknown) => e);
    expect(isNodeError(err, "CommandFailed")).toBe(true);
    expect((err as Error).message).toBe("refusing b");
    const count = await node.query("count", enc("CountInput", {}), "linearizable");
    expect(kv.decode("CountOutput", count.output)).toEqual({ count: 1n });
    const list = await node.query("list", new Uint8Array(0), "linearizable");
    expect(kv.decode("ListOutput", list.output)).toEqual({ keys: [], totals: [] });

    const before = node.status().lastIndex;
    const bad = await node.propose("set", new Uint8Array([0x0a, 0x05])).catch((e: unknown) => e);
    expect(isNodeError(bad, "InvalidArgument")).toBe(true);
    expect((bad as Error).message).toBe("SetInput.key: length 5 runs past the end of its message");
    const badQuery = await node.query("get", new Uint8Array([0x08])).catch((e: unknown) => e);
    expect(isNodeError(badQuery, "InvalidArgument")).toBe(true);
    expect(node.status().lastIndex).toBe(before);

    const asyncErr = await node.propose("async_set", enc("SetInput", { key: "c", value: "3" })).catch((e: unknown) => e);
    expect(isNodeError(asyncErr, "CommandFailed")).toBe(true);
    const got = await node.query("get", enc("GetInput", { key: "c" }));
    expect(kv.decode("GetOutput", got.output)).toEqual({});
  });
});
