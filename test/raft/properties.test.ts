// Property tests (fast-check) of the Raft core's small building blocks against naive models:
// quorum counting (committedIndex, voteResult), the inflight window (Inflights) and the
// leader's per-follower Progress transitions. The log (Unstable / RaftLog) and MemoryStorage
// have their own file, properties-log.test.ts.
//
// Each property prints its seed and counterexample path on failure; replay it with
//   FC_SEED=<seed> FC_PATH="<path>" npx vitest run test/raft/properties.test.ts -t "<property name>"
// (see fc-params.ts; these map onto fast-check's `seed` and `path` parameters).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { committedIndex, voteResult } from "../../runtime/raft/quorum/majority.js";
import { Inflights } from "../../runtime/raft/tracker/inflights.js";
import { Progress } from "../../runtime/raft/tracker/progress.js";
import type { ProgressState } from "../../runtime/raft/tracker/state.js";
import { fcParams } from "./fc-params.js";

// ---------------------------------------------------------------------------------------
// Quorums (Raft §5.3 commit rule, §5.2 election rule): a majority of n voters is
// floor(n/2)+1 of them.

const voterSet = fc.uniqueArray(fc.integer({ min: 1, max: 20 }), { maxLength: 9 });

describe("quorum/majority", () => {
  it("committedIndex is the majority-th largest acknowledged index (naive sort)", () => {
    fc.assert(
      fc.property(
        voterSet,
        // Acknowledgements of ids 1..20: voters and non-voters alike (non-voters must not count).
        fc.array(fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }), { minLength: 20, maxLength: 20 }),
        (voters, acks) => {
          const acked = (id: number) => acks[id - 1];
          const got = committedIndex(voters, acked);
          if (voters.length === 0) {
            expect(got).toBe(Number.POSITIVE_INFINITY);
            return;
          }
          // Model: sort the voters' indexes descending and take the majority-th one.
          const desc = voters.map((id) => acked(id) ?? 0).sort((a, b) => b - a);
          const q = Math.floor(voters.length / 2) + 1;
          expect(got).toBe(desc[q - 1]);
          // And by definition: a majority has it, no majority has anything larger.
          expect(desc.filter((x) => x >= got).length).toBeGreaterThanOrEqual(q);
          expect(desc.filter((x) => x > got).length).toBeLessThan(q);
        },
      ),
      fcParams(1000),
    );
  });

  it("committedIndex does not depend on the order of the voters", () => {
    fc.assert(
      fc.property(voterSet, fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 20, maxLength: 20 }), (voters, acks) => {
        const acked = (id: number) => acks[id - 1];
        expect(committedIndex([...voters].reverse(), acked)).toBe(committedIndex(voters, acked));
      }),
      fcParams(300),
    );
  });

  it("voteResult agrees with a naive count of granted, rejected and missing votes", () => {
    fc.assert(
      fc.property(
        voterSet,
        // A vote from each of ids 1..20: granted, rejected, or not (yet) received.
        fc.array(fc.constantFrom<boolean | undefined>(true, false, undefined), { minLength: 20, maxLength: 20 }),
        (voters, answers) => {
          const votes = new Map<number, boolean>();
          answers.forEach((a, i) => {
            if (a !== undefined) votes.set(i + 1, a);
          });
          const got = voteResult(voters, votes);
          if (voters.length === 0) {
            expect(got).toBe("Won");
            return;
          }
          const q = Math.floor(voters.length / 2) + 1;
          const granted = voters.filter((id) => votes.get(id) === true).length;
          const rejected = voters.filter((id) => votes.get(id) === false).length;
          const want = granted >= q ? "Won" : voters.length - rejected >= q ? "Pending" : "Lost";
          expect(got).toBe(want);
        },
      ),
      fcParams(1000),
    );
  });
});

// ---------------------------------------------------------------------------------------
// Inflights: a FIFO of (last index, bytes) per MsgAppend, freed by acknowledgements.

type InflightOp = { t: "add"; step: number; bytes: number } | { t: "free"; at: number } | { t: "reset" };

const inflightOp: fc.Arbitrary<InflightOp> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant("add" as const), step: fc.integer({ min: 1, max: 3 }), bytes: fc.integer({ min: 0, max: 40 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("free" as const), at: fc.integer({ min: -3, max: 12 }) }) },
  { weight: 1, arbitrary: fc.constant({ t: "reset" as const }) },
);

