// Tests of raft.lock.json (generator/lock.ts): stable protobuf numbers across spec edits, the
// refused changes of the evolution rules (GENERATOR-PLAN "Evolution", issue 7 Proof 7) with
// their exact message and range, --allow-breaking, and the lock file's own gateway (parseLock
// never throws, formatLock is byte-stable).
//
// Specs are built by hand (spec-builder.ts); a "build" here is one reconcile() whose lock is
// fed to the next, as `raftgen build` does with the file on disk.
//
// Properties take their run counts from test/raft/fc-params.ts (FC_RUNS, FC_SEED, FC_PATH).

import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { emptyLock, formatLock, isCompatibleType, parseLock, reconcile, type Lock, type ReconcileResult } from "../../generator/lock.js";
import type { CheckedSpec } from "../../generator/spec.js";
import { fcParams } from "../raft/fc-params.js";
import { enumType, message, method, r, spec, table, type FieldsSpec, type SpecParts } from "./spec-builder.js";

const ACCEPT = "(pass --allow-breaking to accept)";

function build(s: CheckedSpec, lock?: Lock, allowBreaking = false): ReconcileResult {
  return reconcile(s, lock, { allowBreaking });
}

/** A build that must succeed: its lock, after a trip through the file format. */
function ok(s: CheckedSpec, lock?: Lock): Lock {
  const res = build(s, lock);
  expect(res.issues).toEqual([]);
  const parsed = parseLock(formatLock(res.lock), "raft.lock.json");
  expect(parsed.issues).toEqual([]);
  return parsed.lock as Lock;
}

function numbersOf(res: ReconcileResult, msg: string): Record<string, number> {
  return Object.fromEntries(res.numbers.messages.get(msg) ?? []);
}

/** A spec with one named type `Node` of these fields (used by command `put` and table `nodes`). */
function nodeSpec(fields: FieldsSpec, extra: SpecParts = {}): CheckedSpec {
  return spec({
    types: [message("Node", fields)],
    tables: [table("nodes", "uint64", "Node")],
    commands: [method("put", { input: "Node" })],
    ...extra,
  });
}

