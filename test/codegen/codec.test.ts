// The codec of runtime/codegen-v1: exact round trips between TypeScript values and protobuf
// bytes (64-bit integers over their whole range, optional presence, repeated, maps of
// messages, enums, defaults, float precision), interoperability with protobufjs's own
// encoder and decoder, the errors (each naming the field), the proto3 JSON mapping, a
// fast-check round-trip property, and descriptor checks.

import { fc, test as propTest } from "@fast-check/vitest";
import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import { CodecError, type ServiceDescriptor, compileService } from "raftgen/runtime/codegen-v1";
import { kv, registry } from "./fixtures.js";

const enc = (message: string, value: unknown) => registry.encode(message, value);
const dec = (message: string, bytes: Uint8Array) => registry.decode(message, bytes);
const roundTrip = (message: string, value: unknown) => dec(message, enc(message, value));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** The error message of `f`, which must throw a CodecError. */
function codecError(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(CodecError);
    return (err as Error).message;
  }
  throw new Error("expected a CodecError");
}

const defaultNode = {
  nodeId: 0n,
  clusterName: "",
  labels: {},
  tags: [],
  status: "ACTIVE",
  offset: 0n,
  weight: 0,
  score: 0,
  port: 0,
  delta: 0,
  alive: false,
  blob: new Uint8Array(0),
  ids: [],
};

const fullNode = {
  nodeId: 18446744073709551615n,
  clusterName: "east",
  extend: "ext",
  labels: { zone: "a", rack: "r1" },
  tags: ["x", "", "z"],
  status: "DRAINING",
  offset: -9223372036854775808n,
  weight: 0.5,
  score: 0.1,
  port: 4294967295,
  delta: -2147483648,
  alive: true,
  blob: new Uint8Array([0, 1, 254, 255]),
  ids: [0n, -1n, 9007199254740993n, 9223372036854775807n, -9223372036854775808n],
  optCount: 0n,
  optStatus: "ACTIVE",
};

