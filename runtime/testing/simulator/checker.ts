// The simulator's safety checker: Raft's four safety properties (paper §5.2-§5.4, Figure 3),
// checked incrementally after every operation on every node, over the whole run.
//
// - Election safety: at most one leader per term, ever (a map term -> leader kept for the run).
// - Log matching: if two logs hold an entry with the same index and term, they are identical up
//   to it. Checked without comparing logs pairwise: every entry any node ever holds (durable or
//   unstable) is registered under (index, term) with its content and the term of the entry
//   before it. Two logs sharing (index, term) then share the entry and its predecessor's term,
//   and by induction the whole prefix; a second content or predecessor for the same
//   (index, term) is a violation. Only entries not seen before in a node's unstable tail are
//   looked at, so each check is O(new entries).
// - Leader completeness: every committed entry is in the log of every leader of a later term.
//   The checker learns commits by watching leaders' commit indexes and remembers, per index,
//   the entry's term and the smallest leader term that committed it. When a node becomes leader
//   of term T, every entry committed in a term below T must be in its log (entries below its
//   first index are in its snapshot, which state-machine safety covers).
// - State-machine safety: the applied sequences of all nodes are prefixes of one another. One
//   global sequence (the longest applied so far) is kept; each application or snapshot
//   installation is compared with it.
//
// The checker only reads: it takes a structural view of a RaftLog, so unit tests can hand it
// fakes, and it throws SafetyViolation, which the schedule turns into a SimulationError.
// This file must not use Math.random or Date and must not import a test framework.

import type { Entry } from "../../raft/index.js";
import type { SimProperty } from "./trace.js";

/** What the checker reads from a node's RaftLog (a structural subset of it). */
export interface LogView {
  readonly unstable: { readonly entries: readonly Entry[]; readonly offset: number };
  readonly committed: number;
  firstIndex(): number;
  lastIndex(): number;
  termOrUndefined(i: number): number | undefined;
}

export class SafetyViolation extends Error {
  override readonly name = "SafetyViolation";
  constructor(
    readonly property: SimProperty,
    message: string,
  ) {
    super(message);
  }
}

interface Registered {
  content: string;
  /** Term of the entry before it, when known (undefined when it was compacted away). */
  prevTerm: number | undefined;
  /** The node that first held it (for the message). */
  firstSeenOn: number;
}

interface Cursor {
  entries: readonly Entry[];
  offset: number;
  checked: number;
}

/** The content of an entry as the log-matching registry compares it. */
export function entryContent(e: Entry): string {
  return `${e.type}:${bytesToText(e.data)}:${bytesToText(e.context)}`;
}

