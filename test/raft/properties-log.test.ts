// Property tests (fast-check) of the Raft log: RaftLog over MemoryStorage (with its Unstable
// tail), Unstable on its own, and the MemoryStorage contract, each against a plain array model.
//
// The RaftLog harness plays a follower driven the way RawNode drives it. A "universe" of leader
// logs is grown so that Log Matching (Raft §5.3) holds by construction: every new leader log
// is a prefix of an existing log (or of the follower's log) followed by entries of a brand-new
// term, so an (index, term) pair names one entry and its whole prefix. Random operations then
// send windows of those logs as MsgAppend (maybeAppend, with conflicts and truncation), move
// the commit index, hand out and persist unstable entries in Ready fashion (a batch may go
// stale while it is being written, as when step() runs between ready() and advance()),
// apply, compact the storage, install snapshots, and read slices with byte limits. After
// every step the visible log (firstIndex, lastIndex, term of every index, committed, the
// Unstable invariants, the stable part in storage) must match the model; at the end, after
// a final flush, the storage must hold exactly the model's log.
//
// Replay a failure with the printed seed and path:
//   FC_SEED=<seed> FC_PATH="<path>" npx vitest run test/raft/properties-log.test.ts -t "<property name>"
// (see fc-params.ts; these map onto fast-check's `seed` and `path` parameters).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RaftError, RaftInvariantError } from "../../runtime/raft/errors.js";
import { NO_LIMIT, RaftLog } from "../../runtime/raft/log.js";
import { Unstable } from "../../runtime/raft/log-unstable.js";
import { discardLogger } from "../../runtime/raft/logger.js";
import { MemoryStorage } from "../../runtime/raft/storage.js";
import { EMPTY_BYTES, type Entry, EntryType, type Snapshot, entrySize } from "../../runtime/raft/types.js";
import { fcParams } from "./fc-params.js";

// ---------------------------------------------------------------------------------------
// Entries and models.

/** The entry at (index, term): its payload is a function of both, so sizes vary. */
function mk(index: number, term: number): Entry {
  const len = (index * 7 + term * 13) % 23;
  return { type: EntryType.EntryNormal, index, term, data: new Uint8Array(len).fill((index + term) & 255), context: EMPTY_BYTES };
}

/** Entries of a terms array (terms[i] is the term of index i+1) in [lo, hi). */
const entriesOf = (terms: number[], lo: number, hi: number): Entry[] => {
  const out: Entry[] = [];
  for (let i = lo; i < hi; i++) out.push(mk(i, terms[i - 1]!));
  return out;
};

/** The storage contract's size rule: the longest prefix within maxBytes, at least one entry. */
function limitModel(ents: Entry[], maxBytes: number): Entry[] {
  let size = 0;
  let n = 0;
  for (; n < ents.length; n++) {
    size += entrySize(ents[n]!);
    if (size > maxBytes && n > 0) break;
  }
  return ents.slice(0, n);
}

/** Throw (with what was compared) unless a === b; cheaper than expect() in hot loops. */
function eq<T>(got: T, want: T, what: string): void {
  if (got !== want) throw new Error(`${what}: got ${String(got)}, want ${String(want)}`);
}

const ids = (ents: Entry[]) => ents.map((e) => `${e.index}/${e.term}/${e.data.length}`);

/** Run `f`, returning "ok", the RaftError code, or "invariant". Other errors propagate. */
function outcome(f: () => unknown): string {
  try {
    f();
    return "ok";
  } catch (err) {
    if (err instanceof RaftError) return err.code;
    if (err instanceof RaftInvariantError) return "invariant";
    throw err;
  }
}

function snapshotAt(index: number, term: number): Snapshot {
  return { data: EMPTY_BYTES, metadata: { index, term, confState: { voters: [1, 2, 3], learners: [] } } };
}

// ---------------------------------------------------------------------------------------
// RaftLog over MemoryStorage.

type LogOp =
  | { t: "leader"; base: number; fromFollower: boolean; cut: number; k: number }
  | { t: "append"; latest: boolean; which: number; nearEnd: boolean; p: number; k: number; commit: number }
  | { t: "race"; cut: number; k: number }
  | { t: "commit"; at: number }
  | { t: "handout" }
  | { t: "persist" }
  | { t: "apply" }
  | { t: "compact"; at: number }
  | { t: "restore"; which: number; at: number }
  | { t: "slice"; mode: "valid" | "wide" | "straddle"; lo: number; len: number; maxBytes: number }
  | { t: "term"; at: number };

