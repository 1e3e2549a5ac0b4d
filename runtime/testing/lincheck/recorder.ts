// A history recorder: wraps client calls made by tests (or users) and keeps, for each call, the
// client id, the operation, its input, the monotonic call and return times and its outcome, so
// the history can be checked for linearizability or written as a `json` history file.
//
// Outcomes follow Jepsen's three kinds. A call that resolves is `ok` with its result. A call
// that rejects is indeterminate (`info`: it may still take effect later, so its return time is
// +infinity) unless the caller's `isDefiniteFailure(err)` says the operation certainly did not
// happen (`fail`). Treating every error as indeterminate is the safe default: it can only make
// the checker more permissive, never report a false violation. A call still pending when the
// history is read is indeterminate too.
//
// This file must not check anything or interpret operations: it only records. Times are from
// process.hrtime.bigint(), relative to the recorder's creation, in nanoseconds.

import { writeFile } from "node:fs/promises";
import type { HistoryOperation, HistoryValue, Outcome } from "./history.js";
import { JSON_HISTORY_FORMAT, JSON_HISTORY_VERSION } from "./parse.js";

export interface HistoryRecorderOptions {
  /**
   * Whether an error thrown by a call means the operation certainly did not take effect (for
   * example a "not leader" rejection before the request was proposed). Default: never, so
   * every error is recorded as indeterminate.
   */
  readonly isDefiniteFailure?: (err: unknown) => boolean;
  /** Monotonic clock in nanoseconds. Default `process.hrtime.bigint`. For tests. */
  readonly clock?: () => bigint;
}

/** Per-call options of `HistoryRecorder.record`. */
export interface RecordOptions<T> {
  /** The key the operation acts on (for partitioned models such as kv). */
  readonly key?: string;
  /** Maps the call's result to the recorded output. Default: the result itself. */
  readonly output?: (result: T) => unknown;
}

/** The json history document (see parse.ts, `parseJsonHistory`, for its definition). */
export interface JsonHistoryDocument {
  readonly format: typeof JSON_HISTORY_FORMAT;
  readonly version: typeof JSON_HISTORY_VERSION;
  readonly timeUnit: "ns";
  readonly operations: readonly JsonHistoryOperation[];
}

export interface JsonHistoryOperation {
  readonly client: string;
  readonly op: string;
  readonly key?: string;
  readonly input: unknown;
  readonly call: number;
  readonly return: number | null;
  readonly outcome: Outcome;
  readonly output?: unknown;
  readonly error?: string;
}

interface Entry {
  readonly client: string;
  readonly op: string;
  readonly key: string | undefined;
  readonly input: unknown;
  readonly call: bigint;
  ret?: bigint;
  outcome?: Outcome;
  output?: unknown;
  error?: string;
}

export class HistoryRecorder {
  private readonly entries: Entry[] = [];
  private readonly clock: () => bigint;
  private readonly origin: bigint;
  private readonly isDefiniteFailure: (err: unknown) => boolean;

  constructor(options: HistoryRecorderOptions = {}) {
    this.clock = options.clock ?? process.hrtime.bigint;
    this.isDefiniteFailure = options.isDefiniteFailure ?? (() => false);
    this.origin = this.clock();
  }

  /**
   * Runs `call`, recording it as operation `op` with `input` by `client`. Returns (or throws)
   * exactly what `call` does. The call time is taken just before `call` starts and the return
   * time just after its promise settles, so the recorded interval contains the real one.
   */
  async record<T>(
    client: string | number,
    op: string,
    input: unknown,
    call: () => Promise<T>,
    options: RecordOptions<T> = {},
  ): Promise<T> {
    const entry: Entry = { client: String(client), op, key: options.key, input, call: this.clock() };
    this.entries.push(entry);
    let result: T;
    try {
      result = await call();
    } catch (err) {
      const ret = this.clock();
      entry.error = errorText(err);
      if (this.isDefiniteFailure(err)) {
        entry.ret = ret;
        entry.outcome = "fail";
      } else {
        entry.outcome = "info";
      }
      throw err;
    }
    entry.ret = this.clock();
    entry.outcome = "ok";
    entry.output = options.output === undefined ? result : options.output(result);
    return result;
  }

  /** Number of operations recorded so far (including pending ones). */
  get size(): number {
    return this.entries.length;
  }

  /**
   * The history as records for `checkHistory`, in call order. Calls still pending are
   * indeterminate. Values go through a JSON round trip, exactly as `writeFile` would store
   * them, so checking in memory and checking the file agree.
   */
  operations(): HistoryOperation[] {
    return this.toJSON().operations.map((o) => {
      const r: { -readonly [K in keyof HistoryOperation]: HistoryOperation[K] } = {
        client: o.client,
        call: o.call,
        return: o.return === null ? Infinity : o.return,
        op: o.op,
        input: (o.input ?? null) as HistoryValue,
        outcome: o.outcome,
      };
      if (o.key !== undefined) r.key = o.key;
      if (o.output !== undefined) r.output = o.output as HistoryValue;
      if (o.error !== undefined) r.error = o.error;
      return r;
    });
  }

  /** The json history document. */
  toJSON(): JsonHistoryDocument {
    const rel = (t: bigint): number => Number(t - this.origin);
    const operations = this.entries.map((e): JsonHistoryOperation => {
      const outcome = e.outcome ?? "info";
      const o: { -readonly [K in keyof JsonHistoryOperation]: JsonHistoryOperation[K] } = {
        client: e.client,
        op: e.op,
        input: toJsonValue(e.input) ?? null,
        call: rel(e.call),
        return: outcome === "info" || e.ret === undefined ? null : rel(e.ret),
        outcome,
      };
      if (e.key !== undefined) o.key = e.key;
      if (outcome !== "info" && e.output !== undefined) o.output = toJsonValue(e.output);
      if (e.error !== undefined) o.error = e.error;
      return o;
    });
    return { format: JSON_HISTORY_FORMAT, version: JSON_HISTORY_VERSION, timeUnit: "ns", operations };
  }

  /** The json document as text: one operation per line, so parse errors name a useful line. */
  toText(): string {
    const doc = this.toJSON();
    const ops = doc.operations.map((o) => `    ${JSON.stringify(o)}`);
    return (
      `{\n  "format": ${JSON.stringify(doc.format)},\n  "version": ${doc.version},\n` +
      `  "timeUnit": ${JSON.stringify(doc.timeUnit)},\n  "operations": [\n${ops.join(",\n")}\n  ]\n}\n`
    );
  }

  /** Writes the json document to `path`. */
  async writeFile(path: string): Promise<void> {
    await writeFile(path, this.toText(), "utf8");
  }
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message === "" ? err.name : `${err.name}: ${err.message}`;
  return String(err);
}

/**
 * A JSON-safe copy: bigints become decimal strings (JSON has no 64-bit integers), undefined
 * stays undefined (the field is then omitted).
 */
function toJsonValue(v: unknown): unknown {
  if (v === undefined) return undefined;
  const text = JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x));
  return text === undefined ? undefined : (JSON.parse(text) as unknown);
}