describe("round trips", () => {
  it("a message with every kind of field", () => {
    expect(roundTrip("Node", fullNode)).toEqual(fullNode);
  });

  it.each([
    ["0", 0n],
    ["-1", -1n],
    ["2^53+1", 2n ** 53n + 1n],
    ["-(2^53+1)", -(2n ** 53n + 1n)],
    ["2^63-1", 2n ** 63n - 1n],
    ["-2^63", -(2n ** 63n)],
  ])("int64 %s", (_, a) => {
    expect(roundTrip("Small", { a, b: 0n, d: [] })).toEqual({ a, b: 0n, d: [] });
  });

  it.each([
    ["0", 0n],
    ["2^53+1", 2n ** 53n + 1n],
    ["2^63", 2n ** 63n],
    ["2^64-1", 2n ** 64n - 1n],
  ])("uint64 %s", (_, b) => {
    expect(roundTrip("Small", { a: 0n, b, d: [] })).toEqual({ a: 0n, b, d: [] });
  });

  it("64-bit values agree with protobufjs's own codec (Long), both ways", () => {
    const type = registry.type("Small");
    const bytes = enc("Small", { a: -(2n ** 63n), b: 2n ** 64n - 1n, d: [] });
    const theirs = type.toObject(type.decode(bytes), { longs: String });
    expect(theirs).toEqual({ a: "-9223372036854775808", b: "18446744073709551615" });
    const fromThem = type.encode(type.fromObject({ a: "-2", b: "9007199254740993", c: "", d: [1, 2] })).finish();
    expect(dec("Small", fromThem)).toEqual({ a: -2n, b: 9007199254740993n, c: "", d: ["DRAINING", "DEAD"] });
  });

  it("protobufjs decodes a whole message we encode to the same values", () => {
    const type = registry.type("Node");
    const theirs = type.toObject(type.decode(enc("Node", fullNode)), { longs: String, enums: String, bytes: Array, defaults: false });
    expect(theirs).toMatchObject({ node_id: "18446744073709551615", labels: { zone: "a", rack: "r1" }, status: "DRAINING", ids: ["0", "-1", "9007199254740993", "9223372036854775807", "-9223372036854775808"] });
  });

  it("optional fields keep presence, also when they hold the default", () => {
    const present = roundTrip("Node", { ...defaultNode, extend: "", optCount: 0n, optStatus: "ACTIVE" }) as Record<string, unknown>;
    expect(present.extend).toBe("");
    expect(present.optCount).toBe(0n);
    expect(present.optStatus).toBe("ACTIVE");
    const absent = roundTrip("Node", defaultNode) as Record<string, unknown>;
    expect("extend" in absent).toBe(false);
    expect("optCount" in absent).toBe(false);
    expect(absent).toEqual(defaultNode);
  });

  it("non-optional fields decode to their defaults, a nested message to an object of defaults", () => {
    expect(dec("Group", new Uint8Array(0))).toEqual({ name: "", members: {}, leader: defaultNode, history: [], nodes: [], scores: {} });
    expect(dec("Node", new Uint8Array(0))).toEqual(defaultNode);
  });

  it("encoding is canonical: defaults omitted, map keys sorted", () => {
    expect(enc("Node", defaultNode).length).toBe(0);
    expect(hex(enc("Group", { name: "", members: {}, leader: defaultNode, history: [], nodes: [], scores: {} }))).toBe("1a00");
    const g1 = { name: "g", members: { b: defaultNode, a: defaultNode }, leader: defaultNode, history: [], nodes: [], scores: { y: 1n, x: 2n } };
    const g2 = { ...g1, members: { a: defaultNode, b: defaultNode }, scores: { x: 2n, y: 1n } };
    expect(hex(enc("Group", g1))).toBe(hex(enc("Group", g2)));
  });

  it("map<string, message>, repeated messages and repeated enums", () => {
    const g = {
      name: "g",
      members: { "": fullNode, "é🙂": defaultNode, __proto__x: { ...defaultNode, port: 7 } },
      leader: { ...defaultNode, clusterName: "lead" },
      history: ["DEAD", "ACTIVE", "DRAINING"],
      backup: fullNode,
      nodes: [defaultNode, fullNode],
      scores: { a: 2n ** 64n - 1n },
    };
    expect(roundTrip("Group", g)).toEqual(g);
  });

  it("a map key __proto__ is an ordinary key", () => {
    const members = JSON.parse('{"__proto__": {"port": 1}}') as Record<string, unknown>;
    const g = registry.fromJson<{ members: Record<string, { port: number }> }>("Group", { members });
    expect(Object.keys(g.members)).toEqual(["__proto__"]);
    const back = roundTrip("Group", g) as { members: Record<string, { port: number }> };
    expect(Object.keys(back.members)).toEqual(["__proto__"]);
    expect(Object.getOwnPropertyDescriptor(back.members, "__proto__")?.value.port).toBe(1);
  });

  it("float keeps float precision, double keeps double precision, -0 and NaN survive", () => {
    const n = roundTrip("Node", { ...defaultNode, weight: 0.1, score: 0.1 }) as { weight: number; score: number };
    expect(n.weight).toBe(Math.fround(0.1));
    expect(n.weight).not.toBe(0.1);
    expect(n.score).toBe(0.1);
    const z = roundTrip("Node", { ...defaultNode, weight: -0, score: -0 }) as { weight: number; score: number };
    expect(Object.is(z.weight, -0)).toBe(true);
    expect(Object.is(z.score, -0)).toBe(true);
    const nan = roundTrip("Node", { ...defaultNode, weight: NaN, score: Infinity }) as { weight: number; score: number };
    expect(nan.weight).toBeNaN();
    expect(nan.score).toBe(Infinity);
  });

  it("strings keep a leading BOM and astral characters; bytes come back as a fresh Uint8Array", () => {
    const s = "\uFEFFa🙂\u0000é";
    expect((roundTrip("Node", { ...defaultNode, clusterName: s }) as { clusterName: string }).clusterName).toBe(s);
    const bytes = enc("Node", { ...defaultNode, blob: new Uint8Array([9, 8, 7]) });
    const blob = (dec("Node", bytes) as { blob: Uint8Array }).blob;
    expect(blob.constructor).toBe(Uint8Array);
    bytes.fill(0);
    expect([...blob]).toEqual([9, 8, 7]);
  });

  it("accepts unpacked repeated numbers, skips unknown fields, merges a message field seen twice", () => {
    const w = protobuf.Writer.create();
    w.uint32((14 << 3) | 0).int64(5); // ids, unpacked
    w.uint32((14 << 3) | 0).int64(-5);
    w.uint32((99 << 3) | 2).string("unknown"); // skipped
    w.uint32((98 << 3) | 0).uint32(7); // skipped
    w.uint32((98 << 3) | 5).fixed32(7); // skipped
    expect(dec("Node", w.finish())).toEqual({ ...defaultNode, ids: [5n, -5n] });

    const leader1 = enc("Node", { ...defaultNode, clusterName: "a", tags: ["t1"] });
    const leader2 = enc("Node", { ...defaultNode, port: 9, tags: ["t2"] });
    const g = protobuf.Writer.create();
    g.uint32((3 << 3) | 2).bytes(leader1);
    g.uint32((3 << 3) | 2).bytes(leader2);
    expect((dec("Group", g.finish()) as { leader: unknown }).leader).toEqual({ ...defaultNode, clusterName: "a", port: 9, tags: ["t1", "t2"] });
  });

  it("unknown properties of a value are ignored", () => {
    expect(kv.decode("SetInput", kv.encode("SetInput", { key: "k", value: "v", extra: 1 }))).toEqual({ key: "k", value: "v" });
  });

  it("table values: scalars in a field-1 wrapper, messages as themselves", () => {
    expect(hex(kv.encodeTableValue("kv", "hi"))).toBe("0a026869");
    expect(kv.decodeTableValue("kv", kv.encodeTableValue("kv", "hi"))).toBe("hi");
    expect(kv.encodeTableValue("counters", 0n).length).toBe(0);
    expect(kv.decodeTableValue("counters", kv.encodeTableValue("counters", -(2n ** 63n)))).toBe(-(2n ** 63n));
    expect(kv.decodeTableValue("counters", new Uint8Array(0))).toBe(0n);
  });
});

