// Tests of the IR builder (generator/build-model.ts): what every emitter reads. Exact models
// for small hand-built specs (names in every case, resolved type references, generated
// inputs/outputs, defaults, source paths), the sort orders (code units, field numbers), the
// numbers and reserved lists that come from the lock, and no model when the lock refuses.

import { describe, expect, test } from "vitest";
import { buildModel, serviceNames } from "../../generator/build-model.js";
import { formatLock, type Lock } from "../../generator/lock.js";
import type { ServiceModel } from "../../generator/model.js";
import type { CheckedSpec } from "../../generator/spec.js";
import { enumType, message, method, r, spec, table } from "./spec-builder.js";

const OPTS = { allowBreaking: false, specFile: "raft.yaml", version: "0.1.0" };

function model(s: CheckedSpec, lock?: Lock): { model: ServiceModel; lock: Lock } {
  const res = buildModel(s, lock, OPTS);
  expect(res.issues).toEqual([]);
  expect(res.model).toBeDefined();
  return { model: res.model as ServiceModel, lock: res.lock };
}

const placement = (): CheckedSpec =>
  spec({
    service: "PlacementCenter",
    package: "placement",
    doc: "The placement center.",
    types: [
      message("BrokerNode", {
        node_id: "uint64",
        status: { type: "Status", doc: "Where it is in its life." },
        labels: "map<string, Status>",
        peers: "map<string, BrokerNode>",
        extend: { type: "string", optional: true },
        tags: { type: "string", repeated: true },
      }, { doc: "A broker." }),
    ],
    enums: [enumType("Status", ["ACTIVE", "DRAINING"], { doc: "Life cycle." })],
    tables: [table("nodes", "uint64", "BrokerNode", { doc: "Brokers by id." }), table("kv", "string", "string"), table("states", "string", "Status")],
    commands: [
      method("set", { input: { key: "string", value: "string" }, doc: "Set a key." }),
      method("register_node", { input: "BrokerNode" }),
      method("delete", { input: { key: "string" }, output: { deleted: "bool" } }),
      method("ping"),
    ],
    queries: [
      method("get", { input: { key: "string" }, output: { value: { type: "string", optional: true } }, consistency: "stale" }),
      method("list_nodes", { output: { nodes: { type: "BrokerNode", repeated: true } } }),
      method("node", { input: { id: "uint64" }, output: "BrokerNode" }),
    ],
  });

