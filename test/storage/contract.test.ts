// The storage contract suite (STYLE 7.10, 8.1 rule 7), run against both MemoryStorage (the
// core's in-memory model, runtime/raft/storage.ts) and RocksStorage (runtime/storage).
//
// storageContract(name, factory) drives a storage through a small adapter (ContractSubject),
// because MemoryStorage is synchronous and RocksStorage writes asynchronously; reads go
// through the core's own synchronous Storage interface on both. It covers the Storage contract
// of etcd's storage.go as our storage.ts states it: entries() returns [lo, hi) and at least one
// entry under maxBytes, Compacted at and below firstIndex()-1, term() valid on
// [firstIndex()-1, lastIndex()] with the snapshot's term at the boundary and Unavailable above,
// appends that truncate a conflicting suffix, and snapshot metadata never rewritten by a later
// call (the seed's snapshot() did). For a durable subject every test ends by reopening a crash
// image of the directory (a copy taken while the database is open, never closed or flushed)
// and checking that it shows exactly what the resolved writes wrote. A last property test
// runs random operation sequences on both storages side by side and compares them.

import { cp } from "node:fs/promises";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryStorage, type Storage } from "../../runtime/raft/storage.js";
import { EMPTY_BYTES, type ConfState, type Entry, type HardState, type SnapshotMetadata } from "../../runtime/raft/types.js";
import { RocksStorage } from "../../runtime/storage/index.js";
import { encodeSnapshotStream } from "../../runtime/storage/snapshot-stream.js";
import { CS, cleanupDirs, ents, outcome, tempDir } from "./helpers.js";

/** One storage under test, driven through the calls both storages can make. */
export interface ContractSubject {
  /** The core's synchronous read view. */
  readonly storage: Storage;
  /** Persist a Ready's entries and hard state (one synced batch for a durable storage). */
  append(entries: Entry[], hardState?: HardState): Promise<void>;
  /** Apply through `index` (a durable storage needs applied >= a snapshot's index). */
  markApplied(index: number): Promise<void>;
  createSnapshot(index: number, cs: ConfState): Promise<void>;
  compact(index: number): Promise<void>;
  /** Install a snapshot received from a leader (empty state data). */
  installSnapshot(md: SnapshotMetadata): Promise<void>;
  /** Durable storages: a subject opened on a crash image of this one. */
  reopen?(): Promise<ContractSubject>;
  close(): Promise<void>;
}

export type SubjectFactory = (voters: number[]) => Promise<ContractSubject>;

/** Everything a storage shows through the Storage interface. */
function view(s: Storage) {
  const first = s.firstIndex();
  const last = s.lastIndex();
  const terms: number[] = [];
  for (let i = first - 1; i <= last; i++) terms.push(s.term(i));
  return {
    first,
    last,
    terms,
    entries: s.entries(first, last + 1),
    state: s.initialState(),
    snapshot: s.snapshot(0, 0),
  };
}

/** For a durable subject: a crash image shows exactly what the subject shows. */
async function expectDurable(subject: ContractSubject): Promise<void> {
  if (!subject.reopen) return;
  const again = await subject.reopen();
  try {
    expect(view(again.storage)).toEqual(view(subject.storage));
  } finally {
    await again.close();
  }
}

