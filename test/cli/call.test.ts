// `raftgen call` against real NodeServers in this process (3 nodes, RocksDB in mkdtemp, gRPC on
// 127.0.0.1), run in-process with a captured io: JSON in and out for commands and queries
// (64-bit integers as strings, enums by name, bytes as base64, maps), every kind of bad input
// as one line and exit 1, a failing handler as CommandFailed, usage errors as exit 2, a spec
// with errors as file:line:col diagnostics, and a leader hint followed from a follower.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callCommand, parseJsonInput } from "../../generator/call-command.js";
import { type TestCluster, captureIO, closedEndpoint, compileStore, startStoreCluster } from "./cli-cluster.js";

describe("raftgen call", () => {
  let cluster: TestCluster;
  let eps = "";
  const call = async (...args: string[]) => {
    const io = captureIO();
    const code = await callCommand(["--spec", cluster.specPath, "--endpoints", eps, ...args], io);
    return { code, out: io.out, err: io.err };
  };

  beforeAll(async () => {
    cluster = await startStoreCluster(3);
    eps = cluster.endpoints.join(",");
    await cluster.waitForLeader();
  });
  afterAll(async () => {
    await cluster?.close();
  });

  const item = {
    name: "a",
    count: "18446744073709551615",
    delta: "-9223372036854775808",
    color: "GREEN",
    blob: Buffer.from([0, 1, 2, 250, 255]).toString("base64"),
    labels: { zone: "eu-1", rack: "r7" },
    ttl_ms: 4294967295,
  };
  const itemJson = {
    name: "a",
    count: "18446744073709551615",
    delta: "-9223372036854775808",
    color: "GREEN",
    blob: "AAEC+v8=",
    labels: { rack: "r7", zone: "eu-1" },
    ttlMs: 4294967295,
  };

  it("calls a command: JSON in, proto3 JSON out (64-bit as strings, enum by name, bytes base64, a map)", async () => {
    const r = await call("put", JSON.stringify(item));
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out) as { item: unknown; index: string };
    expect(out.item).toEqual(itemJson);
    expect(out.index).toMatch(/^[1-9][0-9]*$/);
    expect(r.out.endsWith("\n")).toBe(true);
  });

  it("calls a query by either name, with each consistency", async () => {
    for (const consistency of ["linearizable", "lease", "stale"]) {
      const r = await call("get", '{"name":"a"}', "--consistency", consistency);
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out)).toEqual({ item: itemJson });
    }
    // A query without input; a 64-bit sum printed as a string.
    const total = await call("total");
    expect(total.code).toBe(0);
    expect(JSON.parse(total.out)).toEqual({ count: "18446744073709551615" });
    // Absent optional output: {}.
    const none = await call("get", '{"name":"nobody"}');
    expect(JSON.parse(none.out)).toEqual({});
  });

  it("accepts camelCase method and field names, 64-bit integers as exact JSON numbers, enums by number", async () => {
    const r = await call("Put", '{"name":"b","count":18446744073709551615,"delta":-42,"color":2,"ttlMs":7}');
    expect(r.err).toBe("");
    expect(JSON.parse(r.out).item).toEqual({ name: "b", count: "18446744073709551615", delta: "-42", color: "BLUE", blob: "", labels: {}, ttlMs: 7 });
    const g = await call("get", '{"name":"b"}');
    expect(JSON.parse(g.out).item.count).toBe("18446744073709551615");
  });

  it("a command without output prints {}; --no-session works", async () => {
    const r = await call("remove", '{"name":"b"}');
    expect(r).toEqual({ code: 0, out: "{}\n", err: "" });
    const again = await call("remove", '{"name":"b"}', "--no-session");
    expect(again).toEqual({ code: 0, out: "{}\n", err: "" });
  });

  it("a handler that throws: CommandFailed with its message, exit 1", async () => {
    const r = await call("explode", '{"reason":"no disk"}');
    expect(r).toEqual({ code: 1, out: "", err: "CommandFailed: refused: no disk\n" });
  });

  it("malformed JSON: one line with the position, exit 1", async () => {
    for (const [text, where] of [
      ['{"name": }', "line 1, column 10 (offset 9): expected a JSON value, found \"}\""],
      ['{"name": "a"', "line 1, column 13 (offset 12): expected ',' or '}' after a property value, found the end of the input"],
      ["{\n  'name': 1}", "line 2, column 3 (offset 4): expected a property name in double quotes, found \"'\""],
      ['{"name":"a"} x', 'line 1, column 14 (offset 13): unexpected "x" after the JSON value'],
      ['{"name":"a","name":"b"}', 'line 1, column 13 (offset 12): duplicate key "name"'],
    ]) {
      const r = await call("get", text!);
      expect(r, text).toEqual({ code: 1, out: "", err: `raftgen call: malformed JSON input at ${where}\n` });
    }
  });

  it("input that does not fit the message: InvalidArgument naming the field, exit 1, nothing sent", async () => {
    const cases: [string, string][] = [
      ['{"name":"x","ttl_ms":"soon"}', 'InvalidArgument: field "ttl_ms": "soon" is not a decimal integer'],
      ['{"name":"x","ttl_ms":4294967296}', 'InvalidArgument: field "ttl_ms": 4294967296 is out of the uint32 range'],
      ['{"name":"x","ttl_ms":-1}', 'InvalidArgument: field "ttl_ms": -1 is out of the uint32 range'],
      ['{"name":"x","ttl_ms":99999999999999999999}', 'InvalidArgument: field "ttl_ms": "99999999999999999999" is out of the uint32 range'],
      ['{"name":7}', 'InvalidArgument: field "name": expected a string, got number 7'],
      ['{"name":"x","count":"-1"}', 'InvalidArgument: field "count": "-1" is out of the uint64 range'],
      ['{"name":"x","count":18446744073709551616}', 'InvalidArgument: field "count": "18446744073709551616" is out of the uint64 range'],
      ['{"name":"x","color":"PURPLE"}', 'InvalidArgument: field "color": "PURPLE" is not a value of Color (RED, GREEN, BLUE)'],
      ['{"name":"x","blob":"not base64!"}', 'InvalidArgument: field "blob": expected base64 bytes, got string "not base64!"'],
      ['{"name":"x","labels":{"a":1}}', "InvalidArgument: field \"labels['a']\": expected a string, got number 1"],
      ['{"name":"x","size":1}', 'InvalidArgument: field "size": Item has no such field'],
      ["[1]", "InvalidArgument: Item: expected a JSON object, got an array"],
    ];
    for (const [input, message] of cases) {
      const r = await call("put", input);
      expect(r, input).toEqual({ code: 1, out: "", err: `${message}\n` });
    }
    // Nothing of the above reached the cluster.
    const g = await call("get", '{"name":"x"}');
    expect(JSON.parse(g.out)).toEqual({});
  });

  it("an unknown command gets a suggestion, exit 1", async () => {
    expect(await call("pt", "{}")).toEqual({ code: 1, out: "", err: 'raftgen call: unknown command or query "pt"; did you mean "put"?\n' });
    expect(await call("totl")).toEqual({ code: 1, out: "", err: 'raftgen call: unknown command or query "totl"; did you mean "total"?\n' });
    expect(await call("frobnicate")).toEqual({
      code: 1,
      out: "",
      err: 'raftgen call: unknown command or query "frobnicate" (Store has commands: explode, put, remove; queries: get, total)\n',
    });
  });

  it("--consistency on a command is a usage error (exit 2)", async () => {
    const r = await call("remove", '{"name":"a"}', "--consistency", "stale");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^raftgen call: --consistency applies to queries; "remove" is a command/);
    const bad = await call("get", "{}", "--consistency", "eventual");
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^raftgen call: --consistency must be linearizable, lease, stale, got "eventual"\n/);
  });

  it("follows the leader hint when only a follower is given", async () => {
    const leader = await cluster.waitForLeader();
    const follower = cluster.servers.find((s) => s !== leader)!;
    const io = captureIO();
    const code = await callCommand(["--spec", cluster.specPath, "--endpoints", follower.grpcAddress, "--verbose", "put", '{"name":"via-follower","count":3}'], io);
    expect(code).toBe(0);
    expect(JSON.parse(io.out).item).toMatchObject({ name: "via-follower", count: "3" });
    expect(io.err).toBe(`raftgen call: command put done; current endpoint ${leader.grpcAddress}\n`);
  });

  it("a cluster that cannot be reached: Timeout within the deadline, exit 1", async () => {
    const closed = await closedEndpoint();
    const io = captureIO();
    const started = Date.now();
    const code = await callCommand(["--spec", cluster.specPath, "--endpoints", closed, "--timeout-ms", "500", "get", '{"name":"a"}'], io);
    expect(code).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(io.err).toMatch(/^Timeout: no answer within 500 ms \(last: .*\)\n$/);
    expect(io.err.split("\n")).toHaveLength(2);
  });

  it("usage errors exit 2", async () => {
    for (const args of [[], ["--spec", "x.yaml"], ["--endpoints", "a:1", "get"], ["--spec", "x.yaml", "--endpoints", "a:1"], ["--spec", "x.yaml", "--endpoints", "a", "get"], ["--spec", "x", "--endpoints", "a:1", "get", "{}", "extra"], ["--nope"]]) {
      const io = captureIO();
      expect(await callCommand(args, io), args.join(" ")).toBe(2);
      expect(io.err).toMatch(/^raftgen call: .*\nusage: raftgen call/);
    }
    const io = captureIO();
    expect(await callCommand(["--spec", path.join(cluster.root, "missing.yaml"), "--endpoints", "a:1", "get"], io)).toBe(2);
    expect(io.err).toMatch(/^raftgen call: cannot read the spec: ENOENT/);
  });
});