describe("tracker/inflights", () => {
  it("matches an array model under add / freeLE / reset with count and byte limits", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 120 })),
        fc.array(inflightOp, { maxLength: 80 }),
        (size, maxBytes, ops) => {
          const inf = new Inflights(size, maxBytes);
          let model: { index: number; bytes: number }[] = [];
          let lastIndex = 0;
          const modelBytes = () => model.reduce((s, x) => s + x.bytes, 0);
          const modelFull = () => model.length === size || (maxBytes !== 0 && modelBytes() >= maxBytes);
          for (const op of ops) {
            if (op.t === "add") {
              lastIndex += op.step;
              if (modelFull()) {
                expect(() => inf.add(lastIndex, op.bytes)).toThrow();
              } else {
                inf.add(lastIndex, op.bytes);
                model.push({ index: lastIndex, bytes: op.bytes });
              }
            } else if (op.t === "free") {
              // An acknowledgement somewhere around the window: below it, inside it, past it.
              const to = lastIndex - 10 + op.at;
              inf.freeLE(to);
              model = model.filter((x) => x.index > to);
            } else {
              inf.reset();
              model = [];
            }
            expect(inf.count()).toBe(model.length);
            expect(inf.bytes()).toBe(modelBytes());
            expect(inf.full()).toBe(modelFull());
          }
          // A clone has the same contents and is independent of the original.
          const c = inf.clone();
          expect([c.count(), c.bytes(), c.full()]).toEqual([inf.count(), inf.bytes(), inf.full()]);
          c.freeLE(Number.MAX_SAFE_INTEGER);
          expect(c.count()).toBe(0);
          expect(inf.count()).toBe(model.length);
          // Freeing one index at a time releases exactly the model's slots in order.
          for (const slot of model) {
            const before = inf.count();
            inf.freeLE(slot.index - 1);
            expect(inf.count()).toBe(before);
            inf.freeLE(slot.index);
            expect(inf.count()).toBe(before - 1);
          }
          expect(inf.bytes()).toBe(0);
        },
      ),
      fcParams(500),
    );
  });
});

// ---------------------------------------------------------------------------------------
// Progress: the leader's view of one follower (§5.3 nextIndex / matchIndex, thesis §3.5 and
// etcd's probe / replicate / snapshot flow control).
//
// The driver below acts like a leader: it appends to its log, sends MsgAppends from `next`
// when not paused (remembering each message), and feeds back acknowledgements and rejections
// of any message ever sent, in any order (the network reorders and duplicates). After every
// step it checks the invariants against a model of the fields:
//   - match < next, always (§5.3: nextIndex starts after what is known to match);
//   - match never decreases (an acknowledgement is a fact that stays true);
//   - a stale acknowledgement (index <= match) changes nothing and returns false;
//   - a stale rejection (in Replicate: of an index <= match; in Probe/Snapshot: of anything
//     but the latest probe, next-1) changes nothing and returns false;
//   - a fresh rejection moves next back, but never to or below match.

type ProgressOp =
  | { t: "grow"; k: number }
  | { t: "send"; k: number }
  | { t: "ack"; pick: number }
  | { t: "ackIndex"; back: number }
  | { t: "reject"; pick: number; hintBack: number }
  | { t: "probe" }
  | { t: "replicate" }
  | { t: "snapshot"; back: number };

const progressOp: fc.Arbitrary<ProgressOp> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.constant("grow" as const), k: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant("send" as const), k: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant("ack" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("ackIndex" as const), back: fc.integer({ min: 0, max: 6 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("reject" as const), pick: fc.nat(), hintBack: fc.integer({ min: 0, max: 6 }) }) },
  { weight: 1, arbitrary: fc.constant({ t: "probe" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "replicate" as const }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("snapshot" as const), back: fc.integer({ min: 0, max: 4 }) }) },
);

interface ProgressModel {
  match: number;
  next: number;
  state: ProgressState;
  paused: boolean;
  pendingSnapshot: number;
}

const view = (pr: Progress): ProgressModel => ({
  match: pr.match,
  next: pr.next,
  state: pr.state,
  paused: pr.msgAppFlowPaused,
  pendingSnapshot: pr.pendingSnapshot,
});

