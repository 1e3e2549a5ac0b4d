// Spec loading and validation: the diagnostic goldens under bad-specs/ (STYLE 7.10 Generator,
// item 5), the CheckedSpec of valid specs, the "did you mean" helper, and a property test that
// validation never throws whatever the text.
//
// Goldens: each `bad-specs/NN-name.yaml` has `NN-name.expected`, the exact output of
// formatIssues(issues, "<its basename>", text). `REWRITE=1 npx vitest run test/generator`
// rewrites the .expected files from the current output; read the diff before keeping it.

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fc, test as propTest } from "@fast-check/vitest";
import { describe, expect, test } from "vitest";
import { stringify } from "yaml";
import { editDistance, formatIssues, formatPath, lineCol, suggest } from "../../generator/diagnostics.js";
import { loadSpec } from "../../generator/load.js";
import type { CheckedSpec, Issue } from "../../generator/spec.js";
import { SPEC_ISSUE_CODES, validateSpec } from "../../generator/validate.js";

const BAD_DIR = join(dirname(fileURLToPath(import.meta.url)), "bad-specs");
const REWRITE = process.env.REWRITE === "1";

/** The spec of DESIGN.md ("The spec"), as written there. */
const DESIGN_SPEC = `service: PlacementCenter        # PascalCase: names the gRPC service and the generated classes
package: placement              # proto package
types:                          # reusable message types
  BrokerNode:
    cluster_name: string
    node_id: uint64
    node_ip: string
    extend: { type: string, optional: true }
    create_time: uint64
state:                          # replicated, persistent tables: /sm/<table>/<key> in RocksDB
  kv:    { key: string, value: string }
  nodes: { key: uint64, value: BrokerNode }
commands:                       # replicated writes, applied on commit on every node, in log order
  set:           { input: { key: string, value: string } }
  delete:        { input: { key: string }, output: { deleted: bool } }
  register_node: { input: BrokerNode }
queries:                        # reads of local state
  get:
    input:  { key: string }
    output: { value: { type: string, optional: true } }
    consistency: linearizable   # linearizable (default, ReadIndex) | lease | stale
  list_nodes:
    input:  { cluster_name: string }
    output: { nodes: { type: BrokerNode, repeated: true } }
`;

/** Drop every source range, to compare the rest of a CheckedSpec with a literal. */
function withoutRanges(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutRanges);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === "range" || k === "typeRange" || k === "keyRange" || k === "valueRange" || k === "sections") continue;
      out[k] = withoutRanges(v);
    }
    return out;
  }
  return value;
}

function valid(text: string): CheckedSpec {
  const { spec, issues } = validateSpec(text);
  expect(formatIssues(issues, "raft.yaml", text)).toBe("");
  expect(spec).toBeDefined();
  return spec!;
}

function problems(text: string): string {
  const { spec, issues } = validateSpec(text);
  expect(spec).toBeUndefined();
  return formatIssues(issues, "raft.yaml", text);
}

const S = (scalar: string) => ({ kind: "scalar", scalar });
const N = (name: string) => ({ kind: "named", name });
const F = (name: string, type: unknown, extra: Record<string, unknown> = {}) => ({ name, type, optional: false, repeated: false, ...extra });

/** Invariants every result must keep, whatever the input. */
function checkResult(text: string, result: { spec?: CheckedSpec; issues: Issue[] }): void {
  expect(result.spec === undefined).toBe(result.issues.length > 0);
  for (const issue of result.issues) {
    expect(SPEC_ISSUE_CODES).toContain(issue.code);
    expect(issue.message).toMatch(/^[a-z]/);
    expect(issue.message).not.toContain("\n");
    expect(issue.range.start).toBeGreaterThanOrEqual(0);
    expect(issue.range.start).toBeLessThanOrEqual(issue.range.end);
    expect(issue.range.end).toBeLessThanOrEqual(text.length);
  }
  formatIssues(result.issues, "raft.yaml", text);
}