describe("encode errors name the field", () => {
  it.each<[string, string, unknown, string]>([
    ["missing field", "SetInput", { value: "v" }, "SetInput.key: expected a string, got undefined"],
    ["wrong type", "SetInput", { key: 5, value: "v" }, "SetInput.key: expected a string, got number 5"],
    ["null in an optional", "GetOutput", { value: null }, "GetOutput.value: expected a string, got null"],
    ["not an object", "SetInput", "x", 'SetInput: expected a SetInput object, got string "x"'],
    ["number for int64", "AddInput", { by: 1, at: 0n }, "AddInput.by: expected a bigint (int64), got number 1"],
    ["int64 above range", "AddInput", { by: 2n ** 63n, at: 0n }, "AddInput.by: 9223372036854775808n is out of the int64 range"],
    ["int64 below range", "AddInput", { by: -(2n ** 63n) - 1n, at: 0n }, "AddInput.by: -9223372036854775809n is out of the int64 range"],
    ["negative uint64", "CountOutput", { count: -1n }, "CountOutput.count: -1n is out of the uint64 range"],
    ["uint64 above range", "CountOutput", { count: 2n ** 64n }, "CountOutput.count: 18446744073709551616n is out of the uint64 range"],
    ["bool type", "DeleteOutput", { deleted: "yes" }, 'DeleteOutput.deleted: expected a boolean, got string "yes"'],
  ])("%s", (_, message, value, error) => {
    expect(codecError(() => kv.encode(message, value))).toBe(error);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["uint32 negative", { port: -1 }, "Node.port: -1 is out of the uint32 range"],
    ["uint32 above range", { port: 2 ** 32 }, "Node.port: 4294967296 is out of the uint32 range"],
    ["int32 above range", { delta: 2 ** 31 }, "Node.delta: 2147483648 is out of the int32 range"],
    ["non-integer", { delta: 1.5 }, "Node.delta: 1.5 is not an integer"],
    ["uint32 as bigint", { port: 1n }, "Node.port: expected a number (uint32), got bigint 1n"],
    ["unknown enum name", { status: "FOO" }, 'Node.status: "FOO" is not a value of Status (ACTIVE, DRAINING, DEAD)'],
    ["enum as number", { status: 1 }, "Node.status: expected a Status name (ACTIVE, DRAINING, DEAD), got number 1"],
    ["repeated element", { tags: ["a", 2] }, "Node.tags[1]: expected a string, got number 2"],
    ["repeated not an array", { tags: "a" }, 'Node.tags: expected an array of string, got string "a"'],
    ["map value", { labels: { a: "x", b: 1 } }, 'Node.labels["b"]: expected a string, got number 1'],
    ["map not an object", { labels: [] }, "Node.labels: expected an object (map<string, string>), got an array"],
    ["bytes", { blob: [1, 2] }, "Node.blob: expected a Uint8Array, got an array"],
    ["float out of range", { weight: 1e39 }, "Node.weight: 1e+39 is out of the float range"],
    ["lone surrogate", { clusterName: "a\uD800" }, "Node.clusterName: the string contains a lone surrogate (not representable in UTF-8)"],
  ])("%s", (_, patch, error) => {
    expect(codecError(() => enc("Node", { ...defaultNode, ...patch }))).toBe(error);
  });

  it("nested paths", () => {
    const g = { name: "g", members: { m1: { ...defaultNode, nodeId: -1n } }, leader: defaultNode, history: [], nodes: [], scores: {} };
    expect(codecError(() => enc("Group", g))).toBe('Group.members["m1"].nodeId: -1n is out of the uint64 range');
    expect(codecError(() => enc("Group", { ...g, members: {}, nodes: [defaultNode, { ...defaultNode, ids: [1n, 2] }] }))).toBe("Group.nodes[1].ids[1]: expected a bigint (int64), got number 2");
    expect(codecError(() => enc("Group", { ...g, members: {}, leader: undefined }))).toBe("Group.leader: expected a Node object, got undefined");
    const e = (() => {
      try {
        enc("Group", g);
      } catch (err) {
        return err as CodecError;
      }
    })();
    expect(e?.path).toBe('Group.members["m1"].nodeId');
  });

  it("an unknown message name is an Error, not a silent pass", () => {
    expect(() => registry.encode("Nope", {})).toThrow(/no message "Nope"/);
  });
});