describe("numbering", () => {
  test("a first build numbers fields from 1 and enum values from 0 in spec order, and writes every part", () => {
    const s = spec({
      types: [message("BrokerNode", { node_id: "uint64", tags: { type: "string", repeated: true }, labels: "map<string, string>" })],
      enums: [enumType("Status", ["ACTIVE", "DRAINING"])],
      tables: [table("kv", "string", "string")],
      commands: [method("set", { input: { key: "string", value: "string" } })],
      queries: [method("get", { input: { key: "string" }, output: { value: { type: "string", optional: true } } })],
    });
    const res = build(s);
    expect(res.issues).toEqual([]);
    expect(numbersOf(res, "BrokerNode")).toEqual({ node_id: 1, tags: 2, labels: 3 });
    expect(Object.fromEntries(res.numbers.enums.get("Status") ?? [])).toEqual({ ACTIVE: 0, DRAINING: 1 });
    expect(formatLock(res.lock)).toBe(`{
  "commands": {
    "set": {
      "input": "SetInput",
      "output": "SetOutput"
    }
  },
  "enums": {
    "Status": {
      "removed": {},
      "values": {
        "ACTIVE": 0,
        "DRAINING": 1
      }
    }
  },
  "messages": {
    "BrokerNode": {
      "fields": {
        "labels": {
          "number": 3,
          "repeated": false,
          "type": "map<string, string>"
        },
        "node_id": {
          "number": 1,
          "repeated": false,
          "type": "uint64"
        },
        "tags": {
          "number": 2,
          "repeated": true,
          "type": "string"
        }
      },
      "removed": {}
    },
    "GetInput": {
      "fields": {
        "key": {
          "number": 1,
          "repeated": false,
          "type": "string"
        }
      },
      "removed": {}
    },
    "GetOutput": {
      "fields": {
        "value": {
          "number": 1,
          "repeated": false,
          "type": "string"
        }
      },
      "removed": {}
    },
    "SetInput": {
      "fields": {
        "key": {
          "number": 1,
          "repeated": false,
          "type": "string"
        },
        "value": {
          "number": 2,
          "repeated": false,
          "type": "string"
        }
      },
      "removed": {}
    },
    "SetOutput": {
      "fields": {},
      "removed": {}
    }
  },
  "queries": {
    "get": {
      "input": "GetInput",
      "output": "GetOutput"
    }
  },
  "tables": {
    "kv": {
      "key": "string",
      "value": "string"
    }
  },
  "version": 1
}
`);
  });

  test("fields added in the middle get max+1; reordering changes nothing", () => {
    const v1 = ok(nodeSpec({ id: "uint64", ip: "string" }));
    const res = build(nodeSpec({ zone: "string", ip: "string", extra: { type: "bool", optional: true }, id: "uint64" }), v1);
    expect(res.issues).toEqual([]);
    expect(numbersOf(res, "Node")).toEqual({ id: 1, ip: 2, zone: 3, extra: 4 });
  });

  test("a removed field moves to `removed` and its number is never given again; re-added with its type it gets it back", () => {
    const v1 = ok(nodeSpec({ id: "uint64", ip: "string", zone: "string" }));
    const v2res = build(nodeSpec({ id: "uint64", zone: "string" }), v1);
    expect(v2res.issues).toEqual([]);
    expect(v2res.lock.messages["Node"]?.removed).toEqual({ ip: { number: 2, type: "string", repeated: false } });
    const v2 = ok(nodeSpec({ id: "uint64", zone: "string" }), v1);
    // A new field after a removal: max over every number ever used, removed ones included.
    const v3res = build(nodeSpec({ id: "uint64", zone: "string", port: "uint32" }), v2);
    expect(numbersOf(v3res, "Node")).toEqual({ id: 1, zone: 3, port: 4 });
    // Removing the highest number still never hands it out again.
    const v4 = ok(nodeSpec({ id: "uint64", zone: "string" }), ok(nodeSpec({ id: "uint64", zone: "string", port: "uint32" }), v2));
    expect(numbersOf(build(nodeSpec({ id: "uint64", zone: "string", name: "string" }), v4), "Node")).toEqual({ id: 1, zone: 3, name: 5 });
    // Re-added with the same type: its old number, and no longer under `removed`.
    const back = build(nodeSpec({ ip: "string", id: "uint64", zone: "string" }), v4);
    expect(back.issues).toEqual([]);
    expect(numbersOf(back, "Node")).toEqual({ id: 1, ip: 2, zone: 3 });
    expect(back.lock.messages["Node"]?.removed).toEqual({ port: { number: 4, type: "uint32", repeated: false } });
  });

  test("a removed field re-added with a widened type gets its old number", () => {
    const v1 = ok(nodeSpec({ id: "uint64", count: "int32" }));
    const v2 = ok(nodeSpec({ id: "uint64" }), v1);
    const res = build(nodeSpec({ id: "uint64", count: "int64" }), v2);
    expect(res.issues).toEqual([]);
    expect(numbersOf(res, "Node")).toEqual({ id: 1, count: 2 });
  });

  test("an explicit number is used, and automatic numbers start above every explicit one", () => {
    const res = build(nodeSpec({ a: "string", b: { type: "string", number: 10 }, c: "string" }));
    expect(res.issues).toEqual([]);
    expect(numbersOf(res, "Node")).toEqual({ a: 11, b: 10, c: 12 });
    // An explicit number equal to the locked one is fine.
    const again = build(nodeSpec({ a: "string", b: { type: "string", number: 10 }, c: { type: "string", number: 12 } }), res.lock);
    expect(again.issues).toEqual([]);
  });

  test("automatic numbers skip protobuf's reserved 19000-19999", () => {
    const res = build(nodeSpec({ a: { type: "string", number: 18999 }, b: "string" }));
    expect(numbersOf(res, "Node")).toEqual({ a: 18999, b: 20000 });
  });

  test("enum values keep their numbers; a value inserted in the middle gets max+1", () => {
    const s = (values: string[]): CheckedSpec => spec({ enums: [enumType("Status", values)], commands: [method("set", { input: { s: "Status" } })] });
    const v1 = ok(s(["ACTIVE", "DRAINING"]));
    const res = build(s(["DRAINING", "STARTING", "ACTIVE"]), v1);
    expect(res.issues).toEqual([]);
    expect(Object.fromEntries(res.numbers.enums.get("Status") ?? [])).toEqual({ ACTIVE: 0, DRAINING: 1, STARTING: 2 });
  });

  test("a command's inline input renamed to a named type with the same fields keeps the numbers", () => {
    const v1 = ok(spec({ commands: [method("set", { input: { key: "string", value: "string" } })] }));
    const v2res = build(spec({ types: [message("Kv", { value: "string", key: "string" })], commands: [method("set", { input: "Kv" })] }), v1);
    expect(v2res.issues).toEqual([]);
    expect(numbersOf(v2res, "Kv")).toEqual({ key: 1, value: 2 });
    // SetInput stays in the lock with its fields removed (the log holds it), so going back restores them.
    expect(v2res.lock.messages["SetInput"]).toEqual({
      fields: {},
      removed: { key: { number: 1, type: "string", repeated: false }, value: { number: 2, type: "string", repeated: false } },
    });
    const v2 = ok(spec({ types: [message("Kv", { value: "string", key: "string" })], commands: [method("set", { input: "Kv" })] }), v1);
    const v3 = build(spec({ commands: [method("set", { input: { value: "string", key: "string", ttl: "uint64" } })] }), v2);
    expect(v3.issues).toEqual([]);
    expect(numbersOf(v3, "SetInput")).toEqual({ key: 1, value: 2, ttl: 3 });
  });

  test("a removed query's payloads leave the lock; a type gone from the spec stays with its fields removed", () => {
    const v1 = ok(
      spec({
        types: [message("Old", { a: "string" })],
        commands: [method("set", { input: { key: "string" } })],
        queries: [method("get", { input: { key: "string" }, output: { value: "string" } })],
      }),
    );
    const res = build(spec({ commands: [method("set", { input: { key: "string" } })] }), v1);
    expect(res.issues).toEqual([]);
    expect(Object.keys(res.lock.messages).sort()).toEqual(["Old", "SetInput", "SetOutput"]);
    expect(res.lock.messages["Old"]).toEqual({ fields: {}, removed: { a: { number: 1, type: "string", repeated: false } } });
    expect(res.lock.queries).toEqual({});
    // The type comes back: its field comes back with its number, a new one goes above it.
    const back = build(spec({ types: [message("Old", { b: "bool", a: "string" })], commands: [method("set", { input: { key: "string" } })] }), res.lock);
    expect(numbersOf(back, "Old")).toEqual({ a: 1, b: 2 });
  });

  test("a gone enum stays with its values removed, and comes back with its numbers", () => {
    const s = (withEnum: boolean): CheckedSpec =>
      spec({ enums: withEnum ? [enumType("Status", ["A", "B"])] : [], commands: [method("set", { input: { key: "string" } })] });
    const gone = ok(s(false), ok(s(true)));
    expect(gone.enums).toEqual({ Status: { values: {}, removed: { A: 0, B: 1 } } });
    const back = build(spec({ enums: [enumType("Status", ["C", "B", "A"])], commands: [method("set", { input: { key: "string" } })] }), gone);
    expect(back.issues).toEqual([]);
    expect(Object.fromEntries(back.numbers.enums.get("Status") ?? [])).toEqual({ A: 0, B: 1, C: 2 });
  });

  test("the same spec and lock give the same lock, byte for byte", () => {
    const s = nodeSpec({ id: "uint64", ip: "string" }, { enums: [enumType("S", ["X"])] });
    const v1 = ok(s);
    expect(formatLock(build(s, v1).lock)).toBe(formatLock(v1));
  });
});