export function storageContract(name: string, factory: SubjectFactory): void {
  describe(`storage contract: ${name}`, () => {
    const open: ContractSubject[] = [];
    const make = async (voters = [1, 2, 3]) => {
      const s = await factory(voters);
      open.push(s);
      return s;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0, open.length).map((s) => s.close()));
    });

    it("starts empty: first 1, last 0, term(0) = 0, the bootstrap configuration", async () => {
      const s = await make([1, 2, 3]);
      expect(s.storage.firstIndex()).toBe(1);
      expect(s.storage.lastIndex()).toBe(0);
      expect(s.storage.term(0)).toBe(0);
      expect(s.storage.entries(1, 1)).toEqual([]);
      expect(s.storage.initialState()).toEqual({ hardState: { term: 0, vote: 0, commit: 0 }, confState: CS });
      expect(await outcome(() => s.storage.term(1))).toBe("Unavailable");
      await expectDurable(s);
    });

    it("entries(lo, hi) returns [lo, hi)", async () => {
      const s = await make();
      await s.append(ents(1, 5, 1), { term: 1, vote: 1, commit: 0 });
      const idx = (lo: number, hi: number) => s.storage.entries(lo, hi).map((e) => e.index);
      expect(idx(2, 4)).toEqual([2, 3]);
      expect(idx(1, 6)).toEqual([1, 2, 3, 4, 5]);
      expect(idx(5, 6)).toEqual([5]);
      expect(idx(3, 3)).toEqual([]);
      expect(s.storage.entries(1, 6)).toEqual(ents(1, 5, 1));
      // hi beyond lastIndex()+1 is a caller bug (an invariant error), never a silent clamp.
      expect(await outcome(() => s.storage.entries(1, 7))).toBe("rejected");
      await expectDurable(s);
    });

    it("maxBytes limits the result but returns at least one entry", async () => {
      const s = await make();
      // entrySize = data (4 bytes, "e001") + context (0) + 16 = 20 bytes per entry.
      const data = (i: number) => new TextEncoder().encode(`e${String(i).padStart(3, "0")}`);
      await s.append(ents(1, 5, 1, data));
      const n = (maxBytes: number | undefined) => s.storage.entries(1, 6, maxBytes).length;
      expect(n(0)).toBe(1);
      expect(n(19)).toBe(1);
      expect(n(20)).toBe(1);
      expect(n(39)).toBe(1);
      expect(n(40)).toBe(2);
      expect(n(99)).toBe(4);
      expect(n(100)).toBe(5);
      expect(n(undefined)).toBe(5);
      expect(s.storage.entries(3, 6, 0).map((e) => e.index)).toEqual([3]);
      await expectDurable(s);
    });

    it("Compacted at and below firstIndex()-1; the snapshot's term at the boundary; Unavailable above", async () => {
      const s = await make();
      await s.append([...ents(1, 3, 1), ...ents(4, 10, 2)], { term: 2, vote: 1, commit: 10 });
      await s.markApplied(8);
      await s.createSnapshot(5, CS);
      await s.compact(5);
      const st = s.storage;
      expect(st.firstIndex()).toBe(6);
      expect(st.lastIndex()).toBe(10);
      expect(await outcome(() => st.entries(5, 7))).toBe("Compacted");
      expect(await outcome(() => st.entries(4, 7))).toBe("Compacted");
      expect(await outcome(() => st.entries(1, 2))).toBe("Compacted");
      expect(st.entries(6, 8).map((e) => e.index)).toEqual([6, 7]);
      expect(st.term(5)).toBe(2); // the snapshot's term, though entry 5 is gone
      expect(st.term(5)).toBe(st.snapshot(0, 0).metadata.term);
      expect(await outcome(() => st.term(4))).toBe("Compacted");
      expect(await outcome(() => st.term(0))).toBe("Compacted");
      expect(st.term(10)).toBe(2);
      expect(await outcome(() => st.term(11))).toBe("Unavailable");
      await expectDurable(s);
    });

    it("compacting below the snapshot keeps the boundary term; compacting again is Compacted", async () => {
      const s = await make();
      await s.append([...ents(1, 3, 1), ...ents(4, 8, 3)], { term: 3, vote: 2, commit: 8 });
      await s.markApplied(8);
      await s.createSnapshot(7, CS);
      await s.compact(3);
      expect(s.storage.firstIndex()).toBe(4);
      expect(s.storage.term(3)).toBe(1);
      await expectDurable(s);
      expect(await outcome(s.compact(3))).toBe("Compacted");
      expect(await outcome(s.compact(2))).toBe("Compacted");
      await s.compact(7);
      expect(s.storage.firstIndex()).toBe(8);
      expect(s.storage.term(7)).toBe(3);
      expect(s.storage.entries(8, 9).map((e) => e.index)).toEqual([8]);
      await expectDurable(s);
    });

    it("an append truncates a conflicting suffix", async () => {
      const s = await make();
      await s.append(ents(1, 5, 1), { term: 1, vote: 1, commit: 2 });
      await s.append(ents(3, 4, 2), { term: 2, vote: 2, commit: 2 });
      expect(s.storage.lastIndex()).toBe(4);
      expect([1, 2, 3, 4].map((i) => s.storage.term(i))).toEqual([1, 1, 2, 2]);
      expect(s.storage.entries(1, 5)).toEqual([...ents(1, 2, 1), ...ents(3, 4, 2)]);
      await expectDurable(s);
      await s.append(ents(5, 7, 2));
      expect(s.storage.lastIndex()).toBe(7);
      await s.append(ents(6, 6, 3), { term: 3, vote: 0, commit: 2 });
      expect(s.storage.lastIndex()).toBe(6);
      expect(s.storage.entries(5, 7).map((e) => [e.index, e.term])).toEqual([[5, 2], [6, 3]]);
      await expectDurable(s);
    });

    it("an append that overlaps the compacted prefix skips it", async () => {
      const s = await make();
      await s.append(ents(1, 6, 1), { term: 1, vote: 1, commit: 6 });
      await s.markApplied(6);
      await s.createSnapshot(5, CS);
      await s.compact(5);
      await s.append([...ents(4, 6, 1), ...ents(7, 8, 2)]);
      expect(s.storage.firstIndex()).toBe(6);
      expect(s.storage.lastIndex()).toBe(8);
      expect([5, 6, 7, 8].map((i) => s.storage.term(i))).toEqual([1, 1, 2, 2]);
      await expectDurable(s);
    });

    it("an append with a gap is rejected and changes nothing", async () => {
      const s = await make();
      await s.append(ents(1, 3, 1), { term: 1, vote: 1, commit: 1 });
      const before = view(s.storage);
      expect(await outcome(s.append(ents(5, 6, 1)))).toBe("rejected");
      expect(view(s.storage)).toEqual(before);
      await expectDurable(s);
    });

    it("snapshot metadata is never rewritten by a later call", async () => {
      const s = await make();
      await s.append([...ents(1, 4, 1), ...ents(5, 9, 2)], { term: 2, vote: 1, commit: 9 });
      await s.markApplied(9);
      const cs5: ConfState = { voters: [1, 2], learners: [3] };
      await s.createSnapshot(5, cs5);
      const expected = { data: EMPTY_BYTES, metadata: { index: 5, term: 2, confState: cs5 } };
      expect(s.storage.snapshot(0, 0)).toEqual(expected);
      // A later request for a newer index does not move the metadata (the seed's snapshot() did).
      expect(s.storage.snapshot(9, 2)).toEqual(expected);
      expect(await outcome(s.createSnapshot(3, CS))).toBe("SnapshotOutOfDate");
      expect(await outcome(s.createSnapshot(5, CS))).toBe("SnapshotOutOfDate");
      await s.compact(5);
      await s.append(ents(10, 12, 2), { term: 2, vote: 1, commit: 12 });
      expect(s.storage.snapshot(12, 3)).toEqual(expected);
      expect(await outcome(s.installSnapshot({ index: 4, term: 1, confState: CS }))).toBe("SnapshotOutOfDate");
      expect(s.storage.snapshot(0, 0)).toEqual(expected);
      await expectDurable(s);
    });

    it("installing a snapshot replaces the log; the boundary answers with the snapshot's term", async () => {
      const s = await make();
      await s.append(ents(1, 3, 1), { term: 1, vote: 1, commit: 2 });
      const md = { index: 20, term: 4, confState: { voters: [1, 2, 3, 4], learners: [] } };
      await s.installSnapshot(md);
      const st = s.storage;
      expect(st.firstIndex()).toBe(21);
      expect(st.lastIndex()).toBe(20);
      expect(st.term(20)).toBe(4);
      expect(await outcome(() => st.term(19))).toBe("Compacted");
      expect(await outcome(() => st.term(21))).toBe("Unavailable");
      expect(await outcome(() => st.entries(20, 21))).toBe("Compacted");
      expect(st.entries(21, 21)).toEqual([]);
      expect(st.snapshot(0, 0).metadata).toEqual(md);
      const { hardState, confState } = st.initialState();
      expect(hardState.commit).toBeGreaterThanOrEqual(20);
      expect(hardState.term).toBeGreaterThanOrEqual(4);
      expect(confState).toEqual(md.confState);
      await s.append(ents(21, 22, 4), { ...hardState, commit: 22 });
      expect(st.entries(21, 23).map((e) => e.index)).toEqual([21, 22]);
      await expectDurable(s);
    });

    it("initialState returns the persisted hard state and configuration", async () => {
      const s = await make([1, 2, 3, 4, 5]);
      await s.append(ents(1, 2, 7), { term: 7, vote: 3, commit: 1 });
      expect(s.storage.initialState()).toEqual({
        hardState: { term: 7, vote: 3, commit: 1 },
        confState: { voters: [1, 2, 3, 4, 5], learners: [] },
      });
      await expectDurable(s);
    });

    if (name === "RocksStorage") {
      it("reopen after a crash: every resolved persistReady is there, after each one", async () => {
        const s = await make();
        const steps: Array<[Entry[], HardState | undefined]> = [
          [ents(1, 3, 1), { term: 1, vote: 1, commit: 0 }],
          [ents(4, 4, 1), { term: 1, vote: 1, commit: 3 }],
          [ents(4, 6, 2), { term: 2, vote: 0, commit: 3 }],
          [[], { term: 3, vote: 2, commit: 5 }],
          [ents(7, 9, 3), undefined],
        ];
        for (const [e, hs] of steps) {
          await s.append(e, hs);
          await expectDurable(s);
        }
      });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The two subjects.

function memorySubject(voters: number[]): ContractSubject {
  const ms = MemoryStorage.withPeers(voters);
  return {
    storage: ms,
    append: async (entries, hs) => {
      ms.append(entries);
      if (hs) ms.setHardState(hs);
    },
    markApplied: async () => {},
    createSnapshot: async (i, cs) => void ms.createSnapshot(i, cs, EMPTY_BYTES),
    compact: async (i) => ms.compact(i),
    installSnapshot: async (md) => ms.applySnapshot({ data: EMPTY_BYTES, metadata: md }),
    close: async () => {},
  };
}

async function rocksSubject(dir: string, rs: RocksStorage): Promise<ContractSubject> {
  return {
    storage: rs,
    append: (entries, hardState) => rs.persistReady({ entries, hardState }),
    markApplied: async (i) => {
      if (i > rs.appliedIndex()) await rs.applyBatch([], i);
    },
    createSnapshot: async (i, cs) => void (await rs.createSnapshot(i, cs)),
    compact: (i) => rs.compact(i),
    installSnapshot: (md) => rs.installSnapshot(md, encodeSnapshotStream(md, [])),
    reopen: async () => {
      // A crash image: the files as they are on disk while the database is open.
      const copy = await tempDir("raftgen-crash-image-");
      await cp(dir, copy, { recursive: true });
      return rocksSubject(copy, await RocksStorage.open(copy, { clusterId: "contract", nodeId: 1 }));
    },
    close: () => rs.close(),
  };
}

async function openRocks(voters: number[]): Promise<ContractSubject> {
  const dir = await tempDir();
  const rs = await RocksStorage.open(dir, { clusterId: "contract", nodeId: 1, create: true, initialConfState: { voters, learners: [] } });
  return rocksSubject(dir, rs);
}

afterEach(cleanupDirs);

storageContract("MemoryStorage", async (voters) => memorySubject(voters));
storageContract("RocksStorage", openRocks);

// ---------------------------------------------------------------------------------------------
// Differential: random sequences of Ready-like writes, snapshots and compactions on both
// storages must leave them showing the same log.

type Op =
  | { kind: "append"; fromBack: number; count: number; bump: boolean; commitAdvance: number }
  | { kind: "snapshot"; back: number; compact: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("append" as const),
      fromBack: fc.integer({ min: 0, max: 3 }),
      count: fc.integer({ min: 0, max: 4 }),
      bump: fc.boolean(),
      commitAdvance: fc.integer({ min: 0, max: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("snapshot" as const), back: fc.integer({ min: 0, max: 2 }), compact: fc.boolean() }),
  },
);

