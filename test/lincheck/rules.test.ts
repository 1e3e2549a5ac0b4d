// Hand-written histories, one per rule of linearizability the checker must get right, for both
// built-in models. Times are small integers; `null` as a return time means indeterminate
// (Jepsen :info: the operation may take effect at any time after its call, or never).
//
// Reference: Herlihy & Wing, "Linearizability: A Correctness Condition for Concurrent Objects"
// (TOPLAS 1990), section 2: a history is linearizable iff its completed operations (and some
// of its pending ones) can be ordered sequentially, legally for the object, respecting the
// real-time order `a.return < b.call`.

import { describe, expect, it } from "vitest";
import {
  checkOperations,
  describeCheckResult,
  kvModel,
  registerModel,
  type KvInput,
  type KvOutput,
  type Operation,
  type RegisterInput,
  type RegisterOutput,
  type RegisterValue,
} from "../../runtime/testing/lincheck/index.js";

type Span = readonly [call: number, ret: number | null];
type RegOp = Operation<RegisterInput, RegisterOutput>;
type KvOp = Operation<KvInput, KvOutput>;

function op<I, O>(client: number, [call, ret]: Span, input: I, output: O): Operation<I, O> {
  return ret === null
    ? { client: String(client), call, return: Infinity, input, output: undefined }
    : { client: String(client), call, return: ret, input, output };
}

const reg = {
  read: (c: number, s: Span, v: RegisterValue | null): RegOp => op(c, s, { op: "read" }, v),
  write: (c: number, s: Span, v: RegisterValue): RegOp => op(c, s, { op: "write", value: v }, null),
  cas: (c: number, s: Span, from: RegisterValue, to: RegisterValue, ok: boolean): RegOp =>
    op(c, s, { op: "cas", from, to }, ok),
};

const kv = {
  get: (c: number, s: Span, key: string, v: string): KvOp => op(c, s, { op: "get", key }, v),
  put: (c: number, s: Span, key: string, v: string): KvOp => op(c, s, { op: "put", key, value: v }, null),
  append: (c: number, s: Span, key: string, v: string): KvOp => op(c, s, { op: "append", key, value: v }, null),
};

const regVerdict = (ops: RegOp[]) => checkOperations(registerModel, ops, { timeoutMs: 10_000 }).verdict;
const kvVerdict = (ops: KvOp[]) => checkOperations(kvModel, ops, { timeoutMs: 10_000 }).verdict;

