// A recorded client workload for the multi-process cluster tests: concurrent writers (set and
// append on a bounded key space, through RaftClients with exactly-once sessions) and readers
// (linearizable gets), every call recorded in a HistoryRecorder for the `kv` model:
//
//   set(k, v)    -> put(k, v)          append(k, v) -> append(k, v)        get(k) -> get(k)
//
// Every written value is unique (`<writer>.<n>;`), so the checker's search stays narrow and a
// final read shows exactly which appends took effect. Outcomes: a call that resolves is `ok`;
// CommandFailed / InvalidArgument are definite failures (the command changed nothing); every
// other error (Timeout, a connection broken mid-call, Stopped) is indeterminate, and the writer
// then continues under a new history client id, as a Jepsen process would after an `info`.
//
// Every loop is bounded: by a total number of writes, by a deadline, and by stop().

import { isNodeError } from "../../runtime/node/errors.js";
import type { RaftClient } from "../../runtime/client/index.js";
import { HistoryRecorder, checkHistory, describeCheckResult, kvModel } from "../../runtime/testing/lincheck/index.js";
import { json, parse } from "../node/kv-state-machine.js";

export interface WorkloadOptions {
  /** One RaftClient per group of writers (they share its session lanes). */
  clients: RaftClient[];
  writersPerClient: number;
  /** Concurrent linearizable-get loops. */
  readers: number;
  /** Writes issued in total (all writers together). */
  totalWrites: number;
  /** Keys k0 .. k<keys-1>. */
  keys: number;
  /** Every n-th write of a writer is a set, the others appends; 0 = appends only. */
  setEvery: number;
  /**
   * At most this many writers share a key (writers are split into groups, each with its own
   * keys). Default: all writers write all keys. Long runs of concurrent appends to one key make
   * the checker's search explode (every order of them is a different state), so append-only
   * workloads keep this small.
   */
  writersPerKey?: number;
  /** Hard bound on the workload's duration. */
  maxMs: number;
  /** Pause between two reads of one reader. */
  readPauseMs?: number;
  seed?: number;
}

/** The fate of one written token. */
export type WriteOutcome = "ok" | "fail" | "info";

export interface WriteRecord {
  key: string;
  op: "set" | "append";
  value: string;
  outcome?: WriteOutcome;
  error?: string;
}