describe("MemoryStorage and RocksStorage agree", () => {
  it("on random sequences of appends (with truncations), hard states, snapshots and compactions", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 12 }), async (ops) => {
        const mem = memorySubject([1, 2, 3]);
        const rocks = await openRocks([1, 2, 3]);
        try {
          let term = 1;
          let commit = 0;
          for (const op of ops) {
            const last = mem.storage.lastIndex();
            if (op.kind === "append") {
              // New entries start after the commit index (Raft never rewrites committed entries).
              const from = Math.max(commit + 1, last + 1 - op.fromBack, mem.storage.firstIndex());
              if (op.bump) term++;
              const newLast = op.count > 0 ? from + op.count - 1 : last;
              commit = Math.min(newLast, commit + op.commitAdvance);
              const hs = { term, vote: 1, commit };
              const entries = op.count > 0 ? ents(from, newLast, term) : [];
              const a = await outcome(mem.append(entries, hs));
              const b = await outcome(rocks.append(entries, hs));
              expect(b).toBe(a);
              if (a !== "ok") commit = mem.storage.initialState().hardState.commit;
            } else {
              const at = Math.max(0, commit - op.back);
              await rocks.markApplied(commit);
              const a = await outcome(mem.createSnapshot(at, CS));
              const b = await outcome(rocks.createSnapshot(at, CS));
              expect(b).toBe(a);
              if (a === "ok" && op.compact && at >= mem.storage.firstIndex()) {
                await mem.compact(at);
                await rocks.compact(at);
              }
            }
            expect(view(rocks.storage)).toEqual(view(mem.storage));
          }
          await expectDurable(rocks);
        } finally {
          await rocks.close();
          await cleanupDirs();
        }
      }),
      { numRuns: 12 },
    );
  });
});