describe("compatible changes build without issues", () => {
  const base = (): SpecParts => ({
    types: [message("Node", { id: "uint64", count: "int32", small: "uint32", other: "uint32", name: "string", tags: "map<string, int32>" })],
    enums: [enumType("Status", ["ACTIVE", "DRAINING"])],
    tables: [table("nodes", "uint64", "Node"), table("counts", "string", "int32")],
    commands: [method("put", { input: "Node" })],
    queries: [method("get", { input: { id: "uint64" }, output: "Node" })],
  });

  test.each<[string, (p: SpecParts) => SpecParts]>([
    ["a new optional field", (p) => ({ ...p, types: [message("Node", { id: "uint64", count: "int32", small: "uint32", other: "uint32", name: "string", tags: "map<string, int32>", extra: { type: "string", optional: true } })] })],
    ["a new non-optional field", (p) => ({ ...p, types: [message("Node", { id: "uint64", count: "int32", small: "uint32", other: "uint32", name: "string", tags: "map<string, int32>", extra: "bytes" })] })],
    ["a field made optional", (p) => ({ ...p, types: [message("Node", { id: { type: "uint64", optional: true }, count: "int32", small: "uint32", other: "uint32", name: "string", tags: "map<string, int32>" })] })],
    [
      "widened types (int32->int64, uint32->uint64, uint32->int64, string->bytes, map value int32->int64)",
      (p) => ({ ...p, types: [message("Node", { id: "uint64", count: "int64", small: "uint64", other: "int64", name: "bytes", tags: "map<string, int64>" })] }),
    ],
    ["a removed field", (p) => ({ ...p, types: [message("Node", { id: "uint64", count: "int32", small: "uint32", other: "uint32", tags: "map<string, int32>" })] })],
    ["a new table", (p) => ({ ...p, tables: [...(p.tables ?? []), table("kv", "string", "string")] })],
    ["a table value widened (int32->int64)", (p) => ({ ...p, tables: [table("nodes", "uint64", "Node"), table("counts", "string", "int64")] })],
    ["a new command", (p) => ({ ...p, commands: [...(p.commands ?? []), method("drop", { input: { id: "uint64" }, output: { ok: "bool" } })] })],
    ["a new query", (p) => ({ ...p, queries: [...(p.queries ?? []), method("list", { output: { nodes: { type: "Node", repeated: true } } })] })],
    ["a new type", (p) => ({ ...p, types: [...(p.types ?? []), message("Extra", { a: "string" })] })],
    ["a new enum", (p) => ({ ...p, enums: [...(p.enums ?? []), enumType("Color", ["RED"])] })],
    ["a new enum value", (p) => ({ ...p, enums: [enumType("Status", ["STARTING", "ACTIVE", "DRAINING"])] })],
    ["a removed query", (p) => ({ ...p, queries: [] })],
    ["a command given an output", (p) => ({ ...p, commands: [method("put", { input: "Node", output: { ok: "bool" } })] })],
  ])("%s", (_, edit) => {
    expect(build(spec(edit(base())), ok(spec(base()))).issues).toEqual([]);
  });

  test("a widened type becomes the lock's type, so narrowing it back is refused", () => {
    const v2 = ok(nodeSpec({ id: "uint64", count: "int64" }), ok(nodeSpec({ id: "uint64", count: "int32" })));
    expect(v2.messages["Node"]?.fields["count"]?.type).toBe("int64");
    expect(build(nodeSpec({ id: "uint64", count: "int32" }), v2).issues.map((i) => i.code)).toEqual(["breaking-change"]);
  });

  test("isCompatibleType: only the listed widenings", () => {
    expect(isCompatibleType("int32", "int64")).toBe(true);
    expect(isCompatibleType("uint32", "uint64")).toBe(true);
    expect(isCompatibleType("uint32", "int64")).toBe(true);
    expect(isCompatibleType("string", "bytes")).toBe(true);
    expect(isCompatibleType("map<string, uint32>", "map<string, int64>")).toBe(true);
    expect(isCompatibleType("int64", "int32")).toBe(false);
    expect(isCompatibleType("bytes", "string")).toBe(false);
    expect(isCompatibleType("int32", "uint32")).toBe(false);
    expect(isCompatibleType("float", "double")).toBe(false);
    expect(isCompatibleType("Node", "OtherNode")).toBe(false);
    expect(isCompatibleType("string", "map<string, string>")).toBe(false);
  });
});

