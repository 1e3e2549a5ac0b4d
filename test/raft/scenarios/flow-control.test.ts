// Scenario tests of the leader's flow control towards each follower (etcd-io/raft's
// Progress design; Raft §5.3 leaves pacing to the implementation): in Replicate the number
// and the bytes of unacknowledged MsgAppend are bounded by the inflight window
// (maxInflightMsgs, maxInflightBytes); each message is bounded by maxSizePerMsg (at least
// one entry); in Probe at most one append is outstanding, so a silent follower gets one per
// heartbeat; MsgUnreachable sends a follower back to Probe; and the reject hints of
// MsgAppendResponse let the leader skip a whole term of a divergent log per round trip
// (§5.3: "the leader can decrement nextIndex to bypass all of the conflicting entries in
// that term"), so long divergent logs are resolved in O(terms) rejections.

import { describe, expect, it } from "vitest";
import { Cluster, MessageType, entriesWithTerms, msg, repeat, storageWith } from "./helpers.js";
import type { Message } from "../../../runtime/raft/index.js";

const appendsWithEntries = (c: Cluster, from: number, to: number): Message[] =>
  c.sent((m) => m.type === MessageType.MsgAppend && m.from === from && m.to === to && m.entries.length > 0);

const progressOf = (c: Cluster, leader: number, id: number) =>
  c.node(leader).node.status().progress.find((p) => p.id === id)!;

