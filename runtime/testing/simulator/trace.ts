// The simulator's event trace and its failure error.
//
// Every action of a schedule (a delivery, a tick, a Ready, a crash, a partition...) is
// recorded as one line. Normally only the last `capacity` events are kept, formatted lazily so
// that a passing run pays little for them; when a verbose sink is given (SIM_SEED replays),
// every line goes to it as it happens. A failing schedule throws SimulationError, whose
// message names the seed, the step and the violated property and ends with the recent trace,
// so that a red CI run can be replayed exactly with SIM_SEED=<seed>.
//
// This file must not use Math.random or Date, and must not import a test framework.

/** What a schedule checks; a SimulationError names one of these. */
export type SimProperty =
  /** At most one leader per term over the whole run (Raft §5.2). */
  | "election safety"
  /** Two logs holding an entry with the same index and term are identical up to it (§5.3). */
  | "log matching"
  /** A committed entry is in the log of every leader of a later term (§5.4). */
  | "leader completeness"
  /** All nodes apply the same entry at the same index (§5.4.3). */
  | "state machine safety"
  /**
   * A ReadIndex answer (ReadState) below an index committed before the read was asked, or a
   * read served from a state machine missing such an entry (thesis §6.4).
   */
  | "stale read"
  /** After healing, the cluster elects a leader and commits on every live member. */
  | "liveness"
  /** The core threw an error it should never throw (RaftInvariantError or an unexpected one). */
  | "core error"
  /** The core broke the driver contract (Ready out of order, entries re-delivered...). */
  | "driver contract";

interface TraceEvent {
  step: number;
  tick: number;
  text: string | (() => string);
}

export class Trace {
  private readonly ring: (TraceEvent | undefined)[];
  private next = 0;
  private count = 0;

  constructor(
    readonly capacity: number,
    /** When set, every event is formatted and handed over at once (verbose replays). */
    private readonly sink?: (line: string) => void,
  ) {
    this.ring = new Array<TraceEvent | undefined>(capacity);
  }

  get verbose(): boolean {
    return this.sink !== undefined;
  }

  /** Record an event; `text` may be a thunk, formatted only if it is ever printed. */
  add(step: number, tick: number, text: string | (() => string)): void {
    const ev: TraceEvent = { step, tick, text };
    if (this.sink) this.sink(formatEvent(ev));
    this.ring[this.next] = ev;
    this.next = (this.next + 1) % this.capacity;
    this.count++;
  }

  /** A free-form line for the verbose sink only (core log lines, summaries). */
  note(line: string): void {
    if (this.sink) this.sink(line);
  }

  /** The kept events, oldest first, formatted. */
  lines(): string[] {
    const out: string[] = [];
    const n = Math.min(this.count, this.capacity);
    for (let k = 0; k < n; k++) {
      const ev = this.ring[(this.next - n + k + this.capacity) % this.capacity];
      if (ev) out.push(formatEvent(ev));
    }
    return out;
  }
}

function formatEvent(ev: TraceEvent): string {
  const text = typeof ev.text === "string" ? ev.text : ev.text();
  return `[step ${ev.step} tick ${ev.tick}] ${text}`;
}

/**
 * A safety or liveness violation found by a schedule (or an error the core threw). The message
 * carries everything needed to reproduce it: the seed, the step, the property, the detail, how
 * to replay, and the last events of the trace.
 */
export class SimulationError extends Error {
  override readonly name = "SimulationError";
  constructor(
    readonly seed: number,
    readonly step: number,
    readonly property: SimProperty,
    readonly detail: string,
    readonly trace: readonly string[],
    readonly setup: string,
    options?: { cause?: unknown },
  ) {
    super(
      `simulator: ${property} violated at step ${step} of seed ${seed} (${setup})\n` +
        `${detail}\n` +
        `replay: SIM_SEED=${seed} npx vitest run test/raft/simulator.test.ts\n` +
        `last ${trace.length} events:\n  ${trace.join("\n  ")}`,
      options,
    );
  }
}