/** Bytes as a string of char codes (the simulator's payloads are ASCII). */
export function bytesToText(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

export class SafetyChecker {
  /** term -> the one node that was leader in it. */
  readonly leaderOfTerm = new Map<number, number>();
  /** index -> term -> registered entry. */
  private readonly registry = new Map<number, Map<number, Registered>>();
  /** index -> term of the committed entry there (sparse). */
  private readonly committedTerm: (number | undefined)[] = [];
  /** index -> smallest leader term observed committing it (sparse). */
  private readonly commitTermOf: (number | undefined)[] = [];
  /** Highest index known committed. */
  maxCommitted = 0;
  /** The longest applied sequence: item of index i at [i - 1]. */
  readonly applied: string[] = [];
  /** Per node: the term of its current leadership and the commit index last looked at. */
  private readonly leadership = new Map<number, { term: number; seen: number }>();
  /** Per node: how far its unstable tail has been registered. */
  private readonly cursors = new Map<number, Cursor>();
  /** Counters for the run summary. */
  leadersElected = 0;
  entriesRegistered = 0;

  /** Forget a node's volatile views (it crashed; its unstable tail is gone). */
  forgetNode(id: number): void {
    this.leadership.delete(id);
    this.cursors.delete(id);
  }

  /**
   * Look at a node after an operation: register its new unstable entries (log matching) and,
   * when it is leader, check election safety, leader completeness on a new leadership, and
   * record what it has committed.
   */
  observe(id: number, term: number, isLeader: boolean, log: LogView): void {
    this.observeLog(id, log);
    if (isLeader) this.observeLeader(id, term, log);
    else this.leadership.delete(id);
  }

  /** Register the entries of the node's unstable tail that were not registered yet. */
  observeLog(id: number, log: LogView): void {
    const u = log.unstable;
    let c = this.cursors.get(id);
    if (!c || c.entries !== u.entries || c.offset !== u.offset || c.checked > u.entries.length) {
      c = { entries: u.entries, offset: u.offset, checked: 0 };
      this.cursors.set(id, c);
    }
    const ents = u.entries;
    for (let k = c.checked; k < ents.length; k++) {
      const e = ents[k]!;
      if (e.index !== u.offset + k) {
        throw new SafetyViolation("log matching", `node ${id}: unstable entry ${k} has index ${e.index}, expected ${u.offset + k}`);
      }
      const prevTerm = k > 0 ? ents[k - 1]!.term : log.termOrUndefined(e.index - 1);
      this.registerEntry(id, e, prevTerm);
    }
    c.checked = ents.length;
  }

  /** Register one entry held by node `id`, whose predecessor has term `prevTerm`. */
  registerEntry(id: number, e: Entry, prevTerm: number | undefined): void {
    if (e.term < 1) throw new SafetyViolation("log matching", `node ${id} holds entry ${e.index} with term ${e.term}`);
    if (prevTerm !== undefined && prevTerm > e.term) {
      throw new SafetyViolation(
        "log matching",
        `node ${id}: terms decrease in its log: entry ${e.index - 1} has term ${prevTerm}, entry ${e.index} has term ${e.term}`,
      );
    }
    let byTerm = this.registry.get(e.index);
    if (!byTerm) {
      byTerm = new Map();
      this.registry.set(e.index, byTerm);
    }
    const content = entryContent(e);
    const known = byTerm.get(e.term);
    if (!known) {
      byTerm.set(e.term, { content, prevTerm, firstSeenOn: id });
      this.entriesRegistered++;
      return;
    }
    if (known.content !== content) {
      throw new SafetyViolation(
        "log matching",
        `entry ${e.term}/${e.index} differs: node ${known.firstSeenOn} held ${JSON.stringify(known.content)}, node ${id} holds ${JSON.stringify(content)}`,
      );
    }
    if (prevTerm !== undefined) {
      if (known.prevTerm === undefined) known.prevTerm = prevTerm;
      else if (known.prevTerm !== prevTerm) {
        throw new SafetyViolation(
          "log matching",
          `entry ${e.term}/${e.index} follows an entry of term ${known.prevTerm} on node ${known.firstSeenOn} but one of term ${prevTerm} on node ${id}: the logs differ before it`,
        );
      }
    }
  }

  /** A node seen as leader of `term`. */
  observeLeader(id: number, term: number, log: LogView): void {
    const other = this.leaderOfTerm.get(term);
    if (other !== undefined && other !== id) {
      throw new SafetyViolation("election safety", `term ${term} has two leaders: ${other} and ${id}`);
    }
    let lead = this.leadership.get(id);
    if (!lead || lead.term !== term) {
      if (other === undefined) {
        this.leaderOfTerm.set(term, id);
        this.leadersElected++;
      }
      this.checkLeaderCompleteness(id, term, log);
      lead = { term, seen: log.firstIndex() - 1 };
      this.leadership.set(id, lead);
    }
    const committed = log.committed;
    for (let i = lead.seen + 1; i <= committed; i++) {
      const t = log.termOrUndefined(i);
      if (t !== undefined) this.recordCommitted(id, i, t, term);
    }
    if (committed > lead.seen) lead.seen = committed;
  }

  /** Every entry committed in a term below `term` must be in the new leader's log (§5.4.1). */
  private checkLeaderCompleteness(id: number, term: number, log: LogView): void {
    const first = Math.max(1, log.firstIndex() - 1);
    for (let i = first; i <= this.maxCommitted; i++) {
      const ct = this.commitTermOf[i];
      if (ct === undefined || ct >= term) continue;
      const want = this.committedTerm[i]!;
      const have = log.termOrUndefined(i);
      if (have !== want) {
        throw new SafetyViolation(
          "leader completeness",
          `node ${id} became leader of term ${term} without entry ${want}/${i}, committed in term ${ct} ` +
            (have === undefined ? `(its log ends at ${log.lastIndex()})` : `(it holds an entry of term ${have} there)`),
        );
      }
    }
  }

  /** Leader `id` of `leaderTerm` has entry (index, term) committed. */
  recordCommitted(id: number, index: number, term: number, leaderTerm: number): void {
    const known = this.committedTerm[index];
    if (known !== undefined && known !== term) {
      throw new SafetyViolation(
        "state machine safety",
        `index ${index} was committed with term ${known}, but leader ${id} of term ${leaderTerm} commits an entry of term ${term} there`,
      );
    }
    this.committedTerm[index] = term;
    const ct = this.commitTermOf[index];
    if (ct === undefined || leaderTerm < ct) this.commitTermOf[index] = leaderTerm;
    if (index > this.maxCommitted) this.maxCommitted = index;
  }

  /** Node `id` applied `item` (the entry of term `term`) at `index`. */
  observeApply(id: number, index: number, term: number, item: string): void {
    const g = this.applied;
    if (index - 1 < g.length) {
      if (g[index - 1] !== item) {
        throw new SafetyViolation(
          "state machine safety",
          `node ${id} applied ${JSON.stringify(item)} at index ${index}, another node applied ${JSON.stringify(g[index - 1])}`,
        );
      }
    } else if (index - 1 === g.length) {
      g.push(item);
    } else {
      throw new SafetyViolation("state machine safety", `node ${id} applied index ${index} with a gap after ${g.length}`);
    }
    const known = this.committedTerm[index];
    if (known !== undefined && known !== term) {
      throw new SafetyViolation("state machine safety", `node ${id} applied an entry of term ${term} at ${index}, committed with term ${known}`);
    }
    if (known === undefined) this.committedTerm[index] = term;
  }

  /** Node `id` installed a snapshot whose state machine is `items` (item of index i at [i-1]). */
  observeInstall(id: number, items: readonly string[]): void {
    const g = this.applied;
    for (let k = 0; k < items.length; k++) {
      if (k < g.length) {
        if (g[k] !== items[k]) {
          throw new SafetyViolation(
            "state machine safety",
            `node ${id} installed a snapshot holding ${JSON.stringify(items[k])} at index ${k + 1}, another node applied ${JSON.stringify(g[k])}`,
          );
        }
      } else {
        g.push(items[k]!);
      }
    }
  }
}