describe("register model", () => {
  it("starts absent: a first read of nil is fine, a first read of 0 is not", () => {
    expect(regVerdict([reg.read(0, [0, 1], null)])).toBe("linearizable");
    expect(regVerdict([reg.read(0, [0, 1], 0)])).toBe("not-linearizable");
  });

  it("rejects a stale read: a read that starts after a write completed must see it", () => {
    expect(regVerdict([reg.write(0, [0, 1], 1), reg.read(1, [2, 3], null)])).toBe("not-linearizable");
    expect(regVerdict([reg.write(0, [0, 1], 1), reg.write(0, [2, 3], 2), reg.read(1, [4, 5], 1)])).toBe(
      "not-linearizable",
    );
  });

  it("rejects a lost write: two acknowledged writes, then the first value and nothing else", () => {
    const ops = [reg.write(0, [0, 1], 1), reg.write(1, [2, 3], 2), reg.read(2, [4, 5], 1), reg.read(2, [6, 7], 1)];
    expect(regVerdict(ops)).toBe("not-linearizable");
    // With the writes concurrent, 2-then-1 is a valid order.
    expect(regVerdict([reg.write(0, [0, 3], 1), reg.write(1, [1, 2], 2), reg.read(2, [4, 5], 1)])).toBe(
      "linearizable",
    );
  });

  it("rejects a CAS race where both compare-and-sets from the same value succeed", () => {
    const base = reg.write(0, [0, 1], 0);
    expect(regVerdict([base, reg.cas(1, [2, 5], 0, 1, true), reg.cas(2, [3, 6], 0, 2, true)])).toBe(
      "not-linearizable",
    );
    // One winner, one loser: fine, whichever went first.
    expect(regVerdict([base, reg.cas(1, [2, 5], 0, 1, true), reg.cas(2, [3, 6], 0, 2, false), reg.read(3, [7, 8], 1)])).toBe(
      "linearizable",
    );
    // ... but the loser's value must not be the one read afterwards.
    expect(regVerdict([base, reg.cas(1, [2, 5], 0, 1, true), reg.cas(2, [3, 6], 0, 2, false), reg.read(3, [7, 8], 2)])).toBe(
      "not-linearizable",
    );
  });

  it("treats a failed compare as an observation that the value differed", () => {
    expect(regVerdict([reg.write(0, [0, 1], 3), reg.cas(1, [2, 3], 3, 4, false)])).toBe("not-linearizable");
    expect(regVerdict([reg.write(0, [0, 1], 3), reg.cas(1, [2, 3], 2, 4, false)])).toBe("linearizable");
    // nil is not equal to any value: a cas on the absent register fails.
    expect(regVerdict([reg.cas(1, [0, 1], 0, 4, false)])).toBe("linearizable");
    expect(regVerdict([reg.cas(1, [0, 1], 0, 4, true)])).toBe("not-linearizable");
  });

  it("accepts an indeterminate write that took effect long after its client gave up", () => {
    // The shape of etcd_002 (README): the timed-out write of 3 is the only source of the final
    // read of 3, after a cas and a read that saw other values.
    const ops = [
      reg.write(0, [0, 1], 1),
      reg.write(2, [2, null], 3),
      reg.cas(3, [3, 4], 1, 0, true),
      reg.read(4, [5, 6], 0),
      reg.read(8, [10, 11], 3),
    ];
    expect(regVerdict(ops)).toBe("linearizable");
  });

  it("accepts an indeterminate write that never took effect", () => {
    expect(regVerdict([reg.write(0, [0, null], 1), reg.read(1, [1, 2], null), reg.read(1, [5, 6], null)])).toBe(
      "linearizable",
    );
    // An indeterminate cas whose compare could never succeed is harmless too.
    expect(regVerdict([reg.cas(0, [0, null], 7, 1, true), reg.read(1, [1, 2], null)])).toBe(
      "linearizable",
    );
  });

  it("does not let an indeterminate write take effect twice or be undone", () => {
    const ops = [reg.write(0, [0, null], 1), reg.read(1, [1, 2], 1), reg.read(1, [3, 4], null)];
    expect(regVerdict(ops)).toBe("not-linearizable");
    // ... nor take effect before its call.
    expect(regVerdict([reg.read(1, [0, 1], 1), reg.write(0, [2, null], 1)])).toBe("not-linearizable");
  });

  it("an indeterminate write cannot explain a value it did not write", () => {
    expect(regVerdict([reg.write(0, [0, null], 1), reg.read(1, [1, 2], 2)])).toBe("not-linearizable");
  });

  it("accepts concurrent overlapping operations in any order the intervals allow", () => {
    // A slow write of 1 overlaps two reads: nil then 1 is fine.
    expect(regVerdict([reg.write(0, [0, 10], 1), reg.read(1, [1, 3], null), reg.read(2, [4, 5], 1)])).toBe(
      "linearizable",
    );
    // The reverse, 1 then nil, is not: the write cannot be undone.
    expect(regVerdict([reg.write(0, [0, 10], 1), reg.read(1, [1, 3], 1), reg.read(2, [4, 5], null)])).toBe(
      "not-linearizable",
    );
    // Five concurrent writes and reads of each value in a real-time chain that forces one order.
    const ws = [1, 2, 3, 4, 5].map((v) => reg.write(v, [0, 20], v));
    const rs = [3, 1, 5, 2, 4].map((v, i) => reg.read(10 + i, [2 * i + 1, 2 * i + 2], v));
    expect(regVerdict([...ws, ...rs])).toBe("linearizable");
    expect(regVerdict([...ws, ...rs, reg.read(20, [12, 13], 3)])).toBe("not-linearizable");
  });

  it("treats equal times as concurrent: a precedes b only if a.return < b.call", () => {
    expect(regVerdict([reg.write(0, [0, 5], 1), reg.read(1, [5, 6], null)])).toBe("linearizable");
    expect(regVerdict([reg.write(0, [0, 5], 1), reg.read(1, [6, 7], null)])).toBe("not-linearizable");
  });

  it("accepts the empty history", () => {
    expect(regVerdict([])).toBe("linearizable");
  });
});