describe("decode errors name the field", () => {
  const w = () => protobuf.Writer.create();
  it("truncated input", () => {
    const bytes = enc("Node", fullNode);
    expect(codecError(() => dec("Node", bytes.subarray(0, bytes.length - 1)))).toMatch(/^Node: malformed: index out of range/);
    const s = enc("Node", { ...defaultNode, clusterName: "abcdef" });
    expect(codecError(() => dec("Node", s.subarray(0, s.length - 2)))).toBe("Node.clusterName: length 6 runs past the end of its message");
  });
  it("wrong wire type", () => {
    expect(codecError(() => dec("Node", w().uint32((2 << 3) | 0).uint32(5).finish()))).toBe("Node.clusterName: wire type 0 where string has 2");
    expect(codecError(() => dec("Node", w().uint32((6 << 3) | 2).string("x").finish()))).toBe("Node.status: wire type 2 where Status has 0");
  });
  it("unknown enum number", () => {
    expect(codecError(() => dec("Node", w().uint32((6 << 3) | 0).int32(7).finish()))).toBe("Node.status: 7 is not a number of Status");
    expect(codecError(() => dec("Group", w().uint32((4 << 3) | 2).fork().int32(1).int32(9).ldelim().finish()))).toBe("Group.history[1]: 9 is not a number of Status");
  });
  it("invalid UTF-8", () => {
    expect(codecError(() => dec("Node", w().uint32((2 << 3) | 2).bytes(new Uint8Array([0xc3, 0x28])).finish()))).toBe("Node.clusterName: the string is not valid UTF-8");
  });
  it("a length past the end", () => {
    expect(codecError(() => dec("Node", new Uint8Array([(2 << 3) | 2, 10, 65])))).toBe("Node.clusterName: length 10 runs past the end of its message");
    // Inside a nested message: the inner length must fit the outer one.
    const inner = new Uint8Array([(2 << 3) | 2, 5, 65, 65, 65, 65, 65]);
    const outer = new Uint8Array([(3 << 3) | 2, 3, ...inner]);
    expect(codecError(() => dec("Group", outer))).toBe("Group.leader.clusterName: length 5 runs past the end of its message");
  });
  it("field number 0 and bad wire types", () => {
    expect(codecError(() => dec("Node", new Uint8Array([0, 0])))).toBe("Node: field number 0 on the wire");
    expect(codecError(() => dec("Node", w().uint32((99 << 3) | 7).uint32(0).finish()))).toMatch(/^Node: malformed: invalid wire type 7/);
    expect(codecError(() => dec("Node", w().uint32((2 << 3) | 7).uint32(0).finish()))).toBe("Node.clusterName: wire type 7 where string has 2");
  });
  it("not bytes", () => {
    expect(codecError(() => registry.decode("Node", "abc" as unknown as Uint8Array))).toBe('Node: expected bytes (a Uint8Array), got string "abc"');
  });
});