describe("refused changes: one per kind, with its message and range", () => {
  interface Case {
    readonly kind: string;
    /** The specs built before, in order (the last one's lock is the one `after` meets). */
    readonly before: CheckedSpec | readonly CheckedSpec[];
    readonly after: CheckedSpec;
    readonly message: string;
    readonly range: { start: number; end: number };
    readonly path: readonly (string | number)[];
  }
  const kvSpec = (extra: SpecParts = {}): CheckedSpec => spec({ tables: [table("kv", "string", "string")], commands: [method("set", { input: { key: "string", value: "string" } })], ...extra });
  const cases: Case[] = [
    {
      kind: "a field's type changed incompatibly",
      before: nodeSpec({ id: "uint64", ip: "string" }),
      after: spec({
        types: [message("Node", { id: { type: "string", range: r(40, 60), typeRange: r(44, 50) }, ip: "string" })],
        tables: [table("nodes", "uint64", "Node")],
        commands: [method("put", { input: "Node" })],
      }),
      message: `types.Node.id: type changed from uint64 to string; existing data written as uint64 would be misread ${ACCEPT}`,
      range: r(44, 50),
      path: ["types", "Node", "id"],
    },
    {
      kind: "a field's repeated toggled",
      before: nodeSpec({ id: "uint64", tags: { type: "string", repeated: true } }),
      after: nodeSpec({ id: "uint64", tags: { type: "string", range: r(70, 90), typeRange: r(76, 82) } }),
      message: `types.Node.tags: is no longer repeated; existing data written as repeated string would be misread ${ACCEPT}`,
      range: r(70, 90),
      path: ["types", "Node", "tags"],
    },
    {
      kind: "an explicit number that differs from the locked one",
      before: nodeSpec({ id: "uint64", ip: "string" }),
      after: nodeSpec({ id: "uint64", ip: { type: "string", number: 7, range: r(30, 55) } }),
      message: `types.Node.ip: number 7 differs from 2, its number in raft.lock.json; existing data under number 2 would no longer be read as ip ${ACCEPT}`,
      range: r(30, 55),
      path: ["types", "Node", "ip"],
    },
    {
      kind: "an explicit number that reuses a removed number",
      before: nodeSpec({ id: "uint64", old_zone: "uint64" }),
      after: nodeSpec({ id: "uint64", zone: { type: "string", number: 2, range: r(12, 40) } }),
      message: `types.Node.zone: number 2 was the removed field old_zone (uint64) in raft.lock.json; existing data would be misread as zone ${ACCEPT}`,
      range: r(12, 40),
      path: ["types", "Node", "zone"],
    },
    {
      kind: "a re-added field whose removed type is incompatible",
      before: [nodeSpec({ id: "uint64", zone: "uint64" }), nodeSpec({ id: "uint64" })],
      after: nodeSpec({ id: "uint64", zone: { type: "string", range: r(20, 33), typeRange: r(26, 32) } }),
      message: `types.Node.zone: the removed field zone (number 2) was uint64; re-adding it as string would misread existing data ${ACCEPT}`,
      range: r(26, 32),
      path: ["types", "Node", "zone"],
    },
    {
      kind: "a table's key type changed",
      before: kvSpec(),
      after: kvSpec({ tables: [table("kv", "uint64", "string", { keyRange: r(15, 21) })] }),
      message: `table kv: key type changed from string to uint64; existing rows are stored under string keys and would be misread ${ACCEPT}`,
      range: r(15, 21),
      path: ["state", "kv", "key"],
    },
    {
      kind: "a table's value type changed incompatibly",
      before: kvSpec(),
      after: kvSpec({ tables: [table("kv", "string", "uint64", { valueRange: r(30, 36) })] }),
      message: `table kv: value type changed from string to uint64; existing rows written as string would be misread ${ACCEPT}`,
      range: r(30, 36),
      path: ["state", "kv", "value"],
    },
    {
      kind: "a table removed",
      before: kvSpec({ tables: [table("kv", "string", "string"), table("old", "string", "string")] }),
      after: kvSpec({ sections: { state: r(50, 80) } }),
      message: `table old was removed; its stored rows would be left behind and misread if a table old came back ${ACCEPT}`,
      range: r(50, 80),
      path: ["state", "old"],
    },
    {
      kind: "a command removed",
      before: kvSpec({ commands: [method("set", { input: { key: "string" } }), method("clear")] }),
      after: kvSpec({ commands: [method("set", { input: { key: "string" } })], sections: { commands: r(100, 140) } }),
      message: `command clear was removed; the log may still hold clear entries, which could no longer be applied ${ACCEPT}`,
      range: r(100, 140),
      path: ["commands", "clear"],
    },
    {
      kind: "an enum value removed",
      before: kvSpec({ enums: [enumType("Status", ["ACTIVE", "DRAINING", "DOWN"])] }),
      after: kvSpec({ enums: [enumType("Status", ["ACTIVE", "DOWN"], { range: r(5, 30) })] }),
      message: `enum Status: value DRAINING (number 1) was removed; existing data holding it could not be read ${ACCEPT}`,
      range: r(5, 30),
      path: ["types", "Status"],
    },
    {
      kind: "an enum's default value removed (the first remaining value would be renumbered to 0)",
      before: kvSpec({ enums: [enumType("Status", ["ACTIVE", "DRAINING"])] }),
      after: kvSpec({ enums: [enumType("Status", ["DRAINING"], { range: r(5, 30) })] }),
      message: `enum Status: value ACTIVE (number 0, the default) was removed; existing data holding it would be read as DRAINING, which would take number 0 ${ACCEPT}`,
      range: r(5, 30),
      path: ["types", "Status"],
    },
    {
      kind: "a command's input changed to a locked message with another type for a field",
      before: spec({ types: [message("Kv", { key: "string", value: "uint64" })], commands: [method("set", { input: { key: "string", value: "string" } })] }),
      after: spec({ types: [message("Kv", { key: "string", value: "uint64" })], commands: [method("set", { input: "Kv", inputRange: r(60, 62) })] }),
      message: `commands.set.input changed from SetInput to Kv: field value is uint64 in Kv but string in SetInput; existing set entries would be misread ${ACCEPT}`,
      range: r(60, 62),
      path: ["commands", "set", "input"],
    },
    {
      kind: "a command's input renamed to a new type that gives a field another number",
      before: spec({ commands: [method("set", { input: { key: "string", value: "string" } })] }),
      after: spec({ types: [message("Kv", { key: { type: "string", number: 5, range: r(9, 19) }, value: "string" })], commands: [method("set", { input: "Kv" })] }),
      message: `types.Kv.key: number 5 differs from 1, its number in raft.lock.json (as SetInput.*); existing data under number 1 would no longer be read as key ${ACCEPT}`,
      range: r(9, 19),
      path: ["types", "Kv", "key"],
    },
    {
      kind: "a message type turned into an enum",
      before: nodeSpec({ id: "uint64", s: "State" }, { types: [message("Node", { id: "uint64", s: "State" }), message("State", { a: "string" })] }),
      after: nodeSpec({ id: "uint64", s: "State" }, { enums: [enumType("State", ["A"], { range: r(3, 9) })] }),
      message: `types.State: was a message in raft.lock.json and is now an enum; existing data of type State would be misread ${ACCEPT}`,
      range: r(3, 9),
      path: ["types", "State"],
    },
  ];

  test.each(cases.map((c) => [c.kind, c] as const))("%s", (_, c) => {
    let lock: Lock | undefined;
    for (const s of Array.isArray(c.before) ? c.before : [c.before]) lock = ok(s, lock);
    const res = build(c.after, lock);
    expect(res.issues).toEqual([{ code: "breaking-change", path: c.path, message: c.message, range: c.range }]);
    // The same change with --allow-breaking: no issue, and a lock that is itself valid.
    const accepted = build(c.after, lock, true);
    expect(accepted.issues).toEqual([]);
    expect(parseLock(formatLock(accepted.lock), "raft.lock.json").issues).toEqual([]);
    // Building again from the accepted lock is quiet: the change is part of the lock now.
    expect(build(c.after, accepted.lock).issues).toEqual([]);
  });

  test("a command's input changed to a locked message that numbers its fields otherwise", () => {
    const before = spec({ types: [message("Kv", { value: "string", key: "string" })], commands: [method("set", { input: { key: "string", value: "string" } })] });
    const after = spec({ types: [message("Kv", { value: "string", key: "string" })], commands: [method("set", { input: "Kv", inputRange: r(60, 62) })] });
    const res = build(after, ok(before));
    expect(res.issues.map((i) => i.message)).toEqual([
      `commands.set.input changed from SetInput to Kv: field key is number 2 in Kv but 1 in SetInput; existing set entries would be misread ${ACCEPT}`,
      `commands.set.input changed from SetInput to Kv: field value is number 1 in Kv but 2 in SetInput; existing set entries would be misread ${ACCEPT}`,
    ]);
    expect(res.issues.every((i) => i.range.start === 60 && i.code === "breaking-change")).toBe(true);
    // A field new to the command that takes a number the old input used for another field.
    const before2 = spec({ types: [message("Kv", { other: "string", key: "string" })], commands: [method("set", { input: { key: "string" } })] });
    const after2 = spec({ types: [message("Kv", { other: "string", key: "string" })], commands: [method("set", { input: "Kv" })] });
    expect(build(after2, ok(before2)).issues.map((i) => i.message)).toEqual([
      `commands.set.input changed from SetInput to Kv: field key is number 2 in Kv but 1 in SetInput; existing set entries would be misread ${ACCEPT}`,
      `commands.set.input changed from SetInput to Kv: number 1 is other in Kv but key in SetInput; existing set entries would be misread ${ACCEPT}`,
    ]);
  });

  test("a removed field re-added under another explicit number is a renumbering", () => {
    const gone = ok(nodeSpec({ id: "uint64" }), ok(nodeSpec({ id: "uint64", zone: "string" })));
    const res = build(nodeSpec({ id: "uint64", zone: { type: "string", number: 9, range: r(3, 8) } }), gone);
    expect(res.issues).toEqual([
      {
        code: "breaking-change",
        path: ["types", "Node", "zone"],
        message: `types.Node.zone: number 9 differs from 2, the number the removed field zone had in raft.lock.json; existing data under number 2 would no longer be read as zone ${ACCEPT}`,
        range: r(3, 8),
      },
    ]);
  });

  test("swapping two fields' numbers is refused for both", () => {
    const v1 = ok(nodeSpec({ a: "string", b: "string" }));
    const res = build(nodeSpec({ a: { type: "string", number: 2 }, b: { type: "string", number: 1 } }), v1);
    expect(res.issues.map((i) => i.path.join("."))).toEqual(["types.Node.a", "types.Node.b"]);
    expect(build(nodeSpec({ a: { type: "string", number: 2 }, b: { type: "string", number: 1 } }), v1, true).lock.messages["Node"]).toEqual({
      fields: { a: { number: 2, type: "string", repeated: false }, b: { number: 1, type: "string", repeated: false } },
      removed: {},
    });
  });

  test("a removal with no section range points at the whole document", () => {
    const before = spec({ tables: [table("kv", "string", "string")], commands: [method("set", { input: { key: "string" } })] });
    const after = spec({ commands: [method("set", { input: { key: "string" }, range: r(10, 42) })] });
    expect(build(after, ok(before)).issues.map((i) => i.range)).toEqual([{ start: 0, end: 42 }]);
  });

  test("with --allow-breaking the lock follows the spec", () => {
    const v1 = ok(nodeSpec({ id: "uint64", old_zone: "uint64", tags: { type: "string", repeated: true } }, { enums: [enumType("S", ["A", "B"])] }));
    const after = nodeSpec({ id: "string", zone: { type: "string", number: 2 }, tags: "string" }, { enums: [enumType("S", ["B"])], tables: [], commands: [method("set")] });
    const res = build(after, v1, true);
    expect(res.issues).toEqual([]);
    expect(res.lock.messages["Node"]).toEqual({
      fields: {
        id: { number: 1, type: "string", repeated: false },
        zone: { number: 2, type: "string", repeated: false },
        tags: { number: 3, type: "string", repeated: false },
      },
      removed: {},
    });
    expect(res.lock.enums["S"]).toEqual({ values: { B: 0 }, removed: {} });
    expect(res.lock.tables).toEqual({});
    expect(Object.keys(res.lock.commands)).toEqual(["set"]);
    // A re-added field with an incompatible type, accepted: it takes its old number back.
    const gone = ok(nodeSpec({ id: "uint64" }), ok(nodeSpec({ id: "uint64", zone: "uint64" })));
    expect(numbersOf(build(nodeSpec({ id: "uint64", zone: "string" }), gone, true), "Node")).toEqual({ id: 1, zone: 2 });
  });

  test("every refused change in one build is reported, sorted by position", () => {
    const v1 = ok(nodeSpec({ id: "uint64", ip: "string" }, { tables: [table("nodes", "uint64", "Node"), table("kv", "string", "string")] }));
    const after = spec({
      types: [message("Node", { id: { type: "string", typeRange: r(50) }, ip: { type: "bool", typeRange: r(20) } })],
      tables: [table("nodes", "string", "Node", { keyRange: r(90) })],
      commands: [method("put", { input: "Node" })],
      sections: { state: r(85, 120) },
    });
    const res = build(after, v1);
    expect(res.issues.map((i) => [i.range.start, i.path.join(".")])).toEqual([
      [20, "types.Node.ip"],
      [50, "types.Node.id"],
      [85, "state.kv"],
      [90, "state.nodes.key"],
    ]);
  });
});