describe("the model of a spec", () => {
  test("every part: names, resolved types, generated payloads, defaults, sources, sorted", () => {
    const { model: m } = model(placement());
    expect(m).toEqual({
      service: { snake: "placement_center", camel: "placementCenter", pascal: "PlacementCenter" },
      package: "placement",
      doc: "The placement center.",
      specFile: "raft.yaml",
      generatorVersion: "0.1.0",
      messages: [
        {
          name: "BrokerNode",
          doc: "A broker.",
          source: "types.BrokerNode",
          reserved: [],
          fields: [
            { name: { snake: "node_id", camel: "nodeId", pascal: "NodeId" }, number: 1, type: { kind: "scalar", scalar: "uint64" }, optional: false, repeated: false, source: "types.BrokerNode.node_id" },
            { name: { snake: "status", camel: "status", pascal: "Status" }, number: 2, type: { kind: "enum", name: "Status" }, optional: false, repeated: false, doc: "Where it is in its life.", source: "types.BrokerNode.status" },
            { name: { snake: "labels", camel: "labels", pascal: "Labels" }, number: 3, type: { kind: "map", value: { kind: "enum", name: "Status" } }, optional: false, repeated: false, source: "types.BrokerNode.labels" },
            { name: { snake: "peers", camel: "peers", pascal: "Peers" }, number: 4, type: { kind: "map", value: { kind: "message", name: "BrokerNode" } }, optional: false, repeated: false, source: "types.BrokerNode.peers" },
            { name: { snake: "extend", camel: "extend", pascal: "Extend" }, number: 5, type: { kind: "scalar", scalar: "string" }, optional: true, repeated: false, source: "types.BrokerNode.extend" },
            { name: { snake: "tags", camel: "tags", pascal: "Tags" }, number: 6, type: { kind: "scalar", scalar: "string" }, optional: false, repeated: true, source: "types.BrokerNode.tags" },
          ],
        },
        { name: "DeleteInput", source: "commands.delete.input", reserved: [], fields: [{ name: { snake: "key", camel: "key", pascal: "Key" }, number: 1, type: { kind: "scalar", scalar: "string" }, optional: false, repeated: false, source: "commands.delete.input.key" }] },
        { name: "DeleteOutput", source: "commands.delete.output", reserved: [], fields: [{ name: { snake: "deleted", camel: "deleted", pascal: "Deleted" }, number: 1, type: { kind: "scalar", scalar: "bool" }, optional: false, repeated: false, source: "commands.delete.output.deleted" }] },
        { name: "GetInput", source: "queries.get.input", reserved: [], fields: [{ name: { snake: "key", camel: "key", pascal: "Key" }, number: 1, type: { kind: "scalar", scalar: "string" }, optional: false, repeated: false, source: "queries.get.input.key" }] },
        { name: "GetOutput", source: "queries.get.output", reserved: [], fields: [{ name: { snake: "value", camel: "value", pascal: "Value" }, number: 1, type: { kind: "scalar", scalar: "string" }, optional: true, repeated: false, source: "queries.get.output.value" }] },
        { name: "ListNodesInput", source: "queries.list_nodes", reserved: [], fields: [] },
        { name: "ListNodesOutput", source: "queries.list_nodes.output", reserved: [], fields: [{ name: { snake: "nodes", camel: "nodes", pascal: "Nodes" }, number: 1, type: { kind: "message", name: "BrokerNode" }, optional: false, repeated: true, source: "queries.list_nodes.output.nodes" }] },
        { name: "NodeInput", source: "queries.node.input", reserved: [], fields: [{ name: { snake: "id", camel: "id", pascal: "Id" }, number: 1, type: { kind: "scalar", scalar: "uint64" }, optional: false, repeated: false, source: "queries.node.input.id" }] },
        { name: "PingInput", source: "commands.ping", reserved: [], fields: [] },
        { name: "PingOutput", source: "commands.ping", reserved: [], fields: [] },
        { name: "RegisterNodeOutput", source: "commands.register_node", reserved: [], fields: [] },
        {
          name: "SetInput",
          source: "commands.set.input",
          reserved: [],
          fields: [
            { name: { snake: "key", camel: "key", pascal: "Key" }, number: 1, type: { kind: "scalar", scalar: "string" }, optional: false, repeated: false, source: "commands.set.input.key" },
            { name: { snake: "value", camel: "value", pascal: "Value" }, number: 2, type: { kind: "scalar", scalar: "string" }, optional: false, repeated: false, source: "commands.set.input.value" },
          ],
        },
        { name: "SetOutput", source: "commands.set", reserved: [], fields: [] },
      ],
      enums: [{ name: "Status", doc: "Life cycle.", source: "types.Status", values: [{ name: "ACTIVE", number: 0 }, { name: "DRAINING", number: 1 }] }],
      tables: [
        { name: { snake: "kv", camel: "kv", pascal: "Kv" }, key: "string", value: { kind: "scalar", scalar: "string" }, source: "state.kv" },
        { name: { snake: "nodes", camel: "nodes", pascal: "Nodes" }, key: "uint64", value: { kind: "message", name: "BrokerNode" }, doc: "Brokers by id.", source: "state.nodes" },
        { name: { snake: "states", camel: "states", pascal: "States" }, key: "string", value: { kind: "enum", name: "Status" }, source: "state.states" },
      ],
      commands: [
        { kind: "command", name: { snake: "delete", camel: "delete", pascal: "Delete" }, input: "DeleteInput", inputIsNamed: false, output: "DeleteOutput", outputIsNamed: false, hasOutput: true, source: "commands.delete" },
        { kind: "command", name: { snake: "ping", camel: "ping", pascal: "Ping" }, input: "PingInput", inputIsNamed: false, output: "PingOutput", outputIsNamed: false, hasOutput: false, source: "commands.ping" },
        { kind: "command", name: { snake: "register_node", camel: "registerNode", pascal: "RegisterNode" }, input: "BrokerNode", inputIsNamed: true, output: "RegisterNodeOutput", outputIsNamed: false, hasOutput: false, source: "commands.register_node" },
        { kind: "command", name: { snake: "set", camel: "set", pascal: "Set" }, input: "SetInput", inputIsNamed: false, output: "SetOutput", outputIsNamed: false, hasOutput: false, doc: "Set a key.", source: "commands.set" },
      ],
      queries: [
        { kind: "query", name: { snake: "get", camel: "get", pascal: "Get" }, input: "GetInput", inputIsNamed: false, output: "GetOutput", outputIsNamed: false, hasOutput: true, consistency: "stale", source: "queries.get" },
        { kind: "query", name: { snake: "list_nodes", camel: "listNodes", pascal: "ListNodes" }, input: "ListNodesInput", inputIsNamed: false, output: "ListNodesOutput", outputIsNamed: false, hasOutput: true, consistency: "linearizable", source: "queries.list_nodes" },
        { kind: "query", name: { snake: "node", camel: "node", pascal: "Node" }, input: "NodeInput", inputIsNamed: false, output: "BrokerNode", outputIsNamed: true, hasOutput: true, consistency: "linearizable", source: "queries.node" },
      ],
    });
  });

  test("commands carry no consistency and absent docs are absent, not undefined", () => {
    const { model: m } = model(placement());
    for (const c of m.commands) expect("consistency" in c).toBe(false);
    expect("doc" in (m.commands.find((c) => c.name.snake === "ping") ?? {})).toBe(false);
    expect("doc" in (m.messages.find((x) => x.name === "SetInput") ?? {})).toBe(false);
  });

  test("lists sort by plain code units, not by locale", () => {
    const s = spec({
      types: [message("Ba", { x: "string" }), message("B", { x: "string" })],
      tables: [table("ab", "string", "string"), table("a_b", "string", "string"), table("b", "string", "string")],
      enums: [enumType("Zz", ["A"]), enumType("Ab", ["A"])],
      commands: [method("b", { input: "B" }), method("ab", { input: "Ba" }), method("a_b", { input: "B" })],
      queries: [method("zq", { output: "B" }), method("aq", { output: "B" })],
    });
    const { model: m } = model(s);
    // "BOutput" < "Ba" in code units ("O" is 0x4f, "a" 0x61); a locale compare puts "Ba" first.
    expect(m.messages.map((x) => x.name)).toEqual(["ABOutput", "AbOutput", "AqInput", "B", "BOutput", "Ba", "ZqInput"]);
    expect(m.tables.map((t) => t.name.snake)).toEqual(["a_b", "ab", "b"]);
    expect(m.enums.map((e) => e.name)).toEqual(["Ab", "Zz"]);
    expect(m.commands.map((c) => c.name.snake)).toEqual(["a_b", "ab", "b"]);
    expect(m.queries.map((q) => q.name.snake)).toEqual(["aq", "zq"]);
  });

  test("the same spec and lock give an equal model and the same lock text", () => {
    const a = model(placement());
    const b = model(placement(), a.lock);
    expect(b.model).toEqual(a.model);
    expect(formatLock(b.lock)).toBe(formatLock(a.lock));
  });

  test("serviceNames: words of a PascalCase name, acronyms lowered", () => {
    expect(serviceNames("PlacementCenter")).toEqual({ snake: "placement_center", camel: "placementCenter", pascal: "PlacementCenter" });
    expect(serviceNames("HTTPServer")).toEqual({ snake: "http_server", camel: "httpServer", pascal: "HTTPServer" });
    expect(serviceNames("Kv")).toEqual({ snake: "kv", camel: "kv", pascal: "Kv" });
    expect(serviceNames("KV")).toEqual({ snake: "kv", camel: "kv", pascal: "KV" });
    expect(serviceNames("Store2Go")).toEqual({ snake: "store2_go", camel: "store2Go", pascal: "Store2Go" });
  });
});

