// Property tests: histories generated from a known linearization are always accepted, and the
// same histories with one read result replaced by a value no operation ever writes are always
// rejected, for both built-in models.
//
// Generation: a random sequence of operations is run one at a time against a reference
// implementation of the object, operation i taking effect at time 10*(i+1). Each operation gets
// a random interval [call, return] that contains that point, so the sequence is a witness
// linearization (if a.return < b.call then a's point is before b's). Some operations are
// indeterminate (return = +infinity, output unknown): either they took effect at their point,
// or they never did and are left out of the sequential run. On failure fast-check prints the
// seed and the shrunk counterexample; replay with `{ seed, path }` in the second argument of
// test.prop.
//
// A third property compares the checker with a brute-force search straight from the
// definition (every order of every allowed subset of operations) on small random histories,
// linearizable or not.

import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import {
  checkOperations,
  kvModel,
  registerModel,
  type KvInput,
  type KvOutput,
  type Model,
  type Operation,
  type RegisterInput,
  type RegisterOutput,
  type RegisterState,
} from "../../runtime/testing/lincheck/index.js";

/** How a planned operation ends. */
type Fate = "ok" | "indeterminate-applied" | "indeterminate-never";

interface Planned<I> {
  readonly input: I;
  readonly client: number;
  readonly fate: Fate;
  readonly before: number; // call = point - before
  readonly after: number; // return = point + after
}

/** A reference implementation: the output and the next state of one operation. */
type Oracle<S, I, O> = (state: S, input: I) => readonly [O, S];

const fate: fc.Arbitrary<Fate> = fc.oneof(
  { arbitrary: fc.constant<Fate>("ok"), weight: 16 },
  { arbitrary: fc.constant<Fate>("indeterminate-applied"), weight: 2 },
  { arbitrary: fc.constant<Fate>("indeterminate-never"), weight: 1 },
);

function planned<I>(input: fc.Arbitrary<I>): fc.Arbitrary<Planned<I>[]> {
  return fc.array(
    fc.record({
      input,
      client: fc.integer({ min: 0, max: 7 }),
      fate,
      // Up to ~3 neighbours on each side overlap; equal times happen too.
      before: fc.integer({ min: 0, max: 30 }),
      after: fc.integer({ min: 0, max: 30 }),
    }),
    { minLength: 1, maxLength: 30 },
  );
}

/** Runs the plan against the oracle (one state per partition) and builds the history. */
function build<S, I, O>(model: Model<S, I, O>, oracle: Oracle<S, I, O>, plan: readonly Planned<I>[]): Operation<I, O>[] {
  const states = new Map<string, S>();
  return plan.map((p, i) => {
    const point = 10 * (i + 1);
    const call = point - p.before;
    const client = String(p.client);
    if (p.fate === "indeterminate-never") return { client, call, return: Infinity, input: p.input, output: undefined };
    const key = model.partition?.(p.input) ?? "";
    const state = states.has(key) ? states.get(key)! : model.init();
    const [output, next] = oracle(state, p.input);
    // The model must agree with the reference about this step.
    expect(model.equal(model.step(state, p.input, output) as S, next)).toBe(true);
    states.set(key, next);
    if (p.fate === "indeterminate-applied") return { client, call, return: Infinity, input: p.input, output: undefined };
    return { client, call, return: point + p.after, input: p.input, output };
  });
}

/** The history with read number `which` (modulo the reads) answering `impossible`. */
function corrupt<I, O>(
  ops: readonly Operation<I, O>[],
  isRead: (input: I) => boolean,
  which: number,
  impossible: O,
): { ops: Operation<I, O>[]; bad: Operation<I, O> } | undefined {
  const reads = ops.flatMap((o, i) => (isRead(o.input) && o.output !== undefined ? [i] : []));
  if (reads.length === 0) return undefined;
  const at = reads[which % reads.length]!;
  const bad = { ...ops[at]!, output: impossible };
  return { ops: ops.map((o, i) => (i === at ? bad : o)), bad };
}

// ---------------------------------------------------------------------------------------------

const registerInput: fc.Arbitrary<RegisterInput> = fc.oneof(
  fc.constant<RegisterInput>({ op: "read" }),
  fc.integer({ min: 0, max: 3 }).map((value): RegisterInput => ({ op: "write", value })),
  fc
    .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }))
    .map(([from, to]): RegisterInput => ({ op: "cas", from, to })),
);

const registerOracle: Oracle<RegisterState, RegisterInput, RegisterOutput> = (s, input) => {
  switch (input.op) {
    case "read":
      return [s, s];
    case "write":
      return [null, input.value];
    case "cas":
      return s === input.from ? [true, input.to] : [false, s];
  }
};

const kvInput: fc.Arbitrary<KvInput> = fc.oneof(
  fc.constantFrom("a", "b", "c").map((key): KvInput => ({ op: "get", key })),
  fc.tuple(fc.constantFrom("a", "b", "c"), fc.constantFrom("x", "y", "z")).map(([key, value]): KvInput => ({ op: "append", key, value })),
  fc.tuple(fc.constantFrom("a", "b", "c"), fc.constantFrom("p", "q")).map(([key, value]): KvInput => ({ op: "put", key, value })),
);

const kvOracle: Oracle<string, KvInput, KvOutput> = (s, input) => {
  switch (input.op) {
    case "get":
      return [s, s];
    case "put":
      return [null, input.value];
    case "append":
      return [null, s + input.value];
  }
};

const budget = { timeoutMs: 10_000 };