describe("tracker/progress", () => {
  it("keeps match < next and ignores stale acknowledgements and rejections", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.array(progressOp, { maxLength: 60 }), (start, window, ops) => {
        // A new leader with `start` entries; the follower's progress starts probing at last+1.
        let leaderLast = start;
        const pr = new Progress(leaderLast + 1, new Inflights(window, 0), false);
        const sent: { prev: number; last: number }[] = [];
        for (const op of ops) {
          const before = view(pr);
          switch (op.t) {
            case "grow":
              leaderLast += op.k;
              break;
            case "send": {
              if (pr.isPaused() || pr.state === "Snapshot") break;
              // Entries from next on (at most k, maybe none: a bare probe / commit update).
              const count = Math.max(0, Math.min(op.k, leaderLast - pr.next + 1));
              const prev = pr.next - 1;
              const last = prev + count;
              pr.sentEntries(count, count * 10, last);
              sent.push({ prev, last });
              if (pr.state === "Replicate" && count > 0) {
                expect(pr.next).toBe(last + 1);
                expect(pr.inflights.count()).toBeGreaterThan(0);
              } else {
                expect(pr.next).toBe(before.next);
              }
              if (pr.state === "Probe" && count > 0) expect(pr.isPaused()).toBe(true);
              break;
            }
            case "ack":
            case "ackIndex": {
              let n: number;
              if (op.t === "ack") {
                if (sent.length === 0) break;
                n = sent[op.pick % sent.length]!.last;
              } else {
                n = Math.max(0, pr.match - op.back);
              }
              const moved = pr.maybeUpdate(n);
              if (n <= before.match) {
                // Stale: nothing changes.
                expect(moved).toBe(false);
                expect(view(pr)).toEqual(before);
              } else {
                expect(moved).toBe(true);
                expect(pr.match).toBe(n);
                expect(pr.next).toBe(Math.max(before.next, n + 1));
                expect(pr.msgAppFlowPaused).toBe(false);
                if (pr.state === "Replicate") pr.inflights.freeLE(n);
              }
              break;
            }
            case "reject": {
              if (sent.length === 0) break;
              const msg = sent[op.pick % sent.length]!;
              const rejected = msg.prev;
              const hint = Math.max(0, rejected - op.hintBack);
              const stale = before.state === "Replicate" ? rejected <= before.match : rejected !== before.next - 1;
              const moved = pr.maybeDecrTo(rejected, hint);
              if (stale) {
                expect(moved).toBe(false);
                expect(view(pr)).toEqual(before);
              } else {
                expect(moved).toBe(true);
                expect(pr.match).toBe(before.match);
                expect(pr.next).toBeLessThanOrEqual(before.next);
                if (before.state === "Replicate") {
                  expect(pr.next).toBe(before.match + 1);
                } else {
                  // Back to the hint (one past it), never below match+1 nor above the probe.
                  expect(pr.next).toBe(Math.max(Math.min(rejected, hint + 1), before.match + 1));
                  expect(pr.msgAppFlowPaused).toBe(false);
                }
              }
              break;
            }
            case "probe":
              pr.becomeProbe();
              expect(pr.state).toBe("Probe");
              expect(pr.next).toBe(
                before.state === "Snapshot" ? Math.max(before.match + 1, before.pendingSnapshot + 1) : before.match + 1,
              );
              expect(pr.inflights.count()).toBe(0);
              break;
            case "replicate":
              pr.becomeReplicate();
              expect(pr.state).toBe("Replicate");
              expect(pr.next).toBe(before.match + 1);
              expect(pr.inflights.count()).toBe(0);
              break;
            case "snapshot": {
              // The leader snapshots at some index at or above match and at most its last.
              const idx = Math.max(pr.match, leaderLast - op.back);
              pr.becomeSnapshot(idx);
              expect(pr.state).toBe("Snapshot");
              expect(pr.pendingSnapshot).toBe(idx);
              expect(pr.isPaused()).toBe(true);
              break;
            }
          }
          // Invariants after every step.
          expect(pr.match).toBeLessThan(pr.next);
          expect(pr.match).toBeGreaterThanOrEqual(before.match);
          expect(pr.inflights.count()).toBeLessThanOrEqual(window);
          if (pr.state !== "Replicate") expect(pr.inflights.count()).toBe(0);
          if (pr.state === "Snapshot") expect(pr.isPaused()).toBe(true);
        }
      }),
      fcParams(1000),
    );
  });
});
