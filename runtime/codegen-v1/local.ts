// LocalBackend: a generated client's calls run in this process against one in-memory state
// store, with no Raft and no network — for tests of handlers (`new CounterClient({ local:
// createStateMachine(handlers) })`). It goes through the same codecs, the same state machine
// adapter and the same error codes as a cluster (CommandFailed when a handler throws, and then
// nothing changes), so a handler test exercises what a node runs. Entry timestamps come from
// `clock` (default Date.now), so tests of time-based handlers can set the time.
//
// This module does no I/O.

import { NodeError } from "../node/errors.js";
import { type StateMachine, StateStore } from "../node/state-machine.js";

export interface LocalOptions {
  /** The state machine to run (the generated `createStateMachine(handlers)`). */
  local: StateMachine;
  /** The timestamp (ms) each command's entry gets; default Date.now. */
  clock?: () => number;
}

export interface LocalResult {
  output: Uint8Array;
  /** The index the command got, or the index a query read at. */
  index: number;
}

export class LocalBackend {
  private readonly store: StateStore;
  private index = 0;
  private readonly clock: () => number;

  constructor(private readonly sm: StateMachine, clock?: () => number) {
    this.store = new StateStore([...sm.tables]);
    this.clock = clock ?? Date.now;
  }

  command(name: string, payload: Uint8Array): LocalResult {
    if (!this.sm.hasCommand(name)) throw new NodeError("InvalidArgument", `unknown command ${JSON.stringify(name)}`);
    this.check(() => this.sm.checkCommand?.(name, payload));
    const tx = this.store.begin();
    const entry = { index: this.index + 1, term: 1, timestamp: this.clock() };
    this.index++;
    let output: Uint8Array;
    try {
      output = this.sm.apply(name, payload, tx, entry);
    } catch (err) {
      throw new NodeError("CommandFailed", err instanceof Error ? err.message : String(err), {}, { cause: err });
    }
    this.store.applyOps(tx.ops());
    return { output, index: entry.index };
  }

  query(name: string, payload: Uint8Array): LocalResult {
    if (!this.sm.hasQuery(name)) throw new NodeError("InvalidArgument", `unknown query ${JSON.stringify(name)}`);
    this.check(() => this.sm.checkQuery?.(name, payload));
    try {
      return { output: this.sm.query(name, payload, this.store), index: this.index };
    } catch (err) {
      throw new NodeError("CommandFailed", `query ${name} failed: ${err instanceof Error ? err.message : String(err)}`, {}, { cause: err });
    }
  }

  private check(f: () => void): void {
    try {
      f();
    } catch (err) {
      throw err instanceof NodeError ? err : new NodeError("InvalidArgument", (err as Error).message, {}, { cause: err });
    }
  }
}