/** mulberry32: a small seeded PRNG, so a run's key choices can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const isDefiniteFailure = (err: unknown): boolean => isNodeError(err, "CommandFailed") || isNodeError(err, "InvalidArgument");

export class Workload {
  readonly recorder = new HistoryRecorder({ isDefiniteFailure });
  readonly writes: WriteRecord[] = [];
  /** performance.now() at each successful write's return, in completion order. */
  readonly writeAcks: number[] = [];
  /** performance.now() at the call of each successful write, in the same order. */
  readonly writeCalls: number[] = [];
  issued = 0;
  acked = 0;
  failed = 0;
  indeterminate = 0;
  reads = 0;
  readsOk = 0;
  readonly errors = new Map<string, number>();
  private stopped = false;
  private writersDone = false;
  private running: Promise<void> | undefined;
  private readonly rand: () => number;
  readonly keys: string[];
  startedAt = 0;
  endedAt = 0;

  constructor(readonly o: WorkloadOptions) {
    this.rand = prng(o.seed ?? 0x5eed);
    this.keys = Array.from({ length: o.keys }, (_, i) => `k${i}`);
  }

  /** Start the loops; `done()` resolves when the writers have finished and readers stopped. */
  start(): this {
    this.startedAt = performance.now();
    const endBy = Date.now() + this.o.maxMs;
    const writers: Promise<void>[] = [];
    const total = this.o.clients.length * this.o.writersPerClient;
    const groups = Math.min(this.keys.length, Math.ceil(total / Math.min(total, this.o.writersPerKey ?? total)));
    let index = 0;
    this.o.clients.forEach((client, ci) => {
      for (let w = 0; w < this.o.writersPerClient; w++) {
        const group = index++ % groups;
        const keys = this.keys.filter((_, k) => k % groups === group);
        writers.push(this.writer(client, `w${ci}-${w}`, keys, endBy));
      }
    });
    const readers = Array.from({ length: this.o.readers }, (_, r) => this.reader(this.o.clients[r % this.o.clients.length]!, `r${r}`, endBy));
    this.running = (async () => {
      await Promise.all(writers);
      this.writersDone = true;
      this.endedAt = performance.now();
      await Promise.all(readers);
    })();
    return this;
  }

  /** Ask every loop to end after its current call. */
  stop(): void {
    this.stopped = true;
  }

  done(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private countError(err: unknown): void {
    const code = isNodeError(err) ? err.code : err instanceof Error ? err.name : "unknown";
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  private async writer(client: RaftClient, name: string, keys: readonly string[], endBy: number): Promise<void> {
    let generation = 0;
    let n = 0;
    while (!this.stopped && this.issued < this.o.totalWrites && Date.now() < endBy) {
      this.issued++;
      n++;
      const key = keys[Math.floor(this.rand() * keys.length)]!;
      const isSet = this.o.setEvery > 0 && n % this.o.setEvery === 0;
      const value = `${isSet ? "=" : ""}${name}.${n};`;
      const rec: WriteRecord = { key, op: isSet ? "set" : "append", value };
      this.writes.push(rec);
      const calledAt = performance.now();
      try {
        await this.recorder.record(
          `${name}/${generation}`,
          isSet ? "put" : "append",
          value,
          () => client.command(rec.op, json({ key, value })),
          { key, output: () => null },
        );
        rec.outcome = "ok";
        this.acked++;
        this.writeAcks.push(performance.now());
        this.writeCalls.push(calledAt);
      } catch (err) {
        this.countError(err);
        rec.error = err instanceof Error ? err.message : String(err);
        if (isDefiniteFailure(err)) {
          rec.outcome = "fail";
          this.failed++;
        } else {
          rec.outcome = "info";
          this.indeterminate++;
          generation++;
        }
      }
    }
  }

  private async reader(client: RaftClient, name: string, endBy: number): Promise<void> {
    let generation = 0;
    while (!this.stopped && !this.writersDone && Date.now() < endBy) {
      const key = this.keys[Math.floor(this.rand() * this.keys.length)]!;
      this.reads++;
      try {
        await this.get(client, `${name}/${generation}`, key);
        this.readsOk++;
      } catch (err) {
        this.countError(err);
        generation++;
      }
      if (this.o.readPauseMs) await new Promise((r) => setTimeout(r, this.o.readPauseMs));
    }
  }

  /** A recorded linearizable get; resolves with the value ("" for a missing key). */
  get(client: RaftClient, historyClient: string, key: string): Promise<string> {
    return this.recorder.record(
      historyClient,
      "get",
      null,
      async () => parse<{ value?: string }>((await client.query("get", json({ key }), "linearizable")).output).value ?? "",
      { key },
    );
  }

  /** Wait until `n` writes were acknowledged (bounded). */
  async waitForAcked(n: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.acked < n) {
      if (Date.now() > deadline) throw new Error(`only ${this.acked} of ${n} writes acknowledged within ${timeoutMs} ms (${this.summary()})`);
      if (this.writersDone) throw new Error(`the writers ended with ${this.acked} < ${n} writes acknowledged (${this.summary()})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** When the first write acknowledged after `t` (performance.now() time) returned, or undefined. */
  firstAckAfter(t: number): number | undefined {
    return this.writeAcks.find((a) => a > t);
  }

  /**
   * When the first write *called* after `t` was acknowledged: stricter than firstAckAfter, since
   * no answer sent before `t` can count.
   */
  firstAckCalledAfter(t: number): number | undefined {
    let best: number | undefined;
    this.writeCalls.forEach((c, i) => {
      if (c > t && (best === undefined || this.writeAcks[i]! < best)) best = this.writeAcks[i]!;
    });
    return best;
  }

  /** The longest time without an acknowledged write while the writers ran, and when it began. */
  longestGap(): { ms: number; from: number } {
    const times = [this.startedAt, ...this.writeAcks, this.endedAt || performance.now()].sort((a, b) => a - b);
    let best = { ms: 0, from: this.startedAt };
    for (let i = 1; i < times.length; i++) {
      const gap = times[i]! - times[i - 1]!;
      if (gap > best.ms) best = { ms: gap, from: times[i - 1]! };
    }
    return best;
  }

  /** Check the recorded history with the kv model; throws with an explanation unless linearizable. */
  checkLinearizable(timeoutMs = 60_000): { verdict: string; ops: number; elapsedMs: number } {
    const ops = this.recorder.operations();
    const r = checkHistory(kvModel, ops, { timeoutMs });
    if (r.verdict !== "linearizable") {
      throw new Error(`history of ${ops.length} operations is ${r.verdict}:\n${describeCheckResult(kvModel, r)}`);
    }
    return { verdict: r.verdict, ops: ops.length, elapsedMs: Math.round(r.elapsedMs) };
  }

  summary(): string {
    const errs = [...this.errors].map(([k, v]) => `${k}=${v}`).join(" ");
    return `issued ${this.issued}, acked ${this.acked}, failed ${this.failed}, indeterminate ${this.indeterminate}, reads ${this.readsOk}/${this.reads}${errs ? `, errors ${errs}` : ""}`;
  }
}