describe("raftgen call on a spec with errors", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "raftgen-call-bad-"));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("prints every problem as file:line:col and exits 1 without calling anything", async () => {
    const spec = path.join(dir, "raft.yaml");
    await writeFile(spec, "service: store\npackage: store\ncommands:\n  set: { input: { key: strng } }\n");
    const io = captureIO();
    const code = await callCommand(["--spec", spec, "--endpoints", await closedEndpoint(), "set", "{}"], io);
    expect(code).toBe(1);
    expect(io.out).toBe("");
    const lines = io.err.trimEnd().split("\n");
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(line).toMatch(/raft\.yaml:\d+:\d+: /);
    expect(io.err).toMatch(/raft\.yaml:1:10: service name "store" is not PascalCase/);
    expect(io.err).toMatch(/raft\.yaml:4:\d+: unknown type "strng".*did you mean "string"\?/);
  });

  it("a project directory stands for its raft.yaml", async () => {
    const io = captureIO();
    expect(await callCommand(["--spec", dir, "--endpoints", "a:1", "set"], io)).toBe(1);
    expect(io.err).toMatch(/raft\.yaml:1:10: /);
  });
});

describe("parseJsonInput", () => {
  const { service } = compileStore();
  const desc = service.descriptor;

  it("keeps integer literals beyond 2^53 exact in integer fields, nested and in maps", () => {
    expect(parseJsonInput('{"count": 18446744073709551615, "delta": -9223372036854775808}', "Item", desc)).toEqual({ count: "18446744073709551615", delta: "-9223372036854775808" });
    expect(parseJsonInput('{"item": {"count": 9007199254740993}}', "GetOutput", desc)).toEqual({ item: { count: "9007199254740993" } });
    // Elsewhere a big literal is a (rounded) number, for the codec to refuse.
    expect(parseJsonInput('{"name": 9007199254740993}', "Item", desc)).toEqual({ name: 9007199254740992 });
    expect(parseJsonInput('{"n": 1.5e3, "s": "\\u00e9\\n", "t": [true, false, null]}', "Item", desc)).toEqual({ n: 1500, s: "é\n", t: [true, false, null] });
  });

  it("a __proto__ key is data, and the codec refuses it as an unknown field", () => {
    const v = parseJsonInput('{"__proto__": {"x": 1}}', "Item", desc) as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(() => service.fromJson("Item", v)).toThrow('field "__proto__": Item has no such field');
  });

  it("refuses what JSON does not allow", () => {
    for (const text of ["", "01", "1.", "-", "+1", "{,}", "[1,]", '"\t"', "'a'", "NaN", '"\\x"', "[".repeat(200)]) {
      expect(() => parseJsonInput(text, "Item", desc), JSON.stringify(text)).toThrow(/^line \d+, column \d+ \(offset \d+\): /);
    }
  });
});
