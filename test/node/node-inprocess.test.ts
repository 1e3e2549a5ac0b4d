// RaftNode wired in-process over the in-memory twins (LocalNetwork, MemoryNodeStorage) with
// the hand-written KV state machine: proposals through leader and followers, the three read
// consistencies, exactly-once sessions, failing handlers, leader failover, catch-up by
// snapshot, membership and leader transfer. Ticks are 10 ms so elections take ~100-200 ms.

import { afterEach, describe, expect, it } from "vitest";
import { NodeError, isNodeError } from "../../runtime/node/errors.js";
import { RaftNode } from "../../runtime/node/node.js";
import { LocalNetwork } from "../../runtime/testing/twins/local-transport.js";
import { MemoryNodeStorage } from "../../runtime/testing/twins/memory-node-storage.js";
import { KvStateMachine, json, parse } from "./kv-state-machine.js";

interface Cluster {
  net: LocalNetwork;
  nodes: Map<number, RaftNode>;
  storages: Map<number, MemoryNodeStorage>;
  sms: Map<number, KvStateMachine>;
}

const running: RaftNode[] = [];
afterEach(async () => {
  for (const n of running.splice(0)) await n.stop().catch(() => {});
});

async function cluster(ids: number[], opts: { snapshotEntries?: number; catchUpEntries?: number } = {}): Promise<Cluster> {
  const net = new LocalNetwork();
  const c: Cluster = { net, nodes: new Map(), storages: new Map(), sms: new Map() };
  for (const id of ids) await startNode(c, id, ids, opts);
  return c;
}

async function startNode(c: Cluster, id: number, voters: number[], opts: { snapshotEntries?: number; catchUpEntries?: number } = {}, storage?: MemoryNodeStorage) {
  const st = storage ?? new MemoryNodeStorage(voters);
  const sm = new KvStateMachine();
  const peers = new Map(voters.map((v) => [v, `node-${v}`] as [number, string]));
  const node = await RaftNode.start(
    { id, clusterId: "test", peers, tickMs: 10, proposalTimeoutMs: 3000, readTimeoutMs: 3000, ...opts },
    st,
    c.net.transport(id),
    sm,
  );
  running.push(node);
  c.nodes.set(id, node);
  c.storages.set(id, st);
  c.sms.set(id, sm);
  return node;
}

async function waitFor<T>(f: () => T | undefined | false, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 5));
  }
}

const leaderOf = (c: Cluster, except: number[] = []) =>
  waitFor(() => [...c.nodes.values()].find((n) => n.isLeader() && !except.includes(n.id)));

const set = (n: RaftNode, key: string, value: string, session?: { clientId: string; seq: number }) =>
  n.propose("set", json({ key, value }), session);
const get = async (n: RaftNode, key: string, consistency: "linearizable" | "lease" | "stale" = "linearizable") =>
  parse<{ value?: string }>((await n.query("get", json({ key }), consistency)).output).value;