describe("proto3 JSON mapping", () => {
  it("toJson: lowerCamelCase names, 64-bit as strings, enums by name, bytes as base64", () => {
    expect(registry.toJson("Node", fullNode)).toEqual({
      nodeId: "18446744073709551615",
      clusterName: "east",
      extend: "ext",
      labels: { rack: "r1", zone: "a" },
      tags: ["x", "", "z"],
      status: "DRAINING",
      offset: "-9223372036854775808",
      weight: 0.5,
      score: 0.1,
      port: 4294967295,
      delta: -2147483648,
      alive: true,
      blob: "AAH+/w==",
      ids: ["0", "-1", "9007199254740993", "9223372036854775807", "-9223372036854775808"],
      optCount: "0",
      optStatus: "ACTIVE",
    });
    expect(registry.toJson("Node", { ...defaultNode, weight: NaN, score: -Infinity })).toMatchObject({ weight: "NaN", score: "-Infinity" });
    expect(JSON.stringify(registry.toJson("Node", defaultNode))).not.toContain("extend");
  });

  it("fromJson inverts toJson", () => {
    expect(registry.fromJson("Node", registry.toJson("Node", fullNode))).toEqual(fullNode);
    const g = { name: "g", members: { a: fullNode }, leader: defaultNode, history: ["DEAD"], nodes: [fullNode], scores: { k: 5n } };
    expect(registry.fromJson("Group", JSON.parse(JSON.stringify(registry.toJson("Group", g))))).toEqual(g);
  });

  it("fromJson accepts proto names and JSON names, numbers for exact 64-bit values, enum numbers, url-safe base64, null as absent", () => {
    const n = registry.fromJson<Record<string, unknown>>("Node", {
      node_id: 9007199254740991,
      clusterName: "c",
      offset: "-5",
      status: 2,
      blob: "-_8",
      extend: null,
      port: "7",
      weight: "1.5",
      score: "Infinity",
    });
    expect(n).toMatchObject({ nodeId: 9007199254740991n, clusterName: "c", offset: -5n, status: "DEAD", port: 7, weight: 1.5, score: Infinity });
    expect([...(n.blob as Uint8Array)]).toEqual([0xfb, 0xff]);
    expect("extend" in n).toBe(false);
  });

  it.each<[string, unknown, string]>([
    ["non-integer", { node_id: 1.5 }, 'field "node_id": 1.5 is not an integer'],
    ["unsafe number", { nodeId: 2 ** 60 }, 'field "node_id": 1152921504606847000 is beyond 2^53 and may not be exact as a JSON number; pass it as a decimal string'],
    ["uint64 negative", { node_id: "-1" }, 'field "node_id": "-1" is out of the uint64 range'],
    ["uint64 too big", { node_id: "18446744073709551616" }, 'field "node_id": "18446744073709551616" is out of the uint64 range'],
    ["not decimal", { offset: "0x10" }, 'field "offset": "0x10" is not a decimal integer'],
    ["int32 range", { delta: 2147483648 }, 'field "delta": 2147483648 is out of the int32 range'],
    ["unknown field", { nodeID: 1 }, 'field "nodeID": Node has no such field'],
    ["both names", { node_id: "1", nodeId: "1" }, 'field "nodeId": given twice (as "node_id" and "nodeId")'],
    ["unknown enum", { status: "GONE" }, 'field "status": "GONE" is not a value of Status (ACTIVE, DRAINING, DEAD)'],
    ["bad base64", { blob: "a" }, 'field "blob": expected base64 bytes, got string "a"'],
    ["bool", { alive: "true" }, 'field "alive": expected true or false, got string "true"'],
    ["repeated", { tags: "a" }, 'field "tags": expected an array, got string "a"'],
    ["not an object", [], "Node: expected a JSON object, got an array"],
  ])("fromJson error: %s", (_, json, error) => {
    expect(codecError(() => registry.fromJson("Node", json))).toBe(error);
  });

  it("nested JSON paths", () => {
    expect(codecError(() => registry.fromJson("Group", { members: { m: { node_id: 0.5 } } }))).toBe("field \"members['m'].node_id\": 0.5 is not an integer");
    expect(codecError(() => registry.fromJson("Group", { nodes: [{}, { port: -1 }] }))).toBe('field "nodes[1].port": -1 is out of the uint32 range');
  });
});