describe("kv model", () => {
  it("starts every key as the empty string", () => {
    expect(kvVerdict([kv.get(0, [0, 1], "a", "")])).toBe("linearizable");
    expect(kvVerdict([kv.get(0, [0, 1], "a", "x")])).toBe("not-linearizable");
  });

  it("rejects a stale read (porcupine's c01-bad shape)", () => {
    const ops = [
      kv.append(0, [0, 1], "7", "x 0 0 y"),
      kv.append(0, [2, 3], "7", "x 0 3 y"),
      kv.get(0, [4, 5], "7", "x 0 0 y"),
    ];
    expect(kvVerdict(ops)).toBe("not-linearizable");
  });

  it("rejects a lost append and a lost put", () => {
    expect(kvVerdict([kv.append(0, [0, 1], "k", "a"), kv.append(1, [2, 3], "k", "b"), kv.get(2, [4, 5], "k", "b")])).toBe(
      "not-linearizable",
    );
    expect(kvVerdict([kv.append(0, [0, 1], "k", "a"), kv.append(1, [2, 3], "k", "b"), kv.get(2, [4, 5], "k", "ab")])).toBe(
      "linearizable",
    );
    expect(kvVerdict([kv.put(0, [0, 1], "k", "a"), kv.put(1, [2, 3], "k", "b"), kv.get(2, [4, 5], "k", "a")])).toBe(
      "not-linearizable",
    );
  });

  it("orders racing appends either way, but only one way per history", () => {
    const race = [kv.append(0, [0, 5], "k", "a"), kv.append(1, [1, 6], "k", "b")];
    expect(kvVerdict([...race, kv.get(2, [7, 8], "k", "ba")])).toBe("linearizable");
    expect(kvVerdict([...race, kv.get(2, [7, 8], "k", "ab")])).toBe("linearizable");
    expect(kvVerdict([...race, kv.get(2, [7, 8], "k", "ab"), kv.get(3, [9, 10], "k", "ba")])).toBe("not-linearizable");
    // A put racing an append: "b" (append then put) or "ba" (put then append), never "ab".
    const putRace = [kv.append(0, [0, 5], "k", "a"), kv.put(1, [1, 6], "k", "b")];
    expect(kvVerdict([...putRace, kv.get(2, [7, 8], "k", "b")])).toBe("linearizable");
    expect(kvVerdict([...putRace, kv.get(2, [7, 8], "k", "ba")])).toBe("linearizable");
    expect(kvVerdict([...putRace, kv.get(2, [7, 8], "k", "ab")])).toBe("not-linearizable");
  });

  it("accepts an indeterminate append that took effect late, or never", () => {
    const lost = kv.append(0, [0, null], "k", "a");
    expect(kvVerdict([lost, kv.get(1, [1, 2], "k", ""), kv.get(1, [8, 9], "k", "a")])).toBe("linearizable");
    expect(kvVerdict([lost, kv.get(1, [1, 2], "k", ""), kv.get(1, [8, 9], "k", "")])).toBe("linearizable");
    expect(kvVerdict([lost, kv.get(1, [1, 2], "k", "a"), kv.get(1, [8, 9], "k", "")])).toBe("not-linearizable");
    expect(kvVerdict([lost, kv.get(1, [1, 2], "k", "aa")])).toBe("not-linearizable");
  });

  it("checks keys independently and names the failing key", () => {
    const ops = [
      kv.put(0, [0, 1], "x", "1"),
      kv.get(1, [2, 3], "x", "1"),
      kv.put(0, [4, 5], "y", "1"),
      kv.get(1, [6, 7], "y", ""),
      // Fine per key although "x" and "y" reads interleave in real time.
      kv.get(2, [0, 9], "x", ""),
    ];
    const r = checkOperations(kvModel, ops);
    expect(r.verdict).toBe("not-linearizable");
    expect(r.failed?.key).toBe("y");
    expect(r.failed?.failure?.stuck.input).toEqual({ op: "get", key: "y" });
    expect(describeCheckResult(kvModel, r)).toContain('key "y" (2 operations)');
  });
});