describe("RaftNode in-process", () => {
  it("replicates proposals from the leader and from followers; reads see them", async () => {
    const c = await cluster([1, 2, 3]);
    const leader = await leaderOf(c);
    const follower = [...c.nodes.values()].find((n) => n !== leader)!;
    await set(leader, "a", "1");
    await set(follower, "b", "2"); // forwarded to the leader, resolved when applied here
    expect(await get(follower, "a")).toBe("1");
    expect(await get(leader, "b")).toBe("2");
    expect(await get(leader, "a", "lease")).toBe("1");
    await waitFor(() => [...c.nodes.values()].every((n) => n.status().applied === leader.status().applied));
    for (const n of c.nodes.values()) expect(await get(n, "b", "stale")).toBe("2");
  });

  it("coalesces concurrent proposals into few Readies (group commit) and keeps order per client", async () => {
    const c = await cluster([1, 2, 3]);
    const leader = await leaderOf(c);
    const results = await Promise.all(Array.from({ length: 500 }, (_, i) => leader.propose("append", json({ key: "log", value: `${i},` }))));
    const last = parse<{ value: string }>(results[results.length - 1]!.output).value;
    expect(last.split(",").filter(Boolean).length).toBe(500);
    // Index order = submission order for one proposer.
    const idx = results.map((r) => r.index);
    expect([...idx].sort((a, b) => a - b)).toEqual(idx);
  });

  it("applies a session-protected command exactly once, returning the cached reply on retry", async () => {
    const c = await cluster([1, 2, 3]);
    const leader = await leaderOf(c);
    const s = { clientId: "client-a", seq: 1 };
    const r1 = await leader.propose("append", json({ key: "x", value: "y" }), s);
    const r2 = await leader.propose("append", json({ key: "x", value: "y" }), s);
    expect(parse<{ value: string }>(r1.output).value).toBe("y");
    expect(parse<{ value: string }>(r2.output).value).toBe("y"); // cached, not "yy"
    expect(await get(leader, "x")).toBe("y");
    await expect(leader.propose("append", json({ key: "x", value: "z" }), { clientId: "client-a", seq: 0 })).rejects.toMatchObject({ code: "FailedPrecondition" });
  });

  it("a throwing handler fails that command on every node and changes nothing", async () => {
    const c = await cluster([1, 2, 3]);
    const leader = await leaderOf(c);
    await expect(leader.propose("fail", json({}))).rejects.toMatchObject({ code: "CommandFailed", message: "handler failed on purpose" });
    await set(leader, "after", "ok");
    await waitFor(() => [...c.nodes.values()].every((n) => n.status().applied === leader.status().applied));
    for (const n of c.nodes.values()) {
      expect(await get(n, "should-not-exist", "stale")).toBeUndefined();
      expect(await get(n, "after", "stale")).toBe("ok");
    }
  });

  it("rejects unknown commands and queries without proposing", async () => {
    const c = await cluster([1, 2, 3]);
    const leader = await leaderOf(c);
    await expect(leader.propose("nope", json({}))).rejects.toBeInstanceOf(NodeError);
    await expect(leader.query("nope", json({}))).rejects.toMatchObject({ code: "InvalidArgument" });
  });

  it("fails over when the leader is cut off, and the old leader catches up after healing", async () => {
    const c = await cluster([1, 2, 3]);
    const old = await leaderOf(c);
    await set(old, "k", "v1");
    c.net.isolate(old.id, [1, 2, 3]);
    const next = await leaderOf(c, [old.id]);
    await set(next, "k", "v2");
    // The cut-off leader cannot serve a linearizable read (it steps down by check-quorum or times out).
    await expect(get(old, "k")).rejects.toSatisfy((e: unknown) => isNodeError(e, "NotLeader") || isNodeError(e, "Timeout"));
    c.net.heal();
    await waitFor(() => old.status().applied >= next.status().applied && !old.isLeader());
    expect(await get(old, "k")).toBe("v2");
  });

  it("a node that was down catches up by snapshot after the leader compacted its log", async () => {
    const c = await cluster([1, 2, 3], { snapshotEntries: 50, catchUpEntries: 5 });
    const leader = await leaderOf(c);
    const down = [...c.nodes.values()].find((n) => n !== leader)!;
    const downStorage = c.storages.get(down.id)!;
    await down.stop();
    c.nodes.delete(down.id);
    for (let i = 0; i < 300; i++) await set(leader, `key${i % 20}`, `v${i}`);
    expect(leader.status().firstIndex).toBeGreaterThan(200);
    // Restart on the same storage: it is far behind the leader's first index.
    const back = await startNode(c, down.id, [1, 2, 3], { snapshotEntries: 50, catchUpEntries: 5 }, downStorage);
    await waitFor(() => back.status().applied >= leader.status().applied - 1, 8000);
    expect(await get(back, "key19", "stale")).toBe("v299");
    expect(await get(back, "key0")).toBe("v280");
  });

  it("adds a learner, promotes it, removes a voter, and transfers leadership", async () => {
    const c = await cluster([1, 2, 3]);
    const leader = await leaderOf(c);
    await set(leader, "before", "join");
    // Node 4 starts empty (no configuration) and waits to be added.
    await startNode(c, 4, [], {}, new MemoryNodeStorage([]));
    for (const n of c.nodes.values()) if (n.id !== 4) (n as unknown as { transport: { addPeer(id: number): void } }).transport.addPeer(4);
    c.net.endpoint(4)!.addPeer(1);
    c.net.endpoint(4)!.addPeer(2);
    c.net.endpoint(4)!.addPeer(3);
    await leader.addLearner(4, "node-4");
    const n4 = c.nodes.get(4)!;
    await waitFor(() => n4.status().applied >= leader.status().hardState.commit);
    await leader.promote(4);
    expect(leader.status().voters).toEqual([1, 2, 3, 4]);
    const victim = [1, 2, 3].find((id) => id !== leader.id)!;
    await leader.removeNode(victim);
    expect(leader.status().voters).toEqual([1, 2, 3, 4].filter((id) => id !== victim));
    expect(await get(n4, "before")).toBe("join");
    await leader.transferLeader(4);
    await waitFor(() => n4.isLeader());
    await set(n4, "after", "transfer");
    expect(await get(n4, "after")).toBe("transfer");
  });

  it("stops on a storage failure and fails waiters with Stopped", async () => {
    const c = await cluster([1, 2, 3]);
    const leader = await leaderOf(c);
    c.storages.get(leader.id)!.failWith = new Error("disk on fire");
    await expect(set(leader, "x", "y")).rejects.toMatchObject({ code: "Stopped" });
    expect(leader.fatal()?.message).toBe("disk on fire");
  });
});
