// The linearizability checker: decides whether a history of concurrent operations can be
// explained by some sequential order of the model that respects real time.
//
// The search is Wing & Gong's backtracking over "which pending operation takes effect next"
// (J. Parallel Distrib. Comput. 1993), with Lowe's memoisation of (linearized set, state)
// configurations (Testing for linearizability, CCPE 2017) and the layout porcupine uses: call
// and return events in one doubly linked list sorted by time, "lifting" an operation's two
// events out of the list when it is linearized and "unlifting" them when the search backtracks.
// The linearized set is a bitset with an incremental Zobrist hash; the cache is keyed by that
// hash combined with the model's state hash and confirmed with exact comparison.
//
// Histories are split with `Model.partition` and the parts are checked independently
// (P-compositionality; Horn & Kroening, FORTE'15). Parts are searched in rounds of a bounded
// number of steps, smallest first, so one part whose search explodes cannot starve a part that
// fails quickly; the check stops at the first part that fails. The time budget is enforced
// inside the search loop, which looks at the clock every CLOCK_EVERY steps: a part still
// running at the deadline is reported `unknown`, never waited for.
//
// Indeterminate operations (output undefined) have return time +infinity: their return events
// sit at the end of the list. When the search reaches one of them, every determinate operation
// is linearized and the remaining indeterminate ones are taken as "never happened" (or
// "happened after everything", which nothing observes), so the history is linearizable.
//
// This file must not parse files, print, or know any particular model.

import { HistoryParseError } from "./errors.js";
import type { HistoryOperation } from "./history.js";
import type { Model, Operation } from "./model.js";

/** The answer for a whole history or one partition. */
export type Verdict = "linearizable" | "not-linearizable" | "unknown";

/** Why a partition's verdict is `unknown`. */
export type UnknownReason =
  /** Its search was still running when the time budget ran out. */
  | "timeout"
  /** It was not finished because another partition had already failed. */
  | "skipped"
  /** Its memo outgrew `maxConfigurations` (shared by all partitions) and it was dropped. */
  | "memory";

export interface CheckOptions {
  /**
   * Time budget for the whole check, in milliseconds. Partitions still undecided when it runs
   * out get verdict `unknown` (reason `timeout`). Default: no limit.
   */
  readonly timeoutMs?: number;
  /**
   * Stop at the first partition found not linearizable (the verdict cannot change) and
   * report the rest as `unknown` (reason `skipped`). Default true.
   */
  readonly stopAtFirstFailure?: boolean;
  /** Search steps a partition may take before the next partition's turn. Default 20 000. */
  readonly sliceSteps?: number;
  /**
   * Upper bound on memoised configurations held at once, over all partitions; roughly 50-100
   * bytes each. When exceeded, the partition with the largest memo is dropped (verdict
   * `unknown`, reason `memory`) and the others go on. Default 2^23 (about 8 million), far
   * above what any decidable history in the shared set needs (under 200 000), and low enough
   * that an exploding search stops with a verdict instead of exhausting the heap.
   */
  readonly maxConfigurations?: number;
}

/**
 * Where the search for a failing partition got stuck: the shortest prefix of the partition's
 * history (in time order) that has no linearization ends with the return of `stuck`.
 */
export interface Failure<State, Input, Output> {
  /** The operation whose completion no explored order could get past. */
  readonly stuck: Operation<Input, Output>;
  /**
   * The longest partial linearization the search found before `stuck`'s return, in
   * linearization order. Every operation that returned before `stuck` is in it.
   */
  readonly linearized: readonly Operation<Input, Output>[];
  /** The model state after `linearized`. */
  readonly state: State;
  /**
   * Operations invoked before `stuck` returned that are not in `linearized` (including
   * `stuck`): the ones that could have been placed next, in call order.
   */
  readonly pending: readonly Operation<Input, Output>[];
}

export interface PartitionResult<State, Input, Output> {
  /** The partition key (`Model.partition`), or `undefined` when the model has none. */
  readonly key: string | undefined;
  readonly verdict: Verdict;
  /** Set when `verdict` is `unknown`. */
  readonly unknownReason?: UnknownReason;
  /** Number of operations in the partition. */
  readonly operations: number;
  /** Search steps spent (each step examines one event). */
  readonly steps: number;
  /** Distinct (linearized set, state) configurations memoised. */
  readonly cacheEntries: number;
  /** Set when `verdict` is `not-linearizable`. */
  readonly failure?: Failure<State, Input, Output>;
}