describe("flow control", () => {
  it("maxInflightMsgs bounds the MsgAppend in flight to a follower in Replicate", () => {
    const c = new Cluster({ config: { maxInflightMsgs: 3 } });
    c.elect(1);
    expect(progressOf(c, 1, 2).state).toBe("Replicate");
    c.dropIf = (m) => m.from === 2 && m.to === 1; // 2's acknowledgements are lost
    c.clearTrace();
    for (let i = 0; i < 10; i++) c.propose(1, `p${i}`);
    expect(appendsWithEntries(c, 1, 2).map((m) => m.entries.length)).toEqual([1, 1, 1]);
    expect(appendsWithEntries(c, 1, 3).length).toBe(10); // 3 answers, so it is not throttled
    const p2 = progressOf(c, 1, 2);
    expect(p2).toMatchObject({ state: "Replicate", inflightMessages: 3, paused: true });
    // Commit went on with 3.
    expect(c.raft(1).raftLog.committed).toBe(11);
    // Once 2's answers get through again, it catches up.
    c.dropIf = undefined;
    c.tick(1, 1);
    expect(c.appliedData(2).length).toBe(10);
    expect(progressOf(c, 1, 2)).toMatchObject({ state: "Replicate", inflightMessages: 0, paused: false, match: 11 });
  });

  it("an acknowledgement frees the window slots it covers", () => {
    const c = new Cluster({ config: { maxInflightMsgs: 2 } });
    c.elect(1);
    c.dropIf = (m) => m.from === 2 && m.to === 1;
    for (let i = 0; i < 4; i++) c.propose(1, `p${i}`);
    const pr = c.raft(1).trk.progress.get(2)!;
    expect(pr.inflights.count()).toBe(2);
    c.dropIf = undefined;
    c.clearTrace();
    // Hand the leader 2's acknowledgement of the first in-flight message only.
    c.deliverOne(msg({ type: MessageType.MsgAppendResponse, from: 2, to: 1, term: 1, index: 2 }));
    c.processAll();
    const next = c.queue.filter((m) => m.type === MessageType.MsgAppend && m.to === 2);
    expect(next.map((m) => m.entries.map((e) => e.index))).toEqual([[4, 5]]);
    expect(pr.inflights.count()).toBe(2);
  });

  it("maxInflightBytes bounds the payload bytes in flight", () => {
    const c = new Cluster({ config: { maxSizePerMsg: 500, maxInflightBytes: 500 } });
    c.elect(1);
    c.dropIf = (m) => m.from === 2 && m.to === 1;
    c.clearTrace();
    const payload = "x".repeat(150);
    for (let i = 0; i < 10; i++) c.propose(1, payload);
    // 150, 300, 450 (< 500), then 600: full after the fourth.
    expect(appendsWithEntries(c, 1, 2).length).toBe(4);
    expect(progressOf(c, 1, 2)).toMatchObject({ inflightMessages: 4, inflightBytes: 600, paused: true });
    c.dropIf = undefined;
    c.tickAll(3);
    expect(c.appliedData(2).length).toBe(10);
  });

  it("maxSizePerMsg limits the entries of one MsgAppend (but at least one goes)", () => {
    const c = new Cluster({ config: { maxSizePerMsg: 100 } });
    c.elect(1);
    c.isolate(3);
    // Each entry counts 30 data bytes + 16 overhead = 46: two fit in 100, three do not.
    for (let i = 0; i < 10; i++) c.propose(1, `${i}`.padEnd(30, "."));
    c.propose(1, "big".padEnd(300, "."));
    c.heal();
    c.clearTrace();
    c.tick(1, 1);
    const sizes = appendsWithEntries(c, 1, 3).map((m) => m.entries.length);
    expect(sizes).toEqual([2, 2, 2, 2, 2, 1]);
    expect(appendsWithEntries(c, 1, 3).at(-1)!.entries[0]!.data.length).toBe(300);
    expect(c.appliedData(3).length).toBe(11);
  });

  it("in Probe, a follower that does not answer gets one append per heartbeat", () => {
    const c = new Cluster();
    c.elect(1);
    c.node(1).node.reportUnreachable(2);
    expect(progressOf(c, 1, 2).state).toBe("Probe");
    c.dropIf = (m) => m.type === MessageType.MsgAppendResponse && m.from === 2;
    c.clearTrace();
    for (let i = 0; i < 5; i++) c.propose(1, `p${i}`);
    expect(appendsWithEntries(c, 1, 2).map((m) => m.entries.length)).toEqual([1]);
    expect(progressOf(c, 1, 2).paused).toBe(true);
    c.tick(1, 1);
    expect(appendsWithEntries(c, 1, 2).map((m) => m.entries.length)).toEqual([1, 5]);
    c.tick(1, 1);
    expect(appendsWithEntries(c, 1, 2).map((m) => m.entries.length)).toEqual([1, 5, 5]);
    expect(progressOf(c, 1, 2).state).toBe("Probe");
    c.dropIf = undefined;
    c.tick(1, 1);
    expect(progressOf(c, 1, 2).state).toBe("Replicate");
  });

  describe("MsgUnreachable", () => {
    it("moves a follower from Replicate to Probe, restarting after match", () => {
      const c = new Cluster();
      c.elect(1);
      c.dropIf = (m) => m.from === 2 && m.to === 1;
      c.propose(1, "a");
      c.propose(1, "b");
      const pr = c.raft(1).trk.progress.get(2)!;
      expect(pr.state).toBe("Replicate");
      expect(pr.match).toBe(1);
      expect(pr.next).toBe(4);
      c.node(1).node.reportUnreachable(2);
      expect(pr.state).toBe("Probe");
      expect(pr.next).toBe(2);
      expect(pr.inflights.count()).toBe(0);
      // Unknown peers are ignored.
      expect(() => c.node(1).node.reportUnreachable(42)).not.toThrow();
    });

    it("a caught-up follower in Probe returns to Replicate after a heartbeat round", () => {
      // etcd-io/raft: a heartbeat answer from a probing follower triggers an (empty) append,
      // whose acknowledgement at the match index moves it back to Replicate.
      const c = new Cluster();
      c.elect(1);
      c.propose(1, "a");
      c.node(1).node.reportUnreachable(2);
      expect(progressOf(c, 1, 2).state).toBe("Probe");
      c.tick(1, 1);
      expect(progressOf(c, 1, 2)).toMatchObject({ state: "Replicate", match: 2, paused: false });
    });
  });

  describe("fast backtracking with reject hints", () => {
    const cases = [
      {
        name: "a follower with one long term the leader never had",
        leader: [...repeat(1, 3), ...repeat(2, 5), ...repeat(4, 5), ...repeat(6, 5), ...repeat(8, 5)],
        follower: [...repeat(1, 3), ...repeat(3, 100)],
        rejections: 2,
      },
      {
        name: "a follower with several terms under one long leader term",
        leader: [...repeat(1, 3), ...repeat(5, 30)],
        follower: [...repeat(1, 3), ...repeat(2, 10), ...repeat(3, 10), ...repeat(4, 10)],
        rejections: 1,
      },
      {
        name: "a follower that is just short",
        leader: [...repeat(1, 3), ...repeat(2, 60)],
        follower: repeat(1, 3),
        rejections: 1,
      },
    ];
    for (const tc of cases) {
      it(`resolves ${tc.name} in ${tc.rejections} rejection(s)`, () => {
        const lastTerm = (t: number[]) => t[t.length - 1]!;
        const c = new Cluster({
          storageFor: (id) => {
            const terms = id === 3 ? tc.follower : tc.leader;
            return storageWith([1, 2, 3], entriesWithTerms(terms), { term: lastTerm(terms), vote: 0, commit: 3 });
          },
        });
        c.elect(1);
        expect(c.leaders()).toEqual([1]);
        const rejections = c.sent((m) => m.type === MessageType.MsgAppendResponse && m.from === 3 && m.reject);
        expect(rejections.length).toBe(tc.rejections);
        // One entry at a time would need as many rejections as conflicting entries.
        const naive = tc.leader.length - 3;
        expect(rejections.length).toBeLessThan(naive);
        expect(c.logOf(3)).toEqual(c.logOf(1));
        expect(c.raft(3).raftLog.committed).toBe(tc.leader.length + 1);
      });
    }
  });
});
