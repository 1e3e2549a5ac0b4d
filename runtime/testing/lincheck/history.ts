// The format-independent form of a recorded history, and the rules that turn a sequence of
// invoke/complete events into operations with call and return times.
//
// Every reader (parse.ts) and the recorder (recorder.ts) produce `HistoryOperation` records;
// each model's `fromHistory` turns them into its own typed operations. The event rules follow
// ../shared/linearizability/README.md ("Turning a file into operations"): line order is time,
// `:ok`/`:fail` close the client's open operation, `:info` leaves it open forever (return =
// +infinity: it may take effect at any later time or never), and so does end of input.
//
// This file must not know any model or any file syntax.

import { HistoryParseError } from "./errors.js";

/** A JSON-compatible value: what histories carry as inputs and outputs. */
export type HistoryValue =
  | null
  | boolean
  | number
  | string
  | readonly HistoryValue[]
  | { readonly [key: string]: HistoryValue };

/**
 * How an operation ended. `ok`: it took effect with the recorded output. `fail`: it certainly
 * did not take effect (some models still read an observation from it, e.g. a failed CAS).
 * `info`: unknown (a timeout); it may have taken effect at any time after its call, or never.
 */
export type Outcome = "ok" | "fail" | "info";

/**
 * One operation, independent of the source format and of the model.
 *
 * Invariant: `return === Infinity` iff `outcome === "info"`; otherwise `call <= return`.
 */
export interface HistoryOperation {
  /** The client (Jepsen process) that issued it, as text. */
  readonly client: string;
  /** Call time. Any unit; only the order matters. */
  readonly call: number;
  /** Return time, `Infinity` for indeterminate operations. */
  readonly return: number;
  /** Operation name: `read`, `write`, `cas`, `get`, `put`, `append`, or a user model's. */
  readonly op: string;
  /** The key, for partitioned models. */
  readonly key?: string;
  /** The invocation's argument (`null` when there is none). */
  readonly input: HistoryValue;
  readonly outcome: Outcome;
  /** The completion's value, for `ok` and `fail`. Absent for `info`. */
  readonly output?: HistoryValue;
  /** Error text for `fail`/`info`, e.g. `timed-out`. */
  readonly error?: string;
  /** 1-based line of the invocation in the source file. */
  readonly line?: number;
  /** 1-based line of the completion in the source file. */
  readonly returnLine?: number;
}

/** The kind of an event line (Jepsen's `:type`). */
export type EventType = "invoke" | "ok" | "fail" | "info";

/** One event of an event-per-line format (jepsen-log, edn-lines). */
export interface HistoryEvent {
  /** 1-based source line. */
  readonly line: number;
  readonly client: string;
  readonly type: EventType;
  readonly op: string;
  readonly key?: string;
  /** The value on the line; `null` for `nil` or when the line carried an error keyword. */
  readonly value: HistoryValue;
  /** An error keyword in place of the value (`:timed-out` gives `timed-out`). */
  readonly error?: string;
}

interface OpenOperation {
  readonly invoke: HistoryEvent;
  readonly call: number;
}

/**
 * Pairs events into operations. Time is the event's index: the only time information the
 * text formats have. Operations come back in invocation order.
 *
 * Throws HistoryParseError for a completion with no open operation, a completion whose
 * operation name differs from its invocation, or an invocation while the same client still
 * has a definite (non-`:info`) operation open.
 */
export function eventsToOperations(events: readonly HistoryEvent[]): HistoryOperation[] {
  const open = new Map<string, OpenOperation>();
  // Each slot is filled when the operation completes (or at the end); the array keeps
  // invocation order.
  const slots: (HistoryOperation | OpenOperation)[] = [];
  const slotOf = new Map<OpenOperation, number>();
  events.forEach((ev, t) => {
    if (ev.type === "invoke") {
      const prev = open.get(ev.client);
      if (prev !== undefined) {
        throw new HistoryParseError(
          "overlapping-invocation",
          `client ${ev.client} invokes ${ev.op} while its ${prev.invoke.op} from line ${prev.invoke.line} is still open`,
          ev.line,
        );
      }
      const o: OpenOperation = { invoke: ev, call: t };
      open.set(ev.client, o);
      slotOf.set(o, slots.length);
      slots.push(o);
      return;
    }
    const o = open.get(ev.client);
    if (o === undefined) {
      throw new HistoryParseError(
        "unmatched-completion",
        `:${ev.type} ${ev.op} for client ${ev.client}, which has no open operation`,
        ev.line,
      );
    }
    if (o.invoke.op !== ev.op) {
      throw new HistoryParseError(
        "mismatched-completion",
        `:${ev.type} ${ev.op} for client ${ev.client} completes a ${o.invoke.op} (line ${o.invoke.line})`,
        ev.line,
      );
    }
    open.delete(ev.client);
    const slot = slotOf.get(o)!;
    if (ev.type === "info") {
      // Indeterminate: stays open forever. The client may be reused afterwards (Jepsen gives
      // it a new id, but nothing breaks if a file does not).
      slots[slot] = closed(o, Infinity, "info", ev);
    } else {
      slots[slot] = closed(o, t, ev.type, ev);
    }
  });
  return slots.map((s) => ("invoke" in s ? closed(s, Infinity, "info", undefined) : s));
}

function closed(
  o: OpenOperation,
  ret: number,
  outcome: Outcome,
  completion: HistoryEvent | undefined,
): HistoryOperation {
  const inv = o.invoke;
  const rec: {
    -readonly [K in keyof HistoryOperation]: HistoryOperation[K];
  } = {
    client: inv.client,
    call: o.call,
    return: ret,
    op: inv.op,
    input: inv.value,
    outcome,
    line: inv.line,
  };
  if (inv.key !== undefined) rec.key = inv.key;
  if (completion !== undefined) {
    rec.returnLine = completion.line;
    if (completion.error !== undefined) rec.error = completion.error;
    else if (outcome !== "info") rec.output = completion.value;
  }
  return rec;
}

/** `client op(key) input` with lines, for messages about a record. */
export function describeRecord(r: HistoryOperation): string {
  const key = r.key === undefined ? "" : ` key ${JSON.stringify(r.key)}`;
  const at = r.line === undefined ? "" : ` (line ${r.line})`;
  return `client ${r.client} ${r.op}${key} ${JSON.stringify(r.input)}${at}`;
}