export interface CheckResult<State, Input, Output> {
  /**
   * `not-linearizable` if any partition failed; otherwise `unknown` if any is undecided;
   * otherwise `linearizable`.
   */
  readonly verdict: Verdict;
  /** One result per partition, sorted by key. */
  readonly partitions: readonly PartitionResult<State, Input, Output>[];
  /** The first partition found not linearizable, if any. */
  readonly failed?: PartitionResult<State, Input, Output>;
  /** Total search steps over all partitions. */
  readonly steps: number;
  readonly elapsedMs: number;
}

/** The result of `checkHistory`: `CheckResult` plus how many records the model dropped. */
export interface HistoryCheckResult<State, Input, Output> extends CheckResult<State, Input, Output> {
  /** Records the model's `fromHistory` dropped (definite failures, indeterminate reads). */
  readonly dropped: number;
}

/** How often (in steps) the search loop reads the clock. A power of two minus one. */
const CLOCK_EVERY = 1023;
const DEFAULT_SLICE_STEPS = 20_000;
const DEFAULT_MAX_CONFIGURATIONS = 2 ** 23;

/**
 * Checks format-independent records (from a parser or the recorder) against `model`, which
 * must implement `fromHistory`.
 */
export function checkHistory<State, Input, Output>(
  model: Model<State, Input, Output>,
  records: readonly HistoryOperation[],
  options: CheckOptions = {},
): HistoryCheckResult<State, Input, Output> {
  const fromHistory = model.fromHistory;
  if (fromHistory === undefined) {
    throw new TypeError(`model "${model.name}" has no fromHistory(): check its operations with checkOperations()`);
  }
  const ops: Operation<Input, Output>[] = [];
  for (const r of records) {
    const op = fromHistory.call(model, r);
    if (op !== undefined) ops.push(op);
  }
  return { ...checkOperations(model, ops, options), dropped: records.length - ops.length };
}

/** Checks operations of `model`. */
export function checkOperations<State, Input, Output>(
  model: Model<State, Input, Output>,
  operations: readonly Operation<Input, Output>[],
  options: CheckOptions = {},
): CheckResult<State, Input, Output> {
  const started = performance.now();
  const deadline = options.timeoutMs === undefined ? Infinity : started + options.timeoutMs;
  const stopAtFirstFailure = options.stopAtFirstFailure ?? true;
  const slice = Math.max(1, options.sliceSteps ?? DEFAULT_SLICE_STEPS);
  const maxConfigurations = options.maxConfigurations ?? DEFAULT_MAX_CONFIGURATIONS;
  operations.forEach(validateOperation);

  // Partition, then search the smallest partitions first: they are usually decided within
  // their first slice, and a failure found there ends the check.
  const groups = new Map<string | undefined, Operation<Input, Output>[]>();
  const partition = model.partition;
  for (const op of operations) {
    const key = partition === undefined ? undefined : partition.call(model, op.input);
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = []));
    g.push(op);
  }
  if (groups.size === 0) groups.set(undefined, []);
  const searches = [...groups].map(([key, ops]) => new PartitionSearch(model, key, ops));
  searches.sort((a, b) => a.ops.length - b.ops.length || compareKeys(a.key, b.key));

  let active = searches;
  let failed: PartitionSearch<State, Input, Output> | undefined;
  let timedOut = false;
  while (active.length > 0 && !timedOut && (failed === undefined || !stopAtFirstFailure)) {
    const next: PartitionSearch<State, Input, Output>[] = [];
    for (const s of active) {
      if (timedOut || (failed !== undefined && stopAtFirstFailure)) {
        next.push(s);
        continue;
      }
      const r = s.run(slice, deadline);
      if (r === "fail") failed ??= s;
      else if (r === "timeout") {
        timedOut = true;
        next.push(s);
      } else if (r === "running") next.push(s);
    }
    active = next;
    // Finished searches have released their memo; drop the largest live ones while over.
    let held = active.reduce((n, s) => n + s.cacheSize, 0);
    while (held > maxConfigurations && active.length > 0) {
      const biggest = active.reduce((a, b) => (b.cacheSize > a.cacheSize ? b : a));
      held -= biggest.cacheSize;
      biggest.abandon("memory");
      active = active.filter((s) => s !== biggest);
    }
  }
  for (const s of active) s.abandon(timedOut ? "timeout" : "skipped");

  const partitions = searches.map((s) => s.result()).sort((a, b) => compareKeys(a.key, b.key));
  const verdict: Verdict = partitions.some((p) => p.verdict === "not-linearizable")
    ? "not-linearizable"
    : partitions.some((p) => p.verdict === "unknown")
      ? "unknown"
      : "linearizable";
  const failedResult = failed === undefined ? undefined : partitions.find((p) => p.key === failed.key);
  return {
    verdict,
    partitions,
    ...(failedResult === undefined ? {} : { failed: failedResult }),
    steps: searches.reduce((n, s) => n + s.steps, 0),
    elapsedMs: performance.now() - started,
  };
}