const logOp: fc.Arbitrary<LogOp> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.constant("leader" as const), base: fc.nat(), fromFollower: fc.boolean(), cut: fc.nat(), k: fc.integer({ min: 1, max: 6 }) }) },
  {
    weight: 12,
    arbitrary: fc.record({
      t: fc.constant("append" as const),
      latest: fc.boolean(),
      which: fc.nat(),
      nearEnd: fc.boolean(),
      p: fc.nat(),
      k: fc.integer({ min: 0, max: 6 }),
      commit: fc.nat(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("race" as const), cut: fc.nat(), k: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("commit" as const), at: fc.nat() }) },
  { weight: 6, arbitrary: fc.constant({ t: "handout" as const }) },
  { weight: 6, arbitrary: fc.constant({ t: "persist" as const }) },
  { weight: 4, arbitrary: fc.constant({ t: "apply" as const }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("compact" as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("restore" as const), which: fc.nat(), at: fc.nat() }) },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant("slice" as const),
      mode: fc.constantFrom("valid" as const, "wide" as const, "straddle" as const),
      lo: fc.nat(),
      len: fc.nat(),
      maxBytes: fc.oneof(fc.constant(NO_LIMIT), fc.integer({ min: 0, max: 80 })),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("term" as const), at: fc.nat() }) },
);

interface Handout {
  snapshot: Snapshot | undefined;
  entries: Entry[];
}

/** The follower's log as the model sees it. */
class LogModel {
  /** terms[i] = term of index i+1, for every index through lastIndex (compacted ones too). */
  terms: number[];
  first: number;
  committed: number;
  applying: number;
  applied: number;
  /** Highest index handed out for persisting (entries up to it are not handed out again). */
  handed: number;
  /** A snapshot installed in memory and not yet persisted; whether it was handed out. */
  snap: { index: number; term: number; handed: boolean } | undefined = undefined;

  constructor(terms: number[], first: number) {
    this.terms = terms;
    this.first = first;
    this.committed = first - 1;
    this.applying = first - 1;
    this.applied = first - 1;
    this.handed = terms.length;
  }

  get last(): number {
    return this.terms.length;
  }

  /** Term of index i if readable, else the error code RaftLog.term throws. */
  term(i: number): number | "Compacted" | "Unavailable" {
    if (i < this.first - 1) return "Compacted";
    if (i > this.last) return "Unavailable";
    return i === 0 ? 0 : this.terms[i - 1]!;
  }
}

/**
 * One run of the RaftLog property: a follower whose storage starts with a snapshot at
 * `snapIndex` and `initialEntries` entries after it, driven by `ops`, compared with the model
 * after every step and after a final flush. Throws on the first mismatch.
 */