describe("bad specs (goldens)", () => {
  const files = readdirSync(BAD_DIR)
    .filter((f) => f.endsWith(".yaml"))
    .sort();

  test("there are enough of them, each with its .expected", () => {
    expect(files.length).toBeGreaterThanOrEqual(25);
    for (const f of files) expect(f).toMatch(/^\d\d-[a-z0-9-]+\.yaml$/);
  });

  test.each(files)("%s", (file) => {
    const text = readFileSync(join(BAD_DIR, file), "utf8");
    const result = validateSpec(text);
    checkResult(text, result);
    const actual = formatIssues(result.issues, basename(file), text);
    const expectedPath = join(BAD_DIR, file.replace(/\.yaml$/, ".expected"));
    if (REWRITE) writeFileSync(expectedPath, actual);
    expect(result.spec).toBeUndefined();
    expect(actual).not.toBe("");
    expect(actual).toBe(readFileSync(expectedPath, "utf8"));
  });

  test("the specs with several mistakes report each of them", () => {
    for (const f of files.filter((name) => name.includes("several-mistakes"))) {
      const text = readFileSync(join(BAD_DIR, f), "utf8");
      expect(validateSpec(text).issues.length, f).toBeGreaterThanOrEqual(10);
    }
  });
});

describe("valid specs", () => {
  test("DESIGN's example", () => {
    const spec = valid(DESIGN_SPEC);
    expect(withoutRanges(spec)).toEqual({
      service: "PlacementCenter",
      package: "placement",
      types: [
        {
          name: "BrokerNode",
          fields: [
            F("cluster_name", S("string")),
            F("node_id", S("uint64")),
            F("node_ip", S("string")),
            F("extend", S("string"), { optional: true }),
            F("create_time", S("uint64")),
          ],
        },
      ],
      enums: [],
      tables: [
        { name: "kv", key: "string", value: S("string") },
        { name: "nodes", key: "uint64", value: N("BrokerNode") },
      ],
      commands: [
        { name: "set", input: { kind: "inline", fields: [F("key", S("string")), F("value", S("string"))] } },
        { name: "delete", input: { kind: "inline", fields: [F("key", S("string"))] }, output: { kind: "inline", fields: [F("deleted", S("bool"))] } },
        { name: "register_node", input: { kind: "named", name: "BrokerNode" } },
      ],
      queries: [
        {
          name: "get",
          input: { kind: "inline", fields: [F("key", S("string"))] },
          output: { kind: "inline", fields: [F("value", S("string"), { optional: true })] },
          consistency: "linearizable",
        },
        {
          name: "list_nodes",
          input: { kind: "inline", fields: [F("cluster_name", S("string"))] },
          output: { kind: "inline", fields: [F("nodes", N("BrokerNode"), { repeated: true })] },
        },
      ],
    });
  });

  test("ranges point at the spec text", () => {
    const spec = valid(DESIGN_SPEC);
    const at = (r: { start: number; end: number }) => DESIGN_SPEC.slice(r.start, r.end);
    const broker = spec.types[0]!;
    expect(at(broker.range)).toMatch(/^BrokerNode:\n {4}cluster_name: string\n[\s\S]*create_time: uint64$/);
    expect(at(broker.fields[3]!.range)).toBe("extend: { type: string, optional: true }");
    expect(at(broker.fields[3]!.typeRange)).toBe("string");
    expect(lineCol(DESIGN_SPEC, broker.fields[3]!.typeRange.start)).toEqual({ line: 8, col: 21 });
    const nodes = spec.tables[1]!;
    expect(at(nodes.range)).toBe("nodes: { key: uint64, value: BrokerNode }");
    expect(at(nodes.keyRange)).toBe("uint64");
    expect(at(nodes.valueRange)).toBe("BrokerNode");
    expect(at(spec.commands[2]!.input!.range)).toBe("BrokerNode");
    expect(at(spec.commands[1]!.output!.range)).toBe("{ deleted: bool }");
    expect(at(spec.queries[0]!.range)).toMatch(/^get:\n {4}input: {2}\{ key: string \}[\s\S]*consistency: linearizable$/);
    expect(at(spec.sections.service!)).toBe("service: PlacementCenter");
    expect(at(spec.sections.commands!)).toMatch(/^commands:[\s\S]*register_node: \{ input: BrokerNode \}$/);
    expect(spec.sections.types).toBeDefined();
    expect(spec.sections.state).toBeDefined();
    expect(spec.sections.queries).toBeDefined();
  });

  test("short and long forms of types and fields, docs, explicit numbers", () => {
    const spec = valid(`
service: Shop
package: acme.shop_v1
doc: "The shop."
types:
  Item:                         # short form
    name: string
    price: { type: double, doc: "In euros.", number: 7 }
    tags: { type: string, repeated: true }
    note: { type: string, optional: true, repeated: false }
  Detailed:                     # long form
    doc: |
      A detailed item.
      Two lines.
    fields:
      item: Item
      count: { type: uint32, number: 536870911 }
  OnlyFields:
    fields: { a: int64 }
  Schema:                       # a field named "fields" (short form: it is itself a field)
    fields: { type: string, repeated: true }
    name: string
  Empty: {}
commands:
  add: { input: Item, output: Detailed, doc: "Adds an item." }
`);
    expect(spec.doc).toBe("The shop.");
    expect(spec.package).toBe("acme.shop_v1");
    expect(withoutRanges(spec.types)).toEqual([
      {
        name: "Item",
        fields: [
          F("name", S("string")),
          F("price", S("double"), { doc: "In euros.", number: 7 }),
          F("tags", S("string"), { repeated: true }),
          F("note", S("string"), { optional: true }),
        ],
      },
      { name: "Detailed", doc: "A detailed item.\nTwo lines.", fields: [F("item", N("Item")), F("count", S("uint32"), { number: 536870911 })] },
      { name: "OnlyFields", fields: [F("a", S("int64"))] },
      { name: "Schema", fields: [F("fields", S("string"), { repeated: true }), F("name", S("string"))] },
      { name: "Empty", fields: [] },
    ]);
    expect(withoutRanges(spec.commands)).toEqual([
      { name: "add", input: { kind: "named", name: "Item" }, output: { kind: "named", name: "Detailed" }, doc: "Adds an item." },
    ]);
  });

  test("enums, maps and table values of every kind", () => {
    const spec = valid(`
service: Registry
package: registry
types:
  Status: { enum: [ACTIVE, DRAINING, OFF_LINE_2], doc: "Node status." }
  Mode: { enum: [ON] }
  Node:
    status: Status
    labels: map<string, string>
    ports: "map<string,uint32>"
    children: map< string , Node >
    modes: { type: "map<string, Mode>", doc: "Per name." }
state:
  nodes: { key: uint64, value: Node, doc: "Rows." }
  statuses: { key: string, value: Status }
  counts: { key: int64, value: uint64 }
  names: { key: uint32, value: string }
commands:
  put: { input: { node: Node } }
`);
    expect(withoutRanges(spec.enums)).toEqual([
      { name: "Status", doc: "Node status.", values: [{ name: "ACTIVE" }, { name: "DRAINING" }, { name: "OFF_LINE_2" }] },
      { name: "Mode", values: [{ name: "ON" }] },
    ]);
    expect(withoutRanges(spec.types[0]!.fields)).toEqual([
      F("status", N("Status")),
      F("labels", { kind: "map", value: S("string") }),
      F("ports", { kind: "map", value: S("uint32") }),
      F("children", { kind: "map", value: N("Node") }),
      F("modes", { kind: "map", value: N("Mode") }, { doc: "Per name." }),
    ]);
    expect(withoutRanges(spec.tables)).toEqual([
      { name: "nodes", key: "uint64", value: N("Node"), doc: "Rows." },
      { name: "statuses", key: "string", value: N("Status") },
      { name: "counts", key: "int64", value: S("uint64") },
      { name: "names", key: "uint32", value: S("string") },
    ]);
  });

  test("a spec with queries only and empty sections", () => {
    const spec = valid(`
service: Clock
package: clock
types:
state:
commands: {}
queries:
  now: { output: { millis: uint64 } }
`);
    expect(spec.types).toEqual([]);
    expect(spec.tables).toEqual([]);
    expect(spec.commands).toEqual([]);
    expect(spec.queries.map((q) => q.name)).toEqual(["now"]);
  });

  test("commands, queries and tables may be named like reserved words", () => {
    const spec = valid(`
service: Kv
package: kv
state:
  class: { key: string, value: string }
  default: { key: string, value: string }
commands:
  delete: { input: { key: string }, output: { deleted: bool } }
  new: { input: { key: string } }
  import: {}
queries:
  typeof: { output: { n: uint32 } }
`);
    expect(spec.commands.map((c) => c.name)).toEqual(["delete", "new", "import"]);
    expect(spec.tables.map((t) => t.name)).toEqual(["class", "default"]);
    expect(spec.queries.map((q) => q.name)).toEqual(["typeof"]);
  });

  test("anchors and aliases reuse a part of the spec", () => {
    const spec = valid(`
service: Kv
package: kv
commands:
  set: { input: &kv { key: string, value: string } }
  set_twice: { input: *kv }
`);
    expect(withoutRanges(spec.commands[1]!.input)).toEqual(withoutRanges(spec.commands[0]!.input));
  });
});