function compareKeys(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  // Numeric keys in numeric order ("2" before "10"), then the rest by code units.
  const na = Number(a);
  const nb = Number(b);
  if (a !== "" && b !== "" && Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
  return a < b ? -1 : 1;
}

function validateOperation(op: Operation<unknown, unknown>, index: number): void {
  const where = `operation ${index} (client ${op.client})`;
  const fail = (detail: string): never => {
    throw new HistoryParseError("invalid-operation", `${where}: ${detail}`, op.line);
  };
  if (!Number.isFinite(op.call)) fail(`call time ${op.call} is not a finite number`);
  if (op.output === undefined) {
    if (op.return !== Infinity) fail("an indeterminate operation (output undefined) must have return = Infinity");
  } else {
    if (Number.isNaN(op.return) || op.return === Infinity) {
      fail("an operation with an output must have a finite return time");
    }
    if (op.return < op.call) fail(`return time ${op.return} is before call time ${op.call}`);
  }
}

/** A small deterministic PRNG (SplitMix32) for the Zobrist keys: same input, same run. */
function zobristKeys(n: number): Int32Array {
  const keys = new Int32Array(n);
  let x = 0x2545f491;
  for (let i = 0; i < n; i++) {
    x = (x + 0x9e3779b9) | 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    keys[i] = z ^ (z >>> 16);
  }
  return keys;
}

type RunResult = "ok" | "fail" | "running" | "timeout";

/**
 * The resumable search over one partition. `run` advances it by a bounded number of steps;
 * all search state lives in fields so the next `run` continues exactly where this one
 * stopped.
 */
class PartitionSearch<State, Input, Output> {
  steps = 0;
  private verdict: Verdict | undefined;
  private unknownReason: UnknownReason | undefined;

  // Events, by position in time order: positions [0, 2n) are events; `head` and `tail` are
  // sentinels of the doubly linked list of events not yet lifted.
  private readonly opOf: Int32Array; // position -> operation index
  private readonly matchOf: Int32Array; // call position -> its return position; -1 for returns
  private readonly infinite: Uint8Array; // return position of an indeterminate operation
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly head: number;
  private readonly tail: number;
  private readonly callPos: Int32Array; // operation index -> position of its call

  // The current configuration: linearized operations (a bitset plus its Zobrist hash), the
  // model state, and the stack of (call position, state before) to backtrack through.
  private readonly linearized: Uint32Array;
  private linearizedHash = 0;
  private readonly zobrist: Int32Array;
  private state: State;
  private readonly stackPos: Int32Array;
  private readonly stackState: State[] = [];
  private depth = 0;
  private cursor: number;
  private readonly cache: ConfigCache<State>;

  // The deepest point reached: the furthest return event (by position) at which the search
  // got stuck, with the linearization and state that got there.
  private bestStuck = -1;
  private bestStack: number[] = [];
  private bestState: State;

  constructor(
    private readonly model: Model<State, Input, Output>,
    readonly key: string | undefined,
    readonly ops: readonly Operation<Input, Output>[],
  ) {
    const n = ops.length;
    const m = 2 * n;
    // Sort events by time. At equal times calls come before returns: `a` precedes `b` only
    // if a.return < b.call strictly (shared/linearizability/README), so equal times overlap.
    const order = new Int32Array(m);
    for (let i = 0; i < m; i++) order[i] = i; // even: call of op i/2, odd: its return
    const timeOf = (e: number): number => (e & 1 ? ops[e >> 1]!.return : ops[e >> 1]!.call);
    order.sort((a, b) => {
      const ta = timeOf(a);
      const tb = timeOf(b);
      if (ta !== tb) return ta < tb ? -1 : 1;
      return (a & 1) - (b & 1) || a - b;
    });

    this.opOf = new Int32Array(m);
    this.matchOf = new Int32Array(m).fill(-1);
    this.infinite = new Uint8Array(m);
    this.callPos = new Int32Array(n);
    const retPos = new Int32Array(n);
    for (let p = 0; p < m; p++) {
      const e = order[p]!;
      const op = e >> 1;
      this.opOf[p] = op;
      if (e & 1) {
        retPos[op] = p;
        if (ops[op]!.return === Infinity) this.infinite[p] = 1;
      } else this.callPos[op] = p;
    }
    for (let op = 0; op < n; op++) this.matchOf[this.callPos[op]!] = retPos[op]!;

    this.head = m;
    this.tail = m + 1;
    this.next = new Int32Array(m + 2);
    this.prev = new Int32Array(m + 2);
    let last = this.head;
    for (let p = 0; p < m; p++) {
      this.next[last] = p;
      this.prev[p] = last;
      last = p;
    }
    this.next[last] = this.tail;
    this.prev[this.tail] = last;
    this.prev[this.head] = -1;
    this.next[this.tail] = -1;

    this.linearized = new Uint32Array((n + 31) >>> 5);
    this.zobrist = zobristKeys(n);
    this.state = model.init();
    this.bestState = this.state;
    this.stackPos = new Int32Array(n);
    this.cursor = this.next[this.head]!;
    this.cache = new ConfigCache<State>(this.linearized.length, model);
  }

  /**
   * Advances the search by up to `maxSteps` steps. Returns the verdict when decided,
   * `running` when the slice ran out, `timeout` when the clock passed `deadline`.
   */
  run(maxSteps: number, deadline: number): RunResult {
    if (this.verdict === "linearizable") return "ok";
    if (this.verdict === "not-linearizable") return "fail";
    const { model, ops, opOf, matchOf, infinite, next, prev, linearized, zobrist, stackPos, stackState, cache } =
      this;
    const head = this.head;
    let { state, depth, linearizedHash } = this;
    let e = this.cursor;
    let steps = this.steps;
    const limit = steps + maxSteps;
    let result: RunResult = "running";

    while (steps < limit) {
      steps++;
      if ((steps & CLOCK_EVERY) === 0 && performance.now() > deadline) {
        result = "timeout";
        break;
      }
      if (e === this.tail) {
        // Every event has been lifted: every operation is linearized.
        result = "ok";
        break;
      }
      const ret = matchOf[e]!;
      if (ret >= 0) {
        // A call event: try to linearize its operation here.
        const i = opOf[e]!;
        const op = ops[i]!;
        const after = model.step(state, op.input, op.output);
        if (after !== undefined) {
          linearized[i >>> 5] |= 1 << (i & 31);
          linearizedHash ^= zobrist[i]!;
          if (cache.add(linearized, linearizedHash, after)) {
            stackPos[depth] = e;
            stackState[depth] = state;
            depth++;
            state = after;
            // Lift the call and return events out of the list.
            next[prev[e]!] = next[e]!;
            prev[next[e]!] = prev[e]!;
            next[prev[ret]!] = next[ret]!;
            prev[next[ret]!] = prev[ret]!;
            e = next[head]!;
            continue;
          }
          // This configuration was explored already.
          linearized[i >>> 5] &= ~(1 << (i & 31));
          linearizedHash ^= zobrist[i]!;
        }
        e = next[e]!;
        continue;
      }
      // A return event: its operation had to be linearized before this point.
      if (infinite[e]) {
        // Only indeterminate operations remain; leaving them out is a valid linearization.
        result = "ok";
        break;
      }
      if (e > this.bestStuck) {
        this.bestStuck = e;
        this.bestStack = Array.from(stackPos.subarray(0, depth), (p) => opOf[p]!);
        this.bestState = state;
      }
      if (depth === 0) {
        result = "fail";
        break;
      }
      // Backtrack: undo the last linearized operation and try the next event after it.
      depth--;
      const c = stackPos[depth]!;
      state = stackState[depth]!;
      stackState[depth] = undefined as State; // let the state be collected
      const i = opOf[c]!;
      linearized[i >>> 5] &= ~(1 << (i & 31));
      linearizedHash ^= zobrist[i]!;
      const r = matchOf[c]!;
      // Unlift in the reverse order of lifting.
      next[prev[r]!] = r;
      prev[next[r]!] = r;
      next[prev[c]!] = c;
      prev[next[c]!] = c;
      e = next[c]!;
    }

    this.state = state;
    this.depth = depth;
    this.linearizedHash = linearizedHash;
    this.cursor = e;
    this.steps = steps;
    if (result === "ok") this.finish("linearizable");
    else if (result === "fail") this.finish("not-linearizable");
    return result;
  }

  /** Configurations memoised now (0 once the search is over). */
  get cacheSize(): number {
    return this.cache.size;
  }

  /** Gives up: the verdict stays unknown. */
  abandon(reason: UnknownReason): void {
    if (this.verdict === undefined) {
      this.verdict = "unknown";
      this.unknownReason = reason;
      this.release();
    }
  }

  private finish(v: Verdict): void {
    this.verdict = v;
    this.release();
  }

  private release(): void {
    this.cache.clear();
    this.stackState.length = 0;
  }

  result(): PartitionResult<State, Input, Output> {
    const verdict = this.verdict ?? "unknown";
    const base = {
      key: this.key,
      verdict,
      operations: this.ops.length,
      steps: this.steps,
      cacheEntries: this.cache.peakSize,
    };
    if (verdict === "unknown") return { ...base, unknownReason: this.unknownReason ?? "skipped" };
    if (verdict === "linearizable") return base;
    return { ...base, failure: this.failure() };
  }

  private failure(): Failure<State, Input, Output> {
    const ops = this.ops;
    const stuckPos = this.bestStuck;
    const stuckOp = this.opOf[stuckPos]!;
    const inLinearization = new Set(this.bestStack);
    const pending: Operation<Input, Output>[] = [];
    for (let i = 0; i < ops.length; i++) {
      if (!inLinearization.has(i) && this.callPos[i]! < stuckPos) pending.push(ops[i]!);
    }
    pending.sort((a, b) => a.call - b.call);
    return {
      stuck: ops[stuckOp]!,
      linearized: this.bestStack.map((i) => ops[i]!),
      state: this.bestState,
      pending,
    };
  }
}

/**
 * The memo of explored configurations: a hash set of (linearized bitset, state) pairs. Bitsets
 * are copied into one growing pool to keep the garbage collector out of the hot loop.
 */
class ConfigCache<State> {
  private buckets: Int32Array;
  private mask: number;
  private bits: Uint32Array;
  private hashes: Int32Array;
  private chain: Int32Array;
  private states: State[] = [];
  size = 0;
  peakSize = 0;

  constructor(
    private readonly words: number,
    private readonly model: Model<State, unknown, unknown>,
  ) {
    const cap = 1024;
    this.buckets = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
    this.bits = new Uint32Array(cap * Math.max(1, words));
    this.hashes = new Int32Array(cap);
    this.chain = new Int32Array(cap);
  }

  /** Adds the configuration; returns false when it was already present. */
  add(bitset: Uint32Array, bitsetHash: number, state: State): boolean {
    const words = this.words;
    let h = (bitsetHash ^ Math.imul(this.model.hash(state), 0x27d4eb2d)) | 0;
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
    h ^= h >>> 12;
    for (let j = this.buckets[h & this.mask]!; j >= 0; j = this.chain[j]!) {
      if (this.hashes[j] !== h) continue;
      let same = true;
      const base = j * words;
      for (let w = 0; w < words; w++) {
        if (this.bits[base + w] !== bitset[w]) {
          same = false;
          break;
        }
      }
      if (same && this.model.equal(this.states[j]!, state)) return false;
    }
    const j = this.size++;
    if (j >= this.hashes.length) this.grow();
    this.bits.set(bitset, j * words);
    this.hashes[j] = h;
    this.states[j] = state;
    const b = h & this.mask;
    this.chain[j] = this.buckets[b]!;
    this.buckets[b] = j;
    if (this.size > this.peakSize) this.peakSize = this.size;
    return true;
  }

  private grow(): void {
    const cap = this.hashes.length * 2;
    const bits = new Uint32Array(cap * Math.max(1, this.words));
    bits.set(this.bits);
    this.bits = bits;
    const hashes = new Int32Array(cap);
    hashes.set(this.hashes);
    this.hashes = hashes;
    this.chain = new Int32Array(cap);
    this.buckets = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
    for (let j = 0; j < this.size - 1; j++) {
      const b = this.hashes[j]! & this.mask;
      this.chain[j] = this.buckets[b]!;
      this.buckets[b] = j;
    }
  }

  clear(): void {
    this.buckets = new Int32Array(0);
    this.mask = -1;
    this.bits = new Uint32Array(0);
    this.hashes = new Int32Array(0);
    this.chain = new Int32Array(0);
    this.states = [];
    this.size = 0;
  }
}