function runLogModel(snapIndex: number, initialEntries: number, maxApplying: number, ops: LogOp[]): void {
  // Start from a storage holding a snapshot at snapIndex and some persisted entries.
  const storage = new MemoryStorage();
  const initTerms = new Array<number>(snapIndex + initialEntries).fill(1);
  if (snapIndex > 0) storage.applySnapshot(snapshotAt(snapIndex, 1));
  storage.append(entriesOf(initTerms, snapIndex + 1, initTerms.length + 1));
  const log = new RaftLog(storage, discardLogger, maxApplying);
  const m = new LogModel(initTerms, snapIndex + 1);
  const universe: number[][] = [initTerms.slice()];
  let maxTerm = 1;
  let outstanding: Handout | undefined;

  const handout = (): void => {
    if (outstanding) return;
    const snap = log.nextUnstableSnapshot();
    const ents = log.nextUnstableEnts();
    expect(log.hasNextUnstableEnts()).toBe(ents.length > 0);
    // Model: the snapshot if installed and not handed out, then every entry after
    // what was handed out before.
    const wantSnap = m.snap && !m.snap.handed ? m.snap.index : undefined;
    expect(snap?.metadata.index).toBe(wantSnap);
    expect(ids(ents)).toEqual(ids(entriesOf(m.terms, m.handed + 1, m.last + 1)));
    log.acceptUnstable();
    m.handed = m.last;
    if (m.snap) m.snap.handed = true;
    if (snap || ents.length > 0) outstanding = { snapshot: snap, entries: ents };
  };
  const persist = (): void => {
    if (!outstanding) return;
    const { snapshot, entries } = outstanding;
    outstanding = undefined;
    // As a driver does: snapshot, then entries, durably; then advance().
    if (snapshot) storage.applySnapshot(snapshot);
    storage.append(entries);
    if (snapshot) {
      log.stableSnapTo(snapshot.metadata.index);
      if (m.snap && m.snap.index === snapshot.metadata.index) m.snap = undefined;
      // RawNode.advance: a snapshot moves applied when nothing else was applied.
      if (snapshot.metadata.index > log.applied) {
        log.appliedTo(snapshot.metadata.index);
        m.applied = snapshot.metadata.index;
        m.applying = Math.max(m.applying, m.applied);
      }
    }
    if (entries.length > 0) {
      const last = entries[entries.length - 1]!;
      log.stableTo(last.index, last.term);
      // A batch that went stale while being written may still end in an entry the
      // log holds again (same index and term, hence by Log Matching the same entries
      // before it): then everything through it is durable and is not handed out again.
      // Not while a snapshot installed after the batch was handed out is still to be
      // written: writing it resets the stored log, so the entries are written again.
      if (!m.snap && m.term(last.index) === last.term) m.handed = Math.max(m.handed, last.index);
    }
  };
  const flush = (): void => {
    for (let k = 0; k < 4; k++) {
      persist();
      handout();
    }
    persist();
    expect(log.hasNextUnstableEnts()).toBe(false);
    expect(log.hasNextUnstableSnapshot()).toBe(false);
  };

  // Runs after every step, so it uses plain comparisons (expect() is slow in loops).
  /** MsgAppend of L's entries (p, p+k] after (p, L[p-1]), checked against the model. */
  const appendFrom = (L: number[], p: number, k: number, commit: number): void => {
    const ents = entriesOf(L, p + 1, p + k + 1);
    const logTerm = p === 0 ? 0 : L[p - 1]!;
    // Model: the consistency check of §5.3, then the first conflicting entry.
    if (m.term(p) !== logTerm) {
      eq(log.maybeAppend(p, logTerm, commit, ents), undefined, "maybeAppend of a non-matching window");
      return;
    }
    const conflict = ents.find((e) => m.term(e.index) !== e.term);
    if (conflict && conflict.index <= m.committed) {
      // Overwriting a committed entry: the core refuses and changes nothing.
      eq(outcome(() => log.maybeAppend(p, logTerm, commit, ents)), "invariant", "maybeAppend over a committed entry");
      return;
    }
    eq(log.maybeAppend(p, logTerm, commit, ents), p + k, "maybeAppend result");
    if (conflict) {
      m.terms = m.terms.slice(0, conflict.index - 1).concat(L.slice(conflict.index - 1, p + k));
      m.handed = Math.min(m.handed, conflict.index - 1);
    }
    m.committed = Math.max(m.committed, Math.min(commit, p + k));
  };

  const check = (): void => {
    eq(log.firstIndex(), m.first, "firstIndex");
    eq(log.lastIndex(), m.last, "lastIndex");
    eq(log.committed, m.committed, "committed");
    eq(log.applied, m.applied, "applied");
    eq(log.applying, m.applying, "applying");
    eq(log.lastTerm(), m.term(m.last), "lastTerm");
    // Invariant: applied <= applying <= committed <= lastIndex.
    eq(m.applied <= m.applying && m.applying <= m.committed && m.committed <= m.last, true, "applied <= applying <= committed <= last");
    for (let i = Math.max(0, m.first - 3); i <= m.last + 2; i++) {
      const want = m.term(i);
      eq(typeof want === "number" ? log.term(i) : outcome(() => log.term(i)), want, `term(${i})`);
    }
    // Unstable invariants (log-unstable.ts header).
    const u = log.unstable;
    u.entries.forEach((e, j) => eq(e.index, u.offset + j, "unstable entries[j].index === offset + j"));
    eq(u.offset <= u.offsetInProgress && u.offsetInProgress <= u.offset + u.entries.length, true, "offset <= offsetInProgress <= offset + len");
    if (u.snapshot) eq(u.offset, u.snapshot.metadata.index + 1, "unstable offset after snapshot");
    if (u.snapshotInProgress) eq(u.snapshot !== undefined, true, "snapshotInProgress => snapshot");
    // The stable part (below the unstable offset) is in storage, and correct.
    if (!u.snapshot) {
      eq(u.offset <= storage.lastIndex() + 1, true, "no gap between storage and unstable");
      for (let i = m.first - 1; i < u.offset; i++) eq(storage.term(i), m.term(i), `storage.term(${i})`);
    }
  };

  check();
  for (const op of ops) {
    switch (op.t) {
      case "leader": {
        // A new leader whose log diverges from the follower's near its tail (where
        // entries are still unstable or being written), or from any earlier log.
        const base = op.fromFollower ? m.terms : universe[op.base % universe.length]!;
        const cut = op.fromFollower ? Math.max(0, base.length - (op.cut % 4)) : op.cut % (base.length + 1);
        maxTerm++;
        universe.push(base.slice(0, cut).concat(new Array<number>(op.k).fill(maxTerm)));
        break;
      }
      case "append": {
        // Mostly the newest leader's log, from around the follower's last index (the
        // common case), sometimes any log from anywhere (stale or reordered messages).
        const L = op.latest ? universe[universe.length - 1]! : universe[op.which % universe.length]!;
        const p = op.nearEnd ? Math.max(0, Math.min(L.length, m.last - (op.p % 4))) : op.p % (L.length + 1);
        const k = Math.min(op.k, L.length - p);
        // The leader's commit index: none, or somewhat behind the window's end.
        const commit = op.commit % 3 === 0 ? 0 : Math.max(0, p + k - (op.commit % 10));
        appendFrom(L, p, k, commit);
        break;
      }
      case "race": {
        // A Ready is handed out; before it is durable a new leader's MsgAppend
        // replaces the tail (step() between ready() and advance()); then the stale
        // batch is written and reported (RawNode contract, log-unstable.ts).
        handout();
        const cut = Math.max(m.committed, m.last - (op.cut % 4));
        maxTerm++;
        const L = m.terms.slice(0, cut).concat(new Array<number>(op.k).fill(maxTerm));
        universe.push(L);
        appendFrom(L, cut, op.k, 0);
        persist();
        break;
      }
      case "commit": {
        // Somewhere in [committed-3, last+2].
        const c = m.committed - 3 + (op.at % (m.last - m.committed + 6));
        if (c > m.committed && c > m.last) {
          expect(outcome(() => log.commitTo(c))).toBe("invariant");
        } else {
          log.commitTo(c);
          m.committed = Math.max(m.committed, c);
        }
        break;
      }
      case "handout":
        handout();
        break;
      case "persist":
        persist();
        break;
      case "apply": {
        const got = log.nextCommittedEnts(true);
        const want = m.snap
          ? []
          : m.applying < m.committed
            ? limitModel(entriesOf(m.terms, m.applying + 1, m.committed + 1), maxApplying)
            : [];
        expect(ids(got)).toEqual(ids(want));
        expect(log.hasNextCommittedEnts(true)).toBe(want.length > 0);
        if (got.length > 0) {
          const last = got[got.length - 1]!.index;
          log.acceptApplying(last);
          log.appliedTo(last);
          m.applying = m.applied = last;
        }
        break;
      }
      case "compact": {
        // A driver compacts only what it has applied and persisted.
        flush();
        const limit = Math.min(m.applied, storage.lastIndex());
        if (limit < m.first) break;
        const c = m.first + (op.at % (limit - m.first + 1));
        storage.compact(c);
        m.first = c + 1;
        break;
      }
      case "restore": {
        // The leader's snapshot at an index above our commit (§7), handled as
        // Raft.restore does: when the log already has that entry, only the commit
        // index moves; otherwise RaftLog.restore replaces the log.
        const L = universe[op.which % universe.length]!;
        if (L.length <= m.committed) break;
        const s = m.committed + 1 + (op.at % (L.length - m.committed));
        if (m.term(s) === L[s - 1]) {
          expect(log.matchTerm(s, L[s - 1]!)).toBe(true);
          log.commitTo(s);
          m.committed = s;
          break;
        }
        expect(log.matchTerm(s, L[s - 1]!)).toBe(false);
        log.restore(snapshotAt(s, L[s - 1]!));
        m.terms = L.slice(0, s);
        m.first = s + 1;
        m.committed = s;
        m.handed = s;
        m.snap = { index: s, term: L[s - 1]!, handed: false };
        break;
      }
      case "slice": {
        // A valid range in [first, last+1]; or one anywhere near it (errors); or one
        // across the boundary between storage and the unstable tail, where a byte
        // limit hit in storage must end the slice (no gap).
        let lo: number;
        let hi: number;
        if (op.mode === "straddle") {
          const off = log.unstable.offset;
          lo = Math.min(m.last + 1, Math.max(m.first, off - 1 - (op.lo % 3)));
          hi = Math.max(lo, Math.min(m.last + 1, off + 1 + (op.len % 3)));
        } else if (op.mode === "valid") {
          lo = m.first + (op.lo % (m.last - m.first + 2));
          hi = lo + (op.len % (m.last + 2 - lo));
        } else {
          lo = Math.max(0, m.first - 2 + (op.lo % (m.last - m.first + 5)));
          hi = lo + (op.len % (m.last + 3 - lo));
        }
        const got = outcome(() => log.slice(lo, hi, op.maxBytes));
        if (lo < m.first) {
          expect(got).toBe("Compacted");
        } else if (hi > m.last + 1) {
          expect(got).toBe("invariant");
        } else {
          const want = limitModel(entriesOf(m.terms, lo, hi), op.maxBytes);
          expect(ids(log.slice(lo, hi, op.maxBytes))).toEqual(ids(want));
          if (hi > lo) expect(log.slice(lo, hi, op.maxBytes).length).toBeGreaterThanOrEqual(1);
          if (lo <= m.last) {
            expect(ids(log.entries(lo, op.maxBytes))).toEqual(ids(limitModel(entriesOf(m.terms, lo, m.last + 1), op.maxBytes)));
          }
        }
        break;
      }
      case "term": {
        const i = Math.max(0, m.first - 3 + (op.at % (m.last - m.first + 6)));
        const want = m.term(i);
        expect(typeof want === "number" ? log.term(i) : outcome(() => log.term(i))).toBe(want);
        expect(log.matchTerm(i, typeof want === "number" ? want : -1)).toBe(typeof want === "number");
        break;
      }
    }
    check();
  }

  // Persist everything: the storage then holds exactly the model's log.
  flush();
  check();
  expect(log.unstable.entries.length).toBe(0);
  expect(storage.firstIndex()).toBe(m.first);
  expect(storage.lastIndex()).toBe(m.last);
  expect(ids(storage.entries(m.first, m.last + 1))).toEqual(ids(entriesOf(m.terms, m.first, m.last + 1)));
  expect(ids(log.allEntries())).toEqual(ids(entriesOf(m.terms, m.first, m.last + 1)));
}