describe("specific diagnostics", () => {
  test("named payloads, absent input and null command bodies", () => {
    const spec = valid(`
service: Counter
package: counter
types:
  Total: { n: int64 }
  Delta: { by: int64 }
commands:
  reset:
  bump: {}
  add: { input: Delta }
queries:
  value: { output: Total, consistency: stale }
  total: { input: {}, output: Total, consistency: lease }
`);
    expect(withoutRanges(spec.commands)).toEqual([
      { name: "reset" },
      { name: "bump" },
      { name: "add", input: { kind: "named", name: "Delta" } },
    ]);
    expect(withoutRanges(spec.queries)).toEqual([
      { name: "value", output: { kind: "named", name: "Total" }, consistency: "stale" },
      { name: "total", input: { kind: "inline", fields: [] }, output: { kind: "named", name: "Total" }, consistency: "lease" },
    ]);
  });

  test("a spec can be valid YAML flow style on one line", () => {
    valid(`{ service: Kv, package: kv, commands: { set: { input: { key: string } } } }`);
  });

  test("camelCase collisions are reported for fields, tables and methods", () => {
    expect(
      problems(`
service: Kv
package: kv
state:
  node2: { key: string, value: string }
  node_2: { key: string, value: string }
commands:
  set: { input: { a_1: string, a1: string } }
`),
    ).toBe(
      [
        `raft.yaml:6:3: name "node_2" of state.node_2 collides with state.node2: both are "node2" in TypeScript`,
        `raft.yaml:8:32: field "a1" in commands.set.input collides with field "a_1": both are "a1" in TypeScript`,
        "",
      ].join("\n"),
    );
  });

  test("object-member names in camelCase form", () => {
    expect(
      problems(`
service: Kv
package: kv
commands:
  to_string: { input: { has_own_property: bool, to_j_s_o_n: string } }
  raw: {}
`),
    ).toBe(
      [
        `raft.yaml:5:3: command name "to_string" is reserved (as "toString"): every JavaScript object has that property`,
        `raft.yaml:5:25: field name "has_own_property" in commands.to_string.input is reserved (as "hasOwnProperty"): every JavaScript object has that property`,
        `raft.yaml:5:49: field name "to_j_s_o_n" in commands.to_string.input is reserved (as "toJSON"): every JavaScript object has that property`,
        `raft.yaml:6:3: command name "raw" is reserved: the generated client has a method "raw"`,
        "",
      ].join("\n"),
    );
  });

  test("a type named like the service or like a generated output", () => {
    expect(
      problems(`
service: Kv
package: kv
types:
  Kv: { a: string }
  GetOutput: { a: string }
  KvState: { a: string }
queries:
  get: { output: { a: string } }
`),
    ).toBe(
      [
        `raft.yaml:5:3: type "Kv" has the name of the service; the proto service and message would collide`,
        `raft.yaml:6:3: type "GetOutput" collides with the output type generated for queries.get`,
        `raft.yaml:7:3: type name "KvState" is reserved: the code generated for service "Kv" declares it`,
        "",
      ].join("\n"),
    );
  });

  test("a cycle of two messages reports both fields; optional, repeated and map fields break cycles", () => {
    expect(
      problems(`
service: T
package: t
types:
  A: { b: B, a_opt: { type: A, optional: true }, a_map: "map<string, A>" }
  B: { a: A }
commands:
  c: { input: A }
`),
    ).toBe(
      [
        `raft.yaml:5:8: field "b" in types.A makes "A" contain itself (A -> B -> A); make it optional or repeated`,
        `raft.yaml:6:8: field "a" in types.B makes "B" contain itself (B -> A -> B); make it optional or repeated`,
        "",
      ].join("\n"),
    );
  });

  test("a long chain of required fields is checked for cycles in linear time", () => {
    const lines = ["service: T", "package: t", "types:"];
    const n = 3_000;
    for (let i = 0; i < n; i++) lines.push(`  T${i}: { next: T${i + 1} }`);
    lines.push(`  T${n}: { back: T${n - 1}, name: string }`, "commands:", "  c: { input: T0 }");
    const text = lines.join("\n") + "\n";
    const started = Date.now();
    const { issues } = validateSpec(text);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(issues.map((i) => i.message)).toEqual([
      `field "next" in types.T${n - 1} makes "T${n - 1}" contain itself (T${n - 1} -> T${n} -> T${n - 1}); make it optional or repeated`,
      `field "back" in types.T${n} makes "T${n}" contain itself (T${n} -> T${n - 1} -> T${n}); make it optional or repeated`,
    ]);
  });

  test("keys YAML reads as numbers or booleans are names as written", () => {
    expect(
      problems(`
service: Kv
package: kv
types:
  Flag: { enum: [TRUE, FALSE, NULL] }
commands:
  1: {}
  true: {}
`),
    ).toBe(
      [
        `raft.yaml:7:3: command name "1" is not snake_case`,
        "",
      ].join("\n"),
    );
  });

  test("a key that is not a name", () => {
    expect(problems(`service: Kv\npackage: kv\ncommands:\n  ? [a, b]\n  : {}\n  set: {}\n`)).toBe(
      `raft.yaml:4:5: a key in commands must be a name, got a list\n`,
    );
  });

  test("the same name once quoted and once as a number is a duplicate key", () => {
    expect(problems(`service: Kv\npackage: kv\ncommands:\n  "1": {}\n  1: {}\n`)).toBe(
      [`raft.yaml:4:3: command name "1" is not snake_case`, `raft.yaml:5:3: duplicate key "1" in commands`, ""].join("\n"),
    );
  });

  test("YAML syntax errors alone are reported when the text does not parse", () => {
    const out = problems(`service: kv\npackage: Bad-Package\ncommands:\n  set: { input: [ }\n`);
    expect(out).toMatch(/^raft\.yaml:4:\d+: invalid YAML: /);
    expect(out).not.toContain("package");
  });

  test("duplicate keys do not hide other issues", () => {
    expect(problems(`service: kv\npackage: kv\ncommands:\n  set: {}\n  set: {}\n`)).toBe(
      [
        `raft.yaml:1:10: service name "kv" is not PascalCase; did you mean "Kv"?`,
        `raft.yaml:5:3: duplicate key "set" in commands`,
        "",
      ].join("\n"),
    );
  });

  test("unknown type suggestions: edit distance, case, other languages' names, lists", () => {
    const out = problems(`
service: T
package: t
types:
  Broker: { a: String, b: int, c: boolean, d: "string[]", e: "list<uint64>", f: Brokre, g: Zzz }
commands:
  c: { input: Broker }
`);
    expect(out).toBe(
      [
        `raft.yaml:5:16: unknown type "String" in types.Broker.a; did you mean "string"?`,
        `raft.yaml:5:27: unknown type "int" in types.Broker.b; did you mean "int32"?`,
        `raft.yaml:5:35: unknown type "boolean" in types.Broker.c; did you mean "bool"?`,
        `raft.yaml:5:47: unknown type "string[]" in types.Broker.d; for a list write { type: string, repeated: true }`,
        `raft.yaml:5:62: unknown type "list<uint64>" in types.Broker.e; for a list write { type: uint64, repeated: true }`,
        `raft.yaml:5:81: unknown type "Brokre" in types.Broker.f; did you mean "Broker"?`,
        `raft.yaml:5:92: unknown type "Zzz" in types.Broker.g`,
        "",
      ].join("\n"),
    );
  });

  test("too many alias uses are refused, cheaply", () => {
    const lines = ["service: T", "package: t", "types:", "  Big:", "    f0: &f { type: string }"];
    for (let i = 1; i <= 10_001; i++) lines.push(`    f${i}: *f`);
    lines.push("commands:", "  c: { input: Big }");
    const text = lines.join("\n") + "\n";
    const started = Date.now();
    const { issues } = validateSpec(text);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(issues.map((i) => i.code)).toContain("too-many-aliases");
  });

  test("loadSpec reports duplicate keys with their path and keeps the document", () => {
    const { doc, issues, fatal } = loadSpec("a:\n  b: 1\n  b: 2\n");
    expect(fatal).toBe(false);
    expect(doc?.contents).not.toBeNull();
    expect(issues).toEqual([{ code: "duplicate-key", path: ["a", "b"], message: `duplicate key "b" in a`, range: { start: 12, end: 13 } }]);
  });
});