describe("property: random values round-trip through bytes and JSON", () => {
  const status = fc.constantFrom("ACTIVE", "DRAINING", "DEAD");
  const str = fc.string({ unit: "binary", maxLength: 8 });
  const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
  const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
  const node = fc.record(
    {
      nodeId: uint64,
      clusterName: str,
      extend: str,
      labels: fc.dictionary(str, str, { maxKeys: 3 }),
      tags: fc.array(str, { maxLength: 3 }),
      status,
      offset: int64,
      weight: fc.float(),
      score: fc.double(),
      port: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      delta: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      alive: fc.boolean(),
      blob: fc.uint8Array({ maxLength: 6 }),
      ids: fc.array(int64, { maxLength: 4 }),
      optCount: uint64,
      optStatus: status,
    },
    { requiredKeys: ["nodeId", "clusterName", "labels", "tags", "status", "offset", "weight", "score", "port", "delta", "alive", "blob", "ids"] },
  );
  const small = fc.record({ a: int64, b: uint64, c: str, d: fc.array(status, { maxLength: 4 }) }, { requiredKeys: ["a", "b", "d"] });

  propTest.prop([small], { numRuns: 300 })("Small", (v) => {
    expect(dec("Small", enc("Small", v))).toEqual(v);
    expect(registry.fromJson("Small", JSON.parse(JSON.stringify(registry.toJson("Small", v))))).toEqual(v);
  });

  propTest.prop([node], { numRuns: 200 })("Node", (v) => {
    const back = dec("Node", enc("Node", v));
    expect(back).toEqual(v);
    // The encoding is a function of the value: re-encoding gives the same bytes.
    expect(hex(enc("Node", back))).toBe(hex(enc("Node", v)));
    // Directly, not through JSON.stringify, which writes -0 as 0.
    expect(registry.fromJson("Node", registry.toJson("Node", v))).toEqual(v);
  });
});

describe("descriptor checks", () => {
  const base: ServiceDescriptor = { service: "S", package: "p", messages: { M: { fields: [] } }, enums: {}, tables: {}, commands: {}, queries: {} };
  it.each<[string, Partial<ServiceDescriptor>, RegExp]>([
    ["unknown field type", { messages: { M: { fields: [{ name: "a", ts: "a", no: 1, type: "Nope" }] } } }, /message M field a: unknown type "Nope"/],
    ["repeated field number", { messages: { M: { fields: [{ name: "a", ts: "a", no: 1, type: "string" }, { name: "b", ts: "b", no: 1, type: "string" }] } } }, /used twice/],
    ["reserved field number", { messages: { M: { fields: [{ name: "a", ts: "a", no: 19_500, type: "string" }] } } }, /not a usable protobuf field number/],
    ["enum without 0", { enums: { E: { values: { A: 1 } } } }, /enum E has no value numbered 0/],
    ["required cycle", { messages: { M: { fields: [{ name: "m", ts: "m", no: 1, type: "N" }] }, N: { fields: [{ name: "m", ts: "m", no: 1, type: "M" }] } } }, /cycle of non-optional messages/],
    ["raftgen package", { package: "raftgen.x" }, /raftgen\.\* namespace/],
    ["bad table key", { tables: { t: { ts: "t", key: "double" as never, value: "string" } } }, /key type "double"/],
    ["method with unknown message", { commands: { c: { ts: "c", rpc: "C", input: "X", output: "M", hasOutput: false } } }, /input and output must be messages/],
    ["reserved ts name", { commands: { c: { ts: "constructor", rpc: "C", input: "M", output: "M", hasOutput: false } } }, /bad or repeated ts name/],
  ])("%s", (_, patch, error) => {
    expect(() => compileService({ ...base, ...patch })).toThrow(error);
  });

  it("an optional self-reference is fine, and the protobufjs root has the package namespace", () => {
    const s = compileService({ ...base, package: "a.b", messages: { M: { fields: [{ name: "next", ts: "next", no: 1, type: "M", optional: true }, { name: "kids", ts: "kids", no: 2, type: "M", repeated: true }] } } });
    expect(s.decode("M", s.encode("M", { next: { kids: [] }, kids: [{ kids: [] }] }))).toEqual({ next: { kids: [] }, kids: [{ kids: [] }] });
    expect(s.root.lookupType("a.b.M").fields.next!.options?.proto3_optional).toBe(true);
    expect(s.fullName).toBe("a.b.S");
  });

  it("deep nesting is refused, not a stack overflow", () => {
    const s = compileService({ ...base, messages: { M: { fields: [{ name: "next", ts: "next", no: 1, type: "M", optional: true }] } } });
    let bytes = new Uint8Array(0);
    for (let i = 0; i < 150; i++) bytes = new Uint8Array([0x0a, ...(bytes.length < 128 ? [bytes.length] : [(bytes.length & 0x7f) | 0x80, bytes.length >> 7]), ...bytes]);
    expect(codecError(() => s.decode("M", bytes))).toMatch(/nested deeper than 100/);
  });
});