describe("RaftLog and Unstable over MemoryStorage", () => {
  it("match an array model of the log under append / truncate / commit / persist / apply / compact / restore / slice", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 4 }),
        fc.oneof(fc.constant(NO_LIMIT), fc.integer({ min: 20, max: 150 })),
        fc.array(logOp, { minLength: 5, maxLength: 60, size: "max" }),
        runLogModel,
      ),
      fcParams(500),
    );
  });
});

// ---------------------------------------------------------------------------------------
// Unstable on its own: a window of entries (and possibly a snapshot) starting at `offset`.

type UnstableOp =
  | { t: "append"; back: number; k: number }
  | { t: "accept" }
  | { t: "stable"; back: number; wrongTerm: boolean }
  | { t: "restore"; ahead: number }
  | { t: "stableSnap"; wrong: boolean };

const unstableOp: fc.Arbitrary<UnstableOp> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant("append" as const), back: fc.integer({ min: 0, max: 6 }), k: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 3, arbitrary: fc.constant({ t: "accept" as const }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("stable" as const), back: fc.integer({ min: 0, max: 5 }), wrongTerm: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("restore" as const), ahead: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("stableSnap" as const), wrong: fc.boolean() }) },
);

describe("Unstable", () => {
  it("matches an array model under truncateAndAppend / acceptInProgress / stableTo / restore", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.array(unstableOp, { maxLength: 50 }), (start, ops) => {
        const u = new Unstable(start, discardLogger);
        // Model: the logical log from `base` on. entries at index >= offset are unstable.
        let offset = start;
        let inProgress = start; // first index not yet handed out
        let terms = new Map<number, number>(); // unstable entries by index
        let snap: { index: number; term: number; inProgress: boolean } | undefined;
        let term = 1;
        const last = () => offset + terms.size - 1;
        for (const op of ops) {
          switch (op.t) {
            case "append": {
              // From somewhere at or below last+1 (RaftLog guarantees no gap), but not into
              // the snapshot.
              const floor = snap ? snap.index + 1 : 1;
              const from = Math.max(floor, last() + 1 - op.back);
              term++;
              const ents = Array.from({ length: op.k }, (_, j) => mk(from + j, term));
              u.truncateAndAppend(ents);
              if (from <= offset) {
                offset = from;
                inProgress = from;
                terms = new Map();
              } else {
                for (const i of [...terms.keys()]) if (i >= from) terms.delete(i);
                inProgress = Math.min(inProgress, from);
              }
              for (const e of ents) terms.set(e.index, e.term);
              break;
            }
            case "accept": {
              const next = u.nextEntries();
              expect(next.map((e) => e.index)).toEqual([...terms.keys()].filter((i) => i >= inProgress).sort((a, b) => a - b));
              expect(u.nextSnapshot()?.metadata.index).toBe(snap && !snap.inProgress ? snap.index : undefined);
              u.acceptInProgress();
              inProgress = last() + 1;
              if (snap) snap.inProgress = true;
              break;
            }
            case "stable": {
              const i = last() - op.back;
              const t = terms.get(i);
              const askTerm = t !== undefined && op.wrongTerm ? t + 100 : (t ?? 1);
              u.stableTo(i, askTerm);
              // Only an existing unstable entry with a matching term becomes stable, and
              // none while an unstable snapshot is pending (it must become stable first).
              if (t !== undefined && t === askTerm && !snap) {
                for (const k of [...terms.keys()]) if (k <= i) terms.delete(k);
                offset = i + 1;
                inProgress = Math.max(inProgress, offset);
              }
              break;
            }
            case "restore": {
              const idx = last() + op.ahead;
              term++;
              u.restore(snapshotAt(idx, term));
              snap = { index: idx, term, inProgress: false };
              offset = idx + 1;
              inProgress = offset;
              terms = new Map();
              break;
            }
            case "stableSnap": {
              if (!snap) {
                u.stableSnapTo(5);
                break;
              }
              u.stableSnapTo(op.wrong ? snap.index + 1 : snap.index);
              if (!op.wrong) snap = undefined;
              break;
            }
          }
          // Compare the visible state (plain comparisons: this runs after every step).
          eq(u.offset, offset, "offset");
          eq(u.offsetInProgress, inProgress, "offsetInProgress");
          eq(
            u.entries.map((e) => `${e.index}/${e.term}`).join(" "),
            [...terms.entries()].sort((a, b) => a[0] - b[0]).map(([i, t]) => `${i}/${t}`).join(" "),
            "entries",
          );
          eq(u.snapshot?.metadata.index, snap?.index, "snapshot index");
          eq(u.maybeFirstIndex(), snap ? snap.index + 1 : undefined, "maybeFirstIndex");
          eq(u.maybeLastIndex(), terms.size > 0 ? last() : snap?.index, "maybeLastIndex");
          for (let i = offset - 3; i <= last() + 2; i++) {
            eq(u.maybeTerm(i), terms.get(i) ?? (snap && snap.index === i ? snap.term : undefined), `maybeTerm(${i})`);
          }
          if (terms.size > 0) {
            eq(u.slice(offset, last() + 1).map((e) => e.index).join(" "), [...terms.keys()].sort((a, b) => a - b).join(" "), "slice");
            eq(outcome(() => u.slice(offset - 1, offset)), "invariant", "slice below offset");
            eq(outcome(() => u.slice(offset, last() + 2)), "invariant", "slice past the end");
          }
        }
      }),
      fcParams(600),
    );
  });
});