describe("diagnostics helpers", () => {
  test("formatIssues: 1-based positions, sorted by position then message, one line each", () => {
    const text = "ab\ncd\n\nef";
    const issue = (start: number, message: string): Issue => ({ code: "x", path: [], message, range: { start, end: start } });
    expect(formatIssues([issue(8, "z"), issue(4, "b"), issue(0, "q"), issue(4, "a")], "dir/raft.yaml", text)).toBe(
      "dir/raft.yaml:1:1: q\ndir/raft.yaml:2:2: a\ndir/raft.yaml:2:2: b\ndir/raft.yaml:4:2: z\n",
    );
    expect(formatIssues([], "raft.yaml", text)).toBe("");
    expect(formatIssues([issue(999, "past the end")], "f", "a\nb")).toBe("f:2:2: past the end\n");
    expect(lineCol("a\r\nb", 3)).toEqual({ line: 2, col: 1 });
  });

  test("formatPath", () => {
    expect(formatPath(["types", "Status", "enum", 1])).toBe("types.Status.enum[1]");
    expect(formatPath([])).toBe("");
  });

  test("editDistance counts a transposition as one edit", () => {
    expect(editDistance("dco", "doc")).toBe(1);
    expect(editDistance("optinal", "optional")).toBe(1);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("same", "same")).toBe(0);
  });

  test("suggest: close enough only, case-insensitive, deterministic ties", () => {
    expect(suggest("Brokr", ["Broker", "string"])).toBe("Broker");
    expect(suggest("optinal", ["type", "optional", "repeated", "doc", "number"])).toBe("optional");
    expect(suggest("dco", ["doc", "type"])).toBe("doc");
    expect(suggest("STRING", ["string", "bytes"])).toBe("string");
    expect(suggest("x", ["y", "id"])).toBeUndefined();
    expect(suggest("tables", ["service", "package", "state", "commands", "queries"])).toBeUndefined();
    expect(suggest("uint", ["uint32", "uint64"])).toBe("uint32");
    expect(suggest("uint", ["uint64", "uint32"])).toBe("uint32");
    expect(suggest("same", ["same"])).toBeUndefined();
    expect(suggest("anything", [])).toBeUndefined();
  });
});