describe("numbers come from the lock", () => {
  const node = (fields: Parameters<typeof message>[1]): CheckedSpec =>
    spec({ types: [message("Node", fields)], tables: [table("nodes", "uint64", "Node")], commands: [method("put", { input: "Node" })] });

  test("fields sort by number, whatever their spec order; removed numbers are reserved, sorted", () => {
    const v1 = model(node({ a: "string", b: "string", c: "string", d: "string", e: "string" })).lock;
    const { model: m } = model(node({ e: "string", f: "bool", a: "string", c: "string" }), v1);
    const n = m.messages.find((x) => x.name === "Node");
    expect(n?.fields.map((f) => [f.name.snake, f.number])).toEqual([
      ["a", 1],
      ["c", 3],
      ["e", 5],
      ["f", 6],
    ]);
    expect(n?.reserved).toEqual([2, 4]);
  });

  test("enum values sort by number; the default stays the first value ever numbered", () => {
    const s = (values: string[]): CheckedSpec => spec({ enums: [enumType("S", values)], commands: [method("set", { input: { s: "S" } })] });
    const v1 = model(s(["B", "A"])).lock;
    const { model: m } = model(s(["C", "A", "B"]), v1);
    expect(m.enums[0]?.values).toEqual([
      { name: "B", number: 0 },
      { name: "A", number: 1 },
      { name: "C", number: 2 },
    ]);
  });

  test("a refused change gives issues and no model, and the lock it would have written", () => {
    const v1 = model(node({ id: "uint64" })).lock;
    const res = buildModel(node({ id: { type: "string", typeRange: r(12, 18) } }), v1, OPTS);
    expect(res.model).toBeUndefined();
    expect(res.issues.map((i) => [i.code, i.range])).toEqual([["breaking-change", r(12, 18)]]);
    expect(res.lock.messages["Node"]?.fields["id"]?.type).toBe("string");
    // Accepted: the model is built with the new type and the old number.
    const accepted = buildModel(node({ id: "string" }), v1, { ...OPTS, allowBreaking: true });
    expect(accepted.issues).toEqual([]);
    expect(accepted.model?.messages.find((x) => x.name === "Node")?.fields).toEqual([
      { name: { snake: "id", camel: "id", pascal: "Id" }, number: 1, type: { kind: "scalar", scalar: "string" }, optional: false, repeated: false, source: "types.Node.id" },
    ]);
  });

  test("a duplicate number gives no model even with --allow-breaking", () => {
    const res = buildModel(node({ a: { type: "string", number: 2 }, b: { type: "string", number: 2 } }), undefined, { ...OPTS, allowBreaking: true });
    expect(res.model).toBeUndefined();
    expect(res.issues.map((i) => i.code)).toEqual(["duplicate-number"]);
  });

  test("an inline input renamed to a named type keeps its numbers in the model", () => {
    const v1 = model(spec({ commands: [method("set", { input: { key: "string", value: "string" } })] })).lock;
    const { model: m } = model(spec({ types: [message("Kv", { value: "string", key: "string" })], commands: [method("set", { input: "Kv" })] }), v1);
    expect(m.messages.find((x) => x.name === "Kv")?.fields.map((f) => [f.name.snake, f.number])).toEqual([
      ["key", 1],
      ["value", 2],
    ]);
    expect(m.commands[0]).toMatchObject({ input: "Kv", inputIsNamed: true });
    // The old SetInput is no message of the model, only of the lock.
    expect(m.messages.map((x) => x.name)).toEqual(["Kv", "SetOutput"]);
  });
});