// ---------------------------------------------------------------------------------------
// The MemoryStorage contract (storage.ts header; STYLE 7.10's storage contract cases).

type StorageOp =
  | { t: "append"; back: number; k: number; gap: boolean }
  | { t: "compact"; at: number }
  | { t: "createSnapshot"; at: number }
  | { t: "applySnapshot"; ahead: number; stale: boolean }
  | { t: "entries"; lo: number; len: number; maxBytes: number }
  | { t: "term"; at: number };

const storageOp: fc.Arbitrary<StorageOp> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant("append" as const), back: fc.integer({ min: 0, max: 8 }), k: fc.integer({ min: 1, max: 5 }), gap: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("compact" as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("createSnapshot" as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("applySnapshot" as const), ahead: fc.integer({ min: 0, max: 5 }), stale: fc.boolean() }) },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant("entries" as const),
      lo: fc.nat(),
      len: fc.nat(),
      maxBytes: fc.oneof(fc.constant(Number.MAX_SAFE_INTEGER), fc.integer({ min: 0, max: 100 })),
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("term" as const), at: fc.nat() }) },
);

/** One run of the MemoryStorage contract property: `ops` against the model. Throws on a mismatch. */
function runStorageModel(ops: StorageOp[]): void {
  const s = new MemoryStorage();
  // Model: the dummy point (compaction or snapshot index, with its term), entries after
  // it, and the metadata of the latest snapshot.
  let dummy = 0;
  let dummyTerm = 0;
  let terms: number[] = []; // terms[i] = term of index dummy+1+i
  let snapMeta = { index: 0, term: 0 };
  let term = 0;
  const last = () => dummy + terms.length;
  const termOf = (i: number) => (i === dummy ? dummyTerm : terms[i - dummy - 1]!);
  for (const op of ops) {
    switch (op.t) {
      case "append": {
        term++;
        const from = op.gap ? last() + 2 : Math.max(1, last() + 1 - op.back);
        const ents = Array.from({ length: op.k }, (_, j) => mk(from + j, term));
        if (from > last() + 1) {
          expect(outcome(() => s.append(ents))).toBe("invariant");
          break;
        }
        s.append(ents);
        // Entries at or below the dummy point are already compacted: skipped.
        const kept = ents.filter((e) => e.index > dummy);
        if (kept.length > 0) terms = terms.slice(0, kept[0]!.index - dummy - 1).concat(kept.map((e) => e.term));
        break;
      }
      case "compact": {
        const c = Math.max(0, dummy - 1 + (op.at % (terms.length + 3)));
        const got = outcome(() => s.compact(c));
        if (c <= dummy) expect(got).toBe("Compacted");
        else if (c > last()) expect(got).toBe("invariant");
        else {
          expect(got).toBe("ok");
          dummyTerm = termOf(c);
          terms = terms.slice(c - dummy);
          dummy = c;
        }
        break;
      }
      case "createSnapshot": {
        // Anywhere from just below the current snapshot to past the last index. An append
        // may have truncated the log below the snapshot index: keep the modulus positive.
        const i = Math.max(0, snapMeta.index - 1 + (op.at % Math.max(1, last() - snapMeta.index + 3)));
        const got = outcome(() => s.createSnapshot(i, undefined, EMPTY_BYTES));
        if (i <= snapMeta.index) expect(got).toBe("SnapshotOutOfDate");
        else if (i > last()) expect(got).toBe("invariant");
        else if (i < dummy) expect(got).toBe("Compacted");
        else {
          expect(got).toBe("ok");
          snapMeta = { index: i, term: termOf(i) };
        }
        break;
      }
      case "applySnapshot": {
        term++;
        const idx = op.stale ? snapMeta.index : last() + op.ahead;
        const got = outcome(() => s.applySnapshot(snapshotAt(idx, term)));
        if (idx <= snapMeta.index) {
          expect(got).toBe("SnapshotOutOfDate");
        } else {
          expect(got).toBe("ok");
          snapMeta = { index: idx, term };
          dummy = idx;
          dummyTerm = term;
          terms = [];
        }
        break;
      }
      case "entries": {
        const lo = Math.max(0, dummy - 1 + (op.lo % (terms.length + 4)));
        const hi = lo + (op.len % (last() + 3 - lo));
        const got = outcome(() => s.entries(lo, hi, op.maxBytes));
        if (lo <= dummy) expect(got).toBe("Compacted");
        else if (hi > last() + 1) expect(got).toBe("invariant");
        else {
          expect(got).toBe("ok");
          const want = limitModel(
            Array.from({ length: hi - lo }, (_, j) => mk(lo + j, termOf(lo + j))),
            op.maxBytes,
          );
          expect(ids(s.entries(lo, hi, op.maxBytes))).toEqual(ids(want));
        }
        expect(outcome(() => s.entries(dummy + 2, dummy + 1))).toBe("invariant"); // lo > hi
        break;
      }
      case "term": {
        const i = Math.max(0, dummy - 2 + (op.at % (terms.length + 5)));
        const got = outcome(() => s.term(i));
        if (i < dummy) expect(got).toBe("Compacted");
        else if (i > last()) expect(got).toBe("Unavailable");
        else expect(s.term(i)).toBe(termOf(i));
        break;
      }
    }
    // After every step: the boundaries, and the term of the dummy point.
    expect(s.firstIndex()).toBe(dummy + 1);
    expect(s.lastIndex()).toBe(last());
    expect(s.term(s.firstIndex() - 1)).toBe(dummyTerm);
    expect(s.snapshot(0, 0).metadata.index).toBe(snapMeta.index);
    expect(s.snapshot(0, 0).metadata.term).toBe(snapMeta.term);
    if (dummy > 0) expect(outcome(() => s.entries(dummy, dummy + 1))).toBe("Compacted");
    expect(outcome(() => s.term(last() + 1))).toBe("Unavailable");
  }
}