describe("validation never throws", () => {
  const tokens = [
    "service", "package", "types", "state", "commands", "queries", "doc", "input", "output", "consistency",
    "key", "value", "type", "optional", "repeated", "number", "enum", "fields", "string", "uint64", "map<string, ",
    "map<", ">", "Kv", "Node", "__proto__", "constructor", "true", "3", "-1", "0x1f", "1e400", "null", "~",
    ":", ": ", ",", "{", "}", "[", "]", "- ", "? ", "\n", "\n  ", "\n    ", "\t", " ", "#", "&a ", "*a", "*b", "!tag ",
    "!!str ", "!!binary ", "|", ">-", "'", '"', "\\", "---", "...", "%YAML 1.2", "@", "`", "\u00e9", "\ud83d", "\r\n",
  ];
  const yamlish = fc.array(fc.constantFrom(...tokens), { maxLength: 60 }).map((parts) => parts.join(""));

  propTest.prop([yamlish], { numRuns: 400 })("random YAML-ish text", (text) => {
    checkResult(text, validateSpec(text));
  });

  propTest.prop([fc.string({ maxLength: 200 })], { numRuns: 200 })("random strings", (text) => {
    checkResult(text, validateSpec(text));
  });

  const names = fc.constantFrom(
    "service", "package", "doc", "types", "state", "commands", "queries", "input", "output", "consistency", "key",
    "value", "type", "optional", "repeated", "number", "enum", "fields", "Kv", "Node", "set", "get", "a_b", "aB",
    "__proto__", "constructor", "class", "SetInput", "x",
  );
  const leaf = fc.oneof(
    fc.constantFrom("string", "uint64", "Node", "Kv", "map<string, Node>", "map<int32, string>", "linearizable", "ACTIVE", "bad name", ""),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.double(),
  );
  const tree = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, tie("map"), tie("list")),
    map: fc.dictionary(names, tie("node"), { maxKeys: 6 }),
    list: fc.array(tie("node"), { maxLength: 4 }),
  })).node;

  propTest.prop([tree], { numRuns: 400 })("random mappings", (value) => {
    const text = stringify(value);
    checkResult(text, validateSpec(text));
  });

  propTest.prop([fc.nat(DESIGN_SPEC.length), fc.nat(20), yamlish], { numRuns: 300 })("the DESIGN spec with a random edit", (at, cut, insert) => {
    const text = DESIGN_SPEC.slice(0, at) + insert + DESIGN_SPEC.slice(at + cut);
    checkResult(text, validateSpec(text));
  });
});
