import { describe, expect, it } from "vitest";
import { EntryType } from "../../runtime/raft/index.js";
import { Network, str, text } from "./network.js";

describe("smoke", () => {
  it("elects a leader and commits proposals on 3 nodes", () => {
    const net = new Network();
    net.elect(1);
    expect(net.leader()).toBe(1);
    net.node(1).node.propose(text("hello"));
    net.node(2).node.propose(text("forwarded"));
    net.stabilize();
    for (const id of [1, 2, 3]) {
      const data = net.node(id).applied.filter((e) => e.type === EntryType.EntryNormal && e.data.length > 0).map((e) => str(e.data));
      expect(data).toEqual(["hello", "forwarded"]);
    }
  });

  it("a single node elects itself and commits", () => {
    const net = new Network({ voters: [1] });
    net.elect(1);
    expect(net.leader()).toBe(1);
    net.node(1).node.propose(text("x"));
    net.stabilize();
    expect(net.node(1).applied.map((e) => str(e.data))).toEqual(["", "x"]);
  });

  it("elects by ticking with pre-vote and check-quorum", () => {
    const net = new Network({ voters: [1, 2, 3, 4, 5], config: { preVote: true, checkQuorum: true } });
    net.tickAll(30);
    const l = net.leader();
    expect(l).toBeDefined();
    net.node(l!).node.readIndex(text("r1"));
    net.stabilize();
    net.tickAll(2);
    expect(net.node(l!).readStates.length).toBe(1);
  });
});