describe("search control", () => {
  /**
   * A partition whose refutation needs an exhaustive search: `n` concurrent appends of distinct
   * values and a later read of a value nothing wrote. Every order of the appends is a distinct
   * state, so the search space is n! configurations.
   */
  function exploding(key: string, n: number): KvOp[] {
    const ops = Array.from({ length: n }, (_, i) => kv.append(i, [0, 10], key, String.fromCharCode(97 + i)));
    return [...ops, kv.get(99, [11, 12], key, "impossible")];
  }

  /**
   * `n` concurrent puts of one value and a read nothing wrote: 2^n configurations (the state
   * is the same whatever the order), each examined for every pending put.
   */
  function samePuts(key: string, n: number): KvOp[] {
    const ops = Array.from({ length: n }, (_, i) => kv.put(i, [0, 10], key, "v"));
    return [...ops, kv.get(99, [11, 12], key, "impossible")];
  }

  /** A long sequential partition whose last read is stale: refuted in a few steps. */
  function staleTail(key: string, n: number): KvOp[] {
    const ops: KvOp[] = [];
    for (let i = 0; i < n; i++) ops.push(kv.put(0, [2 * i, 2 * i + 1], key, String(i)));
    ops.push(kv.get(1, [2 * n, 2 * n + 1], key, "0"));
    return ops;
  }

  it("interleaves partitions, so an exploding partition does not hide a failing one", () => {
    // The exploding partition is the smaller one, so it is searched first.
    const ops = [...exploding("a", 14), ...staleTail("b", 60)];
    const r = checkOperations(kvModel, ops, { timeoutMs: 20_000 });
    expect(r.verdict).toBe("not-linearizable");
    expect(r.failed?.key).toBe("b");
    const a = r.partitions.find((p) => p.key === "a")!;
    expect(a.verdict).toBe("unknown");
    expect(a.unknownReason).toBe("skipped");
    expect(r.elapsedMs).toBeLessThan(5_000);
  });

  it("reports unknown, without hanging, when the time budget runs out", () => {
    const r = checkOperations(kvModel, exploding("a", 14), { timeoutMs: 100 });
    expect(r.verdict).toBe("unknown");
    expect(r.partitions[0]!.unknownReason).toBe("timeout");
    expect(r.elapsedMs).toBeLessThan(2_000);
    expect(describeCheckResult(kvModel, r, { timeoutMs: 100 })).toMatch(
      /^unknown\n.*\nkey "a" \(15 operations\): unknown, search stopped at the time budget \(100 ms\)/,
    );
  });

  it("drops the partition with the largest memo when the configuration limit is reached", () => {
    // "b" is refuted after ~29 000 steps and 4 095 configurations (every subset of its puts);
    // "a" memoises a configuration every ~2.5 steps without bound, so it is the larger one
    // when their sum passes the limit, and is dropped while "b" goes on.
    const r = checkOperations(kvModel, [...exploding("a", 14), ...samePuts("b", 12)], {
      maxConfigurations: 6_000,
      sliceSteps: 1_000,
    });
    const a = r.partitions.find((p) => p.key === "a")!;
    expect(a.verdict).toBe("unknown");
    expect(a.unknownReason).toBe("memory");
    expect(a.cacheEntries).toBeLessThan(6_000);
    expect(r.verdict).toBe("not-linearizable");
    expect(r.failed?.key).toBe("b");
    const alone = checkOperations(kvModel, exploding("a", 14), { maxConfigurations: 5_000 });
    expect(alone.verdict).toBe("unknown");
    expect(describeCheckResult(kvModel, alone)).toContain("memo outgrew the configuration limit");
  });

  it("can keep checking after a failure", () => {
    const ops = [...staleTail("b", 3), ...staleTail("c", 3), kv.get(0, [0, 1], "d", "")];
    const r = checkOperations(kvModel, ops, { stopAtFirstFailure: false });
    expect(r.partitions.map((p) => p.verdict)).toEqual(["not-linearizable", "not-linearizable", "linearizable"]);
  });

  it("rejects an operation with an unknown output but a finite return time", () => {
    expect(() => checkOperations(registerModel, [{ client: "0", call: 0, return: 1, input: { op: "read" }, output: undefined }])).toThrow(
      /indeterminate operation/,
    );
  });
});