describe("MemoryStorage contract", () => {
  it("entries [lo, hi) with maxBytes, term at firstIndex()-1, Compacted / Unavailable, snapshots", () => {
    fc.assert(
      fc.property(fc.array(storageOp, { maxLength: 60 }), runStorageModel),
      fcParams(800),
    );
  });
});

// ---------------------------------------------------------------------------------------
// Regressions and worked examples from shrunk counterexamples of the properties above.

describe("log regressions", () => {
  it("MemoryStorage.createSnapshot below the compaction point throws Compacted (was a TypeError)", () => {
    // Shrunk: append 1..4, compact(2) without taking a snapshot, createSnapshot(1). The term of
    // index 1 is gone, so no snapshot can be described there.
    const s = new MemoryStorage();
    s.append([mk(1, 1), mk(2, 1), mk(3, 1), mk(4, 1)]);
    s.compact(2);
    expect(outcome(() => s.createSnapshot(1, undefined, EMPTY_BYTES))).toBe("Compacted");
    // At the compaction point itself the term is still known.
    expect(s.createSnapshot(2, undefined, EMPTY_BYTES).metadata).toMatchObject({ index: 2, term: 1 });
    expect(outcome(() => s.createSnapshot(2, undefined, EMPTY_BYTES))).toBe("SnapshotOutOfDate");
  });

  it("replays seed 559283135: createSnapshot is drawn in range after the log was truncated below the snapshot", () => {
    // The MemoryStorage contract property's counterexample (seed 559283135), replayed as found.
    // A snapshot at 6 is recorded, then appends truncate the log to 1..3 (allowed: the storage
    // does not compact on createSnapshot). The generator then drew the createSnapshot index
    // modulo last() - snapshot index + 3 = 0, i.e. NaN, and called createSnapshot(NaN) (a
    // TypeError). Rule checked: a snapshot at or below the current one is SnapshotOutOfDate.
    runStorageModel([
      { t: "append", back: 0, k: 3, gap: false },
      { t: "append", back: 0, k: 4, gap: false },
      { t: "createSnapshot", at: 1069256227 },
      { t: "append", back: 2, k: 1, gap: false },
      { t: "append", back: 6, k: 3, gap: false },
      { t: "createSnapshot", at: 0 },
    ]);
    const s = new MemoryStorage();
    s.append([mk(1, 1), mk(2, 1), mk(3, 1), mk(4, 1)]);
    s.createSnapshot(4, undefined, EMPTY_BYTES);
    s.append([mk(1, 2)]);
    expect(s.lastIndex()).toBe(1);
    expect(outcome(() => s.createSnapshot(3, undefined, EMPTY_BYTES))).toBe("SnapshotOutOfDate");
  });

  it("a stale batch whose last entry the log holds again is durable and is not handed out again", () => {
    // Shrunk from the RaftLog property: entry (1, term 2) is handed out; before it is written,
    // the log is overwritten by (1, term 1) and then again by (1, term 2). When the old batch
    // is reported durable, its last (index, term) matches the log, so by Log Matching (§5.3)
    // the storage holds exactly the log's entry and nothing is left to write.
    const storage = new MemoryStorage();
    const log = new RaftLog(storage, discardLogger);
    expect(log.maybeAppend(0, 0, 0, [mk(1, 2)])).toBe(1);
    const batch = log.nextUnstableEnts();
    log.acceptUnstable();
    expect(log.maybeAppend(0, 0, 0, [mk(1, 1)])).toBe(1);
    expect(log.maybeAppend(0, 0, 0, [mk(1, 2)])).toBe(1);
    expect(ids(log.nextUnstableEnts())).toEqual(ids([mk(1, 2)]));
    storage.append(batch);
    log.stableTo(1, 2);
    expect(log.nextUnstableEnts()).toEqual([]);
    expect(log.unstable.offset).toBe(2);
    expect(log.term(1)).toBe(2);
    expect(storage.term(1)).toBe(2);
  });

  it("replays seed -1786248537: a stale batch is not stable while a snapshot installed after it is unpersisted", () => {
    // The RaftLog property's counterexample (seed -1786248537), replayed as found. Rule: an
    // entry a follower has accepted (and may have acknowledged) is never lost (Raft §5.3,
    // Leader Completeness relies on it). Entries 3..6 are handed out; a snapshot at 5 is
    // installed (restore) and entry 6 appended again before the batch is written. The old
    // batch ends in (6, 3), which the log holds again, but the snapshot, still to be
    // written, resets the stored log: the core marked 6 stable, wrote the snapshot, and
    // lost entry 6 (lastIndex 5, want 6).
    runLogModel(0, 2, NO_LIMIT, [
      { t: "leader", base: 0, fromFollower: false, cut: 413660777, k: 3 },
      { t: "append", latest: false, which: 6515721, nearEnd: false, p: 1215964933, k: 4, commit: 0 },
      { t: "leader", base: 0, fromFollower: true, cut: 54194001, k: 3 },
      { t: "append", latest: true, which: 0, nearEnd: false, p: 112320777, k: 5, commit: 0 },
      { t: "handout" },
      { t: "commit", at: 300576448 },
      { t: "append", latest: false, which: 609652573, nearEnd: false, p: 0, k: 5, commit: 0 },
      { t: "restore", which: 1278843809, at: 413965425 },
      { t: "append", latest: false, which: 849107396, nearEnd: true, p: 0, k: 1, commit: 0 },
      { t: "handout" },
      { t: "append", latest: false, which: 0, nearEnd: false, p: 0, k: 0, commit: 0 },
      { t: "term", at: 0 },
      { t: "apply" },
      { t: "append", latest: false, which: 0, nearEnd: false, p: 0, k: 0, commit: 0 },
    ]);
  });

  it("stableTo is ignored while an unstable snapshot is pending; the entries after it are written again", () => {
    // The same rule, worked by hand. Batch [1/2, 2/2] is handed out; before it is written, a
    // stale message overwrites index 1, the leader's snapshot at (1, 2) is installed and
    // (2, 2) appended again. The old batch ends in (2, 2), which the log holds, but the
    // snapshot is still to be written and writing it resets the stored log: so the report
    // is ignored (Unstable invariant: a snapshot means offset === its index + 1), and the
    // next Ready carries the snapshot and (2, 2) again.
    const storage = new MemoryStorage();
    const log = new RaftLog(storage, discardLogger);
    expect(log.maybeAppend(0, 0, 0, [mk(1, 2), mk(2, 2)])).toBe(2);
    const batch = log.nextUnstableEnts();
    log.acceptUnstable();
    expect(log.maybeAppend(0, 0, 0, [mk(1, 1)])).toBe(1);
    expect(log.matchTerm(1, 2)).toBe(false);
    log.restore(snapshotAt(1, 2));
    expect(log.maybeAppend(1, 2, 0, [mk(2, 2)])).toBe(2);
    storage.append(batch);
    log.stableTo(2, 2);
    expect(log.unstable.offset).toBe(2);
    expect(ids(log.unstable.entries)).toEqual(ids([mk(2, 2)]));
    // The next Ready: the snapshot, then (2, 2); written in that order, then reported.
    const snap = log.nextUnstableSnapshot();
    const ents = log.nextUnstableEnts();
    expect(snap?.metadata).toMatchObject({ index: 1, term: 2 });
    expect(ids(ents)).toEqual(ids([mk(2, 2)]));
    log.acceptUnstable();
    storage.applySnapshot(snap!);
    storage.append(ents);
    log.stableSnapTo(1);
    log.stableTo(2, 2);
    expect(log.unstable.entries).toEqual([]);
    expect(log.lastIndex()).toBe(2);
    expect(storage.lastIndex()).toBe(2);
    expect(storage.term(2)).toBe(2);
  });

  it("a stale batch whose entries were replaced stays unstable, and the new entries are handed out", () => {
    // The etcd "offsetInProgress" case: entries 2..3 (term 1) are being written when a new
    // leader replaces index 3 with term 2. The write of (3, 1) completes but must not mark
    // anything stable; the new (3, 2) is handed out next and overwrites it in storage.
    const storage = new MemoryStorage();
    const log = new RaftLog(storage, discardLogger);
    log.maybeAppend(0, 0, 0, [mk(1, 1)]);
    storage.append(log.nextUnstableEnts());
    log.acceptUnstable();
    log.stableTo(1, 1);
    log.maybeAppend(1, 1, 0, [mk(2, 1), mk(3, 1)]);
    const batch = log.nextUnstableEnts();
    log.acceptUnstable();
    expect(log.maybeAppend(2, 1, 0, [mk(3, 2)])).toBe(3);
    storage.append(batch);
    log.stableTo(3, 1);
    expect(log.unstable.offset).toBe(2);
    expect(ids(log.nextUnstableEnts())).toEqual(ids([mk(3, 2)]));
    storage.append(log.nextUnstableEnts());
    log.acceptUnstable();
    log.stableTo(3, 2);
    expect(log.unstable.entries).toEqual([]);
    expect(ids(storage.entries(1, 4))).toEqual(ids([mk(1, 1), mk(2, 1), mk(3, 2)]));
  });
});
