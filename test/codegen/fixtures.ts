// Hand-written service descriptors and handlers for the runtime/codegen-v1 tests (the
// generator is written in parallel; these have the shape it emits). `registry` exercises
// every field kind; `kv` is a small key/value service with a few misbehaving handlers.

import type { CommandContext, QueryContext, ReadonlyTable, ServiceDescriptor, Table } from "raftgen/runtime/codegen-v1";
import { compileService } from "raftgen/runtime/codegen-v1";

const f = (name: string, ts: string, no: number, type: string, extra: { optional?: true; repeated?: true; map?: true } = {}) => ({ name, ts, no, type, ...extra });

export const registryDescriptor: ServiceDescriptor = {
  service: "Registry",
  package: "test.registry",
  messages: {
    Node: {
      fields: [
        f("node_id", "nodeId", 1, "uint64"),
        f("cluster_name", "clusterName", 2, "string"),
        f("extend", "extend", 3, "string", { optional: true }),
        f("labels", "labels", 4, "string", { map: true }),
        f("tags", "tags", 5, "string", { repeated: true }),
        f("status", "status", 6, "Status"),
        f("offset", "offset", 7, "int64"),
        f("weight", "weight", 8, "float"),
        f("score", "score", 9, "double"),
        f("port", "port", 10, "uint32"),
        f("delta", "delta", 11, "int32"),
        f("alive", "alive", 12, "bool"),
        f("blob", "blob", 13, "bytes"),
        f("ids", "ids", 14, "int64", { repeated: true }),
        f("opt_count", "optCount", 15, "uint64", { optional: true }),
        f("opt_status", "optStatus", 16, "Status", { optional: true }),
      ],
    },
    Group: {
      fields: [
        f("name", "name", 1, "string"),
        f("members", "members", 2, "Node", { map: true }),
        f("leader", "leader", 3, "Node"),
        f("history", "history", 4, "Status", { repeated: true }),
        f("backup", "backup", 5, "Node", { optional: true }),
        f("nodes", "nodes", 6, "Node", { repeated: true }),
        f("scores", "scores", 7, "uint64", { map: true }),
      ],
    },
    Small: {
      fields: [f("a", "a", 1, "int64"), f("b", "b", 2, "uint64"), f("c", "c", 3, "string", { optional: true }), f("d", "d", 4, "Status", { repeated: true })],
    },
  },
  enums: { Status: { values: { ACTIVE: 0, DRAINING: 1, DEAD: 2 } } },
  tables: {},
  commands: {},
  queries: {},
};

export const registry = compileService(registryDescriptor);

export const kvDescriptor: ServiceDescriptor = {
  service: "Kv",
  package: "test.kv",
  messages: {
    SetInput: { fields: [f("key", "key", 1, "string"), f("value", "value", 2, "string")] },
    SetOutput: { fields: [] },
    DeleteInput: { fields: [f("key", "key", 1, "string")] },
    DeleteOutput: { fields: [f("deleted", "deleted", 1, "bool")] },
    GetInput: { fields: [f("key", "key", 1, "string")] },
    GetOutput: { fields: [f("value", "value", 1, "string", { optional: true })] },
    CountInput: { fields: [] },
    CountOutput: { fields: [f("count", "count", 1, "uint64")] },
    Empty: { fields: [] },
    AddInput: { fields: [f("by", "by", 1, "int64"), f("at", "at", 2, "int64")] },
    AddOutput: { fields: [f("total", "total", 1, "int64"), f("index", "index", 2, "uint64"), f("timestamp", "timestamp", 3, "uint64")] },
    ListOutput: { fields: [f("keys", "keys", 1, "int64", { repeated: true }), f("totals", "totals", 2, "int64", { repeated: true })] },
  },
  enums: {},
  tables: {
    kv: { ts: "kv", key: "string", value: "string" },
    counters: { ts: "counters", key: "int64", value: "int64" },
  },
  commands: {
    set: { ts: "set", rpc: "Set", input: "SetInput", output: "SetOutput", hasOutput: false },
    delete: { ts: "delete", rpc: "Delete", input: "DeleteInput", output: "DeleteOutput", hasOutput: true },
    add: { ts: "add", rpc: "Add", input: "AddInput", output: "AddOutput", hasOutput: true },
    fail_after_write: { ts: "failAfterWrite", rpc: "FailAfterWrite", input: "SetInput", output: "SetOutput", hasOutput: false },
    async_set: { ts: "asyncSet", rpc: "AsyncSet", input: "SetInput", output: "SetOutput", hasOutput: false },
    no_output: { ts: "noOutput", rpc: "NoOutput", input: "Empty", output: "DeleteOutput", hasOutput: true },
  },
  queries: {
    get: { ts: "get", rpc: "Get", input: "GetInput", output: "GetOutput", hasOutput: true, consistency: "linearizable" },
    count: { ts: "count", rpc: "Count", input: "CountInput", output: "CountOutput", hasOutput: true, consistency: "stale" },
    list: { ts: "list", rpc: "List", input: "Empty", output: "ListOutput", hasOutput: true },
    put_in_query: { ts: "putInQuery", rpc: "PutInQuery", input: "SetInput", output: "CountOutput", hasOutput: true },
  },
};

export const kv = compileService(kvDescriptor);

interface KvState {
  readonly kv: Table<string, string>;
  readonly counters: Table<bigint, bigint>;
}
interface KvReadState {
  readonly kv: ReadonlyTable<string, string>;
  readonly counters: ReadonlyTable<bigint, bigint>;
}

/** Handlers shaped as a generated `Handlers` type would require. */
export const kvHandlers = {
  commands: {
    set({ key, value }: { key: string; value: string }, { state }: CommandContext<KvState>): undefined {
      state.kv.put(key, value);
      return undefined;
    },
    delete({ key }: { key: string }, { state }: CommandContext<KvState>) {
      return { deleted: state.kv.delete(key) };
    },
    add({ by, at }: { by: bigint; at: bigint }, { state, entry }: CommandContext<KvState>) {
      const total = (state.counters.get(at) ?? 0n) + by;
      state.counters.put(at, total);
      return { total, index: BigInt(entry.index), timestamp: BigInt(entry.timestamp) };
    },
    failAfterWrite({ key, value }: { key: string; value: string }, { state }: CommandContext<KvState>): undefined {
      state.kv.put(key, value);
      state.counters.put(-1n, 1n);
      throw new Error(`refusing ${key}`);
    },
    async asyncSet({ key, value }: { key: string; value: string }, { state }: CommandContext<KvState>) {
      state.kv.put(key, value);
      await Promise.resolve();
      state.kv.put(`${key}-later`, value);
    },
    noOutput(): undefined {
      return undefined;
    },
  },
  queries: {
    get({ key }: { key: string }, { state }: QueryContext<KvReadState>) {
      const value = state.kv.get(key);
      return value === undefined ? {} : { value };
    },
    count(_: object, { state }: QueryContext<KvReadState>) {
      return { count: BigInt(state.kv.size) };
    },
    list(_: object, { state }: QueryContext<KvReadState>) {
      return { keys: [...state.counters.keys()], totals: [...state.counters.values()] };
    },
    putInQuery({ key, value }: { key: string; value: string }, { state }: QueryContext<KvReadState>) {
      (state.kv as unknown as Table<string, string>).put(key, value);
      return { count: 0n };
    },
  },
};
