// The contract between the linearizability checker and a sequential specification (a "model").
//
// A model says what a single copy of the object would do, one operation at a time: its initial
// state, whether an operation with a given observed outcome is legal in a state and what state
// follows, how to compare and hash states (for the search cache), how to split a history into
// independent parts (P-compositionality: Herlihy & Wing 1990, section 3.3; Horn & Kroening,
// FORTE'15) and how to print operations and states for humans. The built-in models live in
// models/; users add their own by implementing `Model`.
//
// This file must not import anything but the shared record type, and must not contain search
// logic: the checker (checker.ts) is the only code that decides linearizability.

import type { HistoryOperation } from "./history.js";

/**
 * One operation of a history, in the model's own types, with the interval in which it took
 * effect (if it did). Produced by `Model.fromHistory` or built directly by a test.
 *
 * Invariant: `call <= return`. An operation `a` precedes `b` (real-time order that every
 * linearization must respect) iff `a.return < b.call`; equal times mean "concurrent".
 */
export interface Operation<Input, Output> {
  /** The client (Jepsen "process") that issued it. Only used in messages. */
  readonly client: string;
  /** Time the request was sent. Any unit, only the order matters. */
  readonly call: number;
  /**
   * Time the response arrived. `Infinity` when `output` is undefined (indeterminate): the
   * effect may land at any time after `call`, or never.
   */
  readonly return: number;
  readonly input: Input;
  /**
   * What the client observed. `undefined` means indeterminate (Jepsen `:info`, a client
   * timeout): the operation may or may not have taken effect and its result is unknown. A
   * model's `Output` type must therefore not itself contain `undefined`.
   */
  readonly output: Output | undefined;
  /** 1-based line of the invocation in the source file, when it came from one. */
  readonly line?: number;
  /** 1-based line of the completion in the source file, when there was one. */
  readonly returnLine?: number;
}

/**
 * A sequential specification.
 *
 * Models must be deterministic: `step` returns the single next state or `undefined`. A
 * nondeterministic object can be modelled by making the state a set of possible states
 * (porcupine's power-set construction), with `equal`/`hash` over that set.
 */
export interface Model<State, Input, Output> {
  /** Short name used by the CLI (`--model NAME`) and in messages. */
  readonly name: string;

  /** The state before any operation. Called once per partition. */
  init(): State;

  /**
   * Applies `input` with the observed `output` to `state`. Returns the next state when the
   * observation is legal in `state`, or `undefined` when it is not. With `output ===
   * undefined` (indeterminate) the model must return the state the operation would produce if
   * it took effect here; it is never asked to check a result. States are treated as immutable:
   * return a new value, never modify `state`.
   */
  step(state: State, input: Input, output: Output | undefined): State | undefined;

  /** Whether two states are the same (cache hits compare with this after `hash` matches). */
  equal(a: State, b: State): boolean;

  /** A 32-bit hash of a state, consistent with `equal`. */
  hash(state: State): number;

  /**
   * The partition an operation belongs to. Operations in different partitions must act on
   * independent parts of the state (for example different keys), so that each partition can
   * be checked on its own, starting from `init()`. Omit it to check the history as a whole.
   */
  partition?(input: Input): string;

  /**
   * Turns a format-independent record (parsed from a file or taken from the recorder) into an
   * operation of this model. Returns `undefined` to drop a record that cannot affect the
   * verdict (a definite failure, an indeterminate read). Throws `HistoryParseError` for a record
   * that does not fit the model. Optional: only needed to check records or files.
   */
  fromHistory?(record: HistoryOperation): Operation<Input, Output> | undefined;

  /** One-line text of an operation, like `cas(1, 2) -> ok` or `get("7") -> "x 0 0 y"`. */
  describeOperation(input: Input, output: Output | undefined): string;

  /** One-line text of a state, for explanations. */
  describeState(state: State): string;
}

/**
 * A model with its type parameters erased, for registries such as the CLI's `--model`. `any`
 * is deliberate: Model is invariant in its parameters, so no safer supertype exists, and
 * callers only feed a model operations made by its own `fromHistory`.
 */
export type AnyModel = Model<any, any, any>;

/** 32-bit FNV-1a hash of a string, for models whose states are (or contain) strings. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}