describe("duplicate numbers are errors, even with --allow-breaking", () => {
  test("two explicit numbers in one message", () => {
    const s = nodeSpec({ a: { type: "string", number: 3 }, b: { type: "string", number: 3, range: r(40, 60) } });
    for (const allow of [false, true]) {
      expect(build(s, undefined, allow).issues).toEqual([
        { code: "duplicate-number", path: ["types", "Node", "b"], message: "types.Node.b: number 3 is already used by field a", range: r(40, 60) },
      ]);
    }
  });

  test("an explicit number that a present field holds in the lock", () => {
    const v1 = ok(nodeSpec({ a: "string", b: "string" }));
    const res = build(nodeSpec({ a: "string", b: "string", c: { type: "bool", number: 2, range: r(7, 9) } }), v1, true);
    expect(res.issues).toEqual([{ code: "duplicate-number", path: ["types", "Node", "c"], message: "types.Node.c: number 2 is already used by field b", range: r(7, 9) }]);
  });

  test("inline payload fields are named by their spec path", () => {
    const s = spec({ commands: [method("set", { input: { a: { type: "string", number: 1 }, b: { type: "string", number: 1 } } })] });
    expect(build(s).issues.map((i) => [i.code, i.path, i.message])).toEqual([
      ["duplicate-number", ["commands", "set", "input", "b"], "commands.set.input.b: number 1 is already used by field a"],
    ]);
  });
});