describe("register model, generated histories", () => {
  test.prop([planned(registerInput)], { numRuns: 300 })("a history with a witness linearization is accepted", (plan) => {
    const ops = build(registerModel, registerOracle, plan);
    expect(checkOperations(registerModel, ops, budget).verdict).toBe("linearizable");
  });

  test.prop([planned(registerInput), fc.nat()], { numRuns: 300 })(
    "the same history with a read of a never-written value is rejected at that read",
    (plan, which) => {
      const ops = build(registerModel, registerOracle, plan);
      // Only 0..3 are ever written, so no order makes the register hold 99.
      const c = corrupt(ops, (i) => i.op === "read", which, 99);
      fc.pre(c !== undefined);
      const r = checkOperations(registerModel, c!.ops, budget);
      expect(r.verdict).toBe("not-linearizable");
      expect(r.failed?.failure?.stuck).toBe(c!.bad);
    },
  );
});

describe("kv model, generated histories", () => {
  test.prop([planned(kvInput)], { numRuns: 300 })("a history with a witness linearization is accepted", (plan) => {
    const ops = build(kvModel, kvOracle, plan);
    expect(checkOperations(kvModel, ops, budget).verdict).toBe("linearizable");
  });

  test.prop([planned(kvInput), fc.nat()], { numRuns: 300 })(
    "the same history with a get of a never-written value is rejected at that get",
    (plan, which) => {
      const ops = build(kvModel, kvOracle, plan);
      // Values are built only from the letters p, q, x, y, z, so no state is ever "#".
      const c = corrupt(ops, (i) => i.op === "get", which, "#");
      fc.pre(c !== undefined);
      const r = checkOperations(kvModel, c!.ops, budget);
      expect(r.verdict).toBe("not-linearizable");
      expect(r.failed?.key).toBe(c!.bad.input.key);
      expect(r.failed?.failure?.stuck).toBe(c!.bad);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Against brute force.

/**
 * Linearizability by definition: some order of all determinate operations plus any subset of
 * the indeterminate ones, respecting a.return < b.call, is legal for the model. Exponential;
 * only for a handful of operations.
 */
function bruteForce<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[]): boolean {
  const byKey = new Map<string, Operation<I, O>[]>();
  for (const o of ops) {
    const k = model.partition?.(o.input) ?? "";
    byKey.set(k, [...(byKey.get(k) ?? []), o]);
  }
  const search = (state: S, left: readonly Operation<I, O>[]): boolean => {
    if (left.every((o) => o.output === undefined)) return true;
    return left.some((o) => {
      // `o` can go next only if no remaining operation had to come before it.
      if (left.some((q) => q.return < o.call)) return false;
      const next = model.step(state, o.input, o.output);
      return next !== undefined && search(next, left.filter((q) => q !== o));
    });
  };
  return [...byKey.values()].every((part) => search(model.init(), part));
}

function randomOps<I, O>(input: fc.Arbitrary<I>, output: (i: I) => fc.Arbitrary<O>): fc.Arbitrary<Operation<I, O>[]> {
  const one = input.chain((i) =>
    fc.record({
      client: fc.integer({ min: 0, max: 4 }).map(String),
      call: fc.integer({ min: 0, max: 20 }),
      length: fc.option(fc.integer({ min: 0, max: 10 }), { freq: 5 }), // null: indeterminate
      input: fc.constant(i),
      output: output(i),
    }),
  );
  return fc.array(one, { minLength: 1, maxLength: 7 }).map((xs) =>
    xs.map((x): Operation<I, O> =>
      x.length === null
        ? { client: x.client, call: x.call, return: Infinity, input: x.input, output: undefined }
        : { client: x.client, call: x.call, return: x.call + x.length, input: x.input, output: x.output },
    ),
  );
}

const smallRegisterInput: fc.Arbitrary<RegisterInput> = fc.oneof(
  fc.constant<RegisterInput>({ op: "read" }),
  fc.integer({ min: 0, max: 2 }).map((value): RegisterInput => ({ op: "write", value })),
  fc
    .tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }))
    .map(([from, to]): RegisterInput => ({ op: "cas", from, to })),
);
const registerOutput = (i: RegisterInput): fc.Arbitrary<RegisterOutput> =>
  i.op === "read" ? fc.constantFrom<RegisterOutput>(null, 0, 1, 2) : i.op === "cas" ? fc.boolean() : fc.constant(null);

const smallKvInput: fc.Arbitrary<KvInput> = fc.oneof(
  fc.constantFrom("a", "b").map((key): KvInput => ({ op: "get", key })),
  fc.tuple(fc.constantFrom("a", "b"), fc.constantFrom("x", "y")).map(([key, value]): KvInput => ({ op: "append", key, value })),
  fc.tuple(fc.constantFrom("a", "b"), fc.constantFrom("x", "y")).map(([key, value]): KvInput => ({ op: "put", key, value })),
);
const kvOutput = (i: KvInput): fc.Arbitrary<KvOutput> =>
  i.op === "get" ? fc.constantFrom("", "x", "y", "xy", "yx", "xx") : fc.constant(null);

describe("agreement with a brute-force search", () => {
  test.prop([randomOps(smallRegisterInput, registerOutput)], { numRuns: 500 })("register", (ops) => {
    const want = bruteForce(registerModel, ops) ? "linearizable" : "not-linearizable";
    expect(checkOperations(registerModel, ops).verdict).toBe(want);
  });

  test.prop([randomOps(smallKvInput, kvOutput)], { numRuns: 500 })("kv", (ops) => {
    const want = bruteForce(kvModel, ops) ? "linearizable" : "not-linearizable";
    expect(checkOperations(kvModel, ops).verdict).toBe(want);
  });
});