describe("formatLock and parseLock", () => {
  const sample = (): Lock => ({
    version: 1,
    queries: { get: { output: "GetOutput", input: "GetInput" } },
    messages: {
      Zed: { removed: { old: { type: "uint64", repeated: false, number: 2 } }, fields: { b: { repeated: true, number: 3, type: "map<string, Zed>" }, a: { number: 1, type: "string", repeated: false } } },
      Alpha: { fields: {}, removed: {} },
    },
    enums: { S: { values: { B: 1, A: 0 }, removed: { C: 2 } } },
    tables: { kv: { value: "Zed", key: "string" } },
    commands: {},
  });

  test("keys sorted at every level, 2-space indent, trailing newline; insertion order does not matter", () => {
    const text = formatLock(sample());
    expect(text.endsWith("}\n")).toBe(true);
    expect(text.split("\n").slice(0, 4)).toEqual(["{", '  "commands": {},', '  "enums": {', '    "S": {']);
    const reordered: Lock = JSON.parse(JSON.stringify(sample(), Object.keys(sample()).reverse()));
    expect(formatLock({ ...reordered, ...sample() })).toBe(text);
    expect(text).toContain('"removed": {\n        "old": {\n          "number": 2,\n          "repeated": false,\n          "type": "uint64"\n        }\n      }');
  });

  test("parseLock(formatLock(x)) equals x, and formatting again gives the same bytes", () => {
    const text = formatLock(sample());
    const parsed = parseLock(text, "raft.lock.json");
    expect(parsed.issues).toEqual([]);
    expect(parsed.lock).toEqual(sample());
    expect(formatLock(parsed.lock as Lock)).toBe(text);
    expect(parseLock(formatLock(emptyLock()), "raft.lock.json").lock).toEqual(emptyLock());
  });

  test("missing sections and missing fields/removed read as empty", () => {
    const parsed = parseLock('{"version": 1, "messages": {"A": {}}, "enums": {"E": {"values": {"X": 0}}}}', "raft.lock.json");
    expect(parsed.issues).toEqual([]);
    expect(parsed.lock).toEqual({ ...emptyLock(), messages: { A: { fields: {}, removed: {} } }, enums: { E: { values: { X: 0 }, removed: {} } } });
  });

  test.each<[string, string, string, string, number]>([
    ["empty file", "", "lock-syntax", "raft.lock.json is not valid JSON: expected a value, found end of file", 0],
    ["truncated", '{"version": 1', "lock-syntax", "raft.lock.json is not valid JSON: expected ',' or '}', found end of file", 13],
    ["a trailing comma", '{"version": 1,}', "lock-syntax", `raft.lock.json is not valid JSON: expected a string, found "}"`, 14],
    ["a comment", '{"version": 1} // x', "lock-syntax", `raft.lock.json is not valid JSON: unexpected "/" after the end of the data`, 15],
    ["a duplicate key", '{"version": 1, "version": 1}', "lock-syntax", 'raft.lock.json is not valid JSON: duplicate key "version"', 15],
    ["a bad escape", '{"vers\\ion": 1}', "lock-syntax", "raft.lock.json is not valid JSON: bad escape in a string", 6],
    ["a single-quoted string", "{'version': 1}", "lock-syntax", `raft.lock.json is not valid JSON: expected a string, found "'"`, 1],
    ["a deep nest", "[".repeat(100_000), "lock-syntax", "raft.lock.json is not valid JSON: nested too deeply", 65],
    ["a later version", '{"version": 2, "future": {}}', "lock-version", "version: raft.lock.json has version 2; this raftgen reads version 1", 12],
    ["a string version", '{"version": "1"}', "lock-version", 'version: raft.lock.json has version "1"; this raftgen reads version 1', 12],
    ["no version", '{"messages": {}}', "lock-shape", 'missing key "version"', 0],
    ["an array", "[]", "lock-shape", "expected an object", 0],
    ["an unknown key", '{"version": 1, "extra": 1}', "lock-shape", 'unknown key "extra" (expected version, messages, enums, tables, commands, queries)', 15],
    ["a number as a string", '{"version": 1, "messages": {"A": {"fields": {"a": {"number": "1", "type": "string", "repeated": false}}}}}', "lock-shape", "messages.A.fields.a.number: expected an integer from 1 to 536870911", 61],
    ["a number 0", '{"version": 1, "messages": {"A": {"fields": {"a": {"number": 0, "type": "string", "repeated": false}}}}}', "lock-shape", "messages.A.fields.a.number: expected an integer from 1 to 536870911", 61],
    ["a fraction", '{"version": 1, "enums": {"E": {"values": {"X": 0.5}}}}', "lock-shape", "enums.E.values.X: expected an integer from 0 to 2147483647", 47],
    ["a reserved number", '{"version": 1, "messages": {"A": {"fields": {"a": {"number": 19500, "type": "string", "repeated": false}}}}}', "lock-shape", "messages.A.fields.a.number: numbers 19000-19999 are reserved by protobuf", 61],
    ["a bad type", '{"version": 1, "messages": {"A": {"fields": {"a": {"number": 1, "type": "list<int>", "repeated": false}}}}}', "lock-shape", "messages.A.fields.a.type: expected a type (a scalar, a type name or map<string, T>)", 72],
    ["repeated not a boolean", '{"version": 1, "messages": {"A": {"fields": {"a": {"number": 1, "type": "bool", "repeated": 0}}}}}', "lock-shape", "messages.A.fields.a.repeated: expected true or false", 92],
    ["a missing key in a field", '{"version": 1, "messages": {"A": {"fields": {"a": {"number": 1, "type": "bool"}}}}}', "lock-shape", 'messages.A.fields.a: missing key "repeated"', 50],
    ["a bad message name", '{"version": 1, "messages": {"__proto__": {}}}', "lock-shape", 'messages: "__proto__" is not a valid message name', 28],
    ["a bad field name", '{"version": 1, "messages": {"A": {"fields": {"constructor ": {"number": 1, "type": "bool", "repeated": false}}}}}', "lock-shape", 'messages.A.fields: "constructor " is not a valid field name', 45],
    ["two fields with one number", '{"version": 1, "messages": {"A": {"fields": {"a": {"number": 1, "type": "bool", "repeated": false}}, "removed": {"b": {"number": 1, "type": "bool", "repeated": false}}}}}', "lock-shape", "messages.A: fields a and b have the same number 1", 33],
    ["a field both current and removed", '{"version": 1, "messages": {"A": {"fields": {"a": {"number": 1, "type": "bool", "repeated": false}}, "removed": {"a": {"number": 2, "type": "bool", "repeated": false}}}}}', "lock-shape", "messages.A: field a is both current and removed", 33],
    ["two enum values with one number", '{"version": 1, "enums": {"E": {"values": {"A": 0, "B": 0}}}}', "lock-shape", "enums.E: values A and B have the same number 0", 30],
    ["a bad table key", '{"version": 1, "tables": {"kv": {"key": "map", "value": "string"}}}', "lock-shape", "tables.kv.key: expected a key type", 40],
    ["a bad method", '{"version": 1, "commands": {"set": {"input": "SetInput"}}}', "lock-shape", 'commands.set: missing key "output"', 35],
  ])("%s is an issue at its position in the lock", (_, text, code, message, start) => {
    const res = parseLock(text, "raft.lock.json");
    expect(res.lock).toBeUndefined();
    expect(res.issues[0]).toMatchObject({ code, message });
    expect(res.issues[0]?.range.start).toBe(start);
  });

  test("every shape problem is reported at once", () => {
    const res = parseLock('{"version": 1, "tables": {"a": {"key": 1, "value": 2}}, "commands": {"B": {"input": "X", "output": "Y"}}}', "raft.lock.json");
    expect(res.issues.map((i) => i.message)).toEqual([
      "tables.a.key: expected a key type",
      "tables.a.value: expected a scalar or a type name",
      'commands: "B" is not a valid command name',
    ]);
  });

  test("a byte-order mark and surrounding whitespace are fine; escapes decode", () => {
    const res = parseLock('\uFEFF \n{"version": 1, "tables": {"kv": {"key": "str\\u0069ng", "value": "string"}}}\n\n', "raft.lock.json");
    expect(res.issues).toEqual([]);
    expect(res.lock?.tables).toEqual({ kv: { key: "string", value: "string" } });
  });

  test.prop([fc.string({ maxLength: 200 })], fcParams<[string]>(500))("any text: parseLock returns issues or a lock, never throws", (text) => {
    const res = parseLock(text, "raft.lock.json");
    expect(res.lock !== undefined || res.issues.length > 0).toBe(true);
    for (const i of res.issues) expect(i.range.start).toBeLessThanOrEqual(text.length);
  });

  test.prop([fc.nat(), fc.integer({ min: 1, max: 3 }), fc.string({ maxLength: 4 })], fcParams<[number, number, string]>(500))(
    "a valid lock with a few bytes replaced: parseLock never throws, and what it accepts formats back",
    (at, len, insert) => {
      const text = formatLock(sample());
      const i = at % text.length;
      const mutated = text.slice(0, i) + insert + text.slice(i + len);
      const res = parseLock(mutated, "raft.lock.json");
      if (res.lock !== undefined) expect(parseLock(formatLock(res.lock), "raft.lock.json").lock).toEqual(res.lock);
    },
  );
});

describe("property: compatible edits never renumber and never reuse a number", () => {
  // Each name of the pool always has the same type, so re-adding a removed field is compatible.
  const POOL = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"];
  const TYPES = ["string", "uint64", "bool", "int32", "bytes", "Other", "map<string, int64>", "double"];
  type Edit =
    | { readonly kind: "add"; readonly name: number; readonly at: number; readonly optional: boolean }
    | { readonly kind: "remove"; readonly at: number }
    | { readonly kind: "reorder"; readonly keys: readonly number[] }
    | { readonly kind: "optional"; readonly at: number }
    | { readonly kind: "enum-add"; readonly value: number; readonly at: number }
    | { readonly kind: "enum-reorder"; readonly keys: readonly number[] };
  const edit: fc.Arbitrary<Edit> = fc.oneof(
    fc.record({ kind: fc.constant("add" as const), name: fc.nat(POOL.length - 1), at: fc.nat(), optional: fc.boolean() }),
    fc.record({ kind: fc.constant("remove" as const), at: fc.nat() }),
    fc.record({ kind: fc.constant("reorder" as const), keys: fc.array(fc.nat(), { minLength: 1, maxLength: 12 }) }),
    fc.record({ kind: fc.constant("optional" as const), at: fc.nat() }),
    fc.record({ kind: fc.constant("enum-add" as const), value: fc.nat(7), at: fc.nat() }),
    fc.record({ kind: fc.constant("enum-reorder" as const), keys: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }) }),
  );
  const shuffle = <T>(items: readonly T[], keys: readonly number[]): T[] =>
    items
      .map((item, i) => ({ item, k: keys[i % keys.length] as number, i }))
      .sort((x, y) => x.k - y.k || x.i - y.i)
      .map((x) => x.item);

  test.prop([fc.array(edit, { maxLength: 40 })], fcParams<[Edit[]]>(200))("numbers of surviving fields and enum values never change", (edits) => {
    let fields: { name: string; optional: boolean }[] = [{ name: "a", optional: false }];
    let values: string[] = ["V0"];
    const render = (): CheckedSpec => {
      const defs: Record<string, { type: string; optional: boolean }> = {};
      for (const f of fields) defs[f.name] = { type: TYPES[POOL.indexOf(f.name) % TYPES.length] as string, optional: f.optional };
      return spec({
        types: [message("Node", defs), message("Other", { x: "string" })],
        enums: [enumType("Status", values)],
        tables: [table("nodes", "uint64", "Node")],
        commands: [method("put", { input: "Node", output: { status: "Status" } })],
      });
    };
    let lock = ok(render());
    const everField = new Map<string, number>(); // name -> the one number it ever had
    const everNumber = new Map<number, string>(); // number -> the one name it was ever given
    const everValue = new Map<string, number>();
    const record = (): void => {
      for (const [name, f] of Object.entries(lock.messages["Node"]?.fields ?? {})) {
        expect(everField.get(name) ?? f.number).toBe(f.number);
        expect(everNumber.get(f.number) ?? name).toBe(name);
        everField.set(name, f.number);
        everNumber.set(f.number, name);
      }
      for (const [name, n] of Object.entries(lock.enums["Status"]?.values ?? {})) {
        expect(everValue.get(name) ?? n).toBe(n);
        everValue.set(name, n);
      }
      // Every number the message ever gave is still in the lock (current or removed).
      const node = lock.messages["Node"];
      const all = [...Object.values(node?.fields ?? {}), ...Object.values(node?.removed ?? {})].map((f) => f.number).sort((x, y) => x - y);
      expect(all).toEqual([...everNumber.keys()].sort((x, y) => x - y));
    };
    record();
    for (const e of edits) {
      switch (e.kind) {
        case "add": {
          const name = POOL[e.name] as string;
          if (fields.some((f) => f.name === name)) break;
          fields.splice(e.at % (fields.length + 1), 0, { name, optional: e.optional });
          break;
        }
        case "remove":
          if (fields.length > 1) fields.splice(e.at % fields.length, 1);
          break;
        case "reorder":
          fields = shuffle(fields, e.keys);
          break;
        case "optional": {
          const f = fields[e.at % fields.length];
          if (f) f.optional = !f.optional;
          break;
        }
        case "enum-add": {
          const v = `V${e.value}`;
          if (!values.includes(v) && !everValue.has(v)) values.splice(e.at % (values.length + 1), 0, v);
          break;
        }
        case "enum-reorder":
          values = shuffle(values, e.keys);
          break;
      }
      lock = ok(render(), lock);
      record();
    }
  });
});
