// Every example on a real 3-node cluster in this process (Proof 6 of issue 7): NodeServers with
// RocksDB data directories, running the example's generated state machine and typed gRPC
// service, driven by the example's generated client over the endpoints of all three nodes.
// For each example: every command and query with checked results, a handler that throws
// failing with CommandFailed and its message while every node's state stays as it was (read
// with stale consistency from each node alone), a query under all three consistencies, and the
// leader stopped in the middle of a run of writes: the client keeps working and no
// acknowledged write is lost.
//
// Each example's cluster lives for its describe block; afterAll closes it (servers stopped,
// directories removed) whatever happened. The tests of a block share its cluster and run in
// order: later ones state what earlier ones left (run the block, not one test, with -t).
// This file must not spawn processes. Most of its ~20 s is NodeServer.stop(), which waits out
// its 2 s graceful-shutdown timer (peers' transport streams stay open), once per stopped leader
// and once per cluster.

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Consistency } from "raftgen/runtime/codegen-v1";
import { CounterClient, counterService, createStateMachine as counterMachine } from "../../examples/counter/generated/index.js";
import { handlers as counterHandlers } from "../../examples/counter/src/handlers.js";
import { type Lock, LockServiceClient, lockServiceService, createStateMachine as lockMachine } from "../../examples/lock/generated/index.js";
import { handlers as lockHandlers } from "../../examples/lock/src/handlers.js";
import { PlacementCenterClient, placementCenterService, createStateMachine as placementMachine } from "../../examples/placement-center/generated/index.js";
import { handlers as placementHandlers } from "../../examples/placement-center/src/handlers.js";
import { type ServiceCluster, callTyped, readEachNode, rejection, sleep, startServiceCluster } from "./cluster-harness.js";

const CONSISTENCIES: Consistency[] = ["linearizable", "lease", "stale"];
const U64_MAX = 2n ** 64n - 1n;

/** Clients made by a test file, closed in afterAll. */
class Clients {
  private readonly all: { close(): void }[] = [];
  add<C extends { close(): void }>(c: C): C {
    this.all.push(c);
    return c;
  }
  close(): void {
    for (const c of this.all.splice(0)) c.close();
  }
}

/** Every node answered `expected`. */
function expectEveryNode<T>(answers: Map<number, T>, expected: T, nodes: number): void {
  expect(answers.size).toBe(nodes);
  for (const [id, got] of answers) expect({ id, got }).toEqual({ id, got: expected });
}

/**
 * Run `count` writes one after the other; once `stopAfter` of them are acknowledged, stop the
 * leader (concurrently with the writes that follow). Returns what every write acknowledged
 * and the stopped node. A write that fails fails the test: the client must ride through.
 */
async function writesAcrossLeaderStop<T>(cluster: ServiceCluster, count: number, stopAfter: number, write: (i: number) => Promise<T>): Promise<{ acked: T[]; stopped: number }> {
  const acked: T[] = [];
  let stopping: Promise<void> | undefined;
  let stopped = 0;
  for (let i = 0; i < count; i++) {
    if (i === stopAfter) {
      stopped = await cluster.waitForLeader();
      stopping = cluster.stopNode(stopped);
    }
    acked.push(await write(i));
  }
  await stopping;
  expect(cluster.live()).not.toContain(stopped);
  const leader = await cluster.waitForLeader();
  expect(leader).not.toBe(stopped);
  return { acked, stopped };
}

describe("counter on a 3-node cluster", () => {
  let cluster: ServiceCluster;
  const clients = new Clients();
  let c: CounterClient;
  const local = (endpoint: string) => new CounterClient({ endpoints: [endpoint], deadlineMs: 5_000 });

  beforeAll(async () => {
    cluster = await startServiceCluster({ service: counterService, stateMachine: () => counterMachine(counterHandlers) });
    c = clients.add(new CounterClient({ endpoints: [...cluster.endpoints], backoffMs: 10 }));
  });
  afterAll(async () => {
    clients.close();
    await cluster?.close();
  });

  test("add, get, reset and list, with checked results", async () => {
    expect(await c.add({ name: "a", delta: 5n })).toEqual({ value: 5n });
    expect(await c.add({ name: "a", delta: -7n })).toEqual({ value: -2n });
    expect(await c.add({ name: "b", delta: 1n })).toEqual({ value: 1n });
    expect(await c.get({ name: "a" })).toEqual({ value: -2n });
    expect(await c.get({ name: "never" })).toEqual({ value: 0n });
    expect(await c.list({})).toEqual({ counters: { a: -2n, b: 1n } });
    expect(await c.reset({ name: "a" })).toBeUndefined();
    expect(await c.get({ name: "a" })).toEqual({ value: 0n });
    expect(await c.list({})).toEqual({ counters: { b: 1n } });
    // The typed gRPC service is served too, on a follower as on the leader.
    const follower = cluster.live().find((id) => id !== cluster.leader())!;
    expect(await callTyped(counterService, cluster.address(follower), "query", "get", { name: "b" })).toEqual({ value: 1n });
  });

  test("a query under each consistency, through the cluster client and on each node alone", async () => {
    await c.add({ name: "cons", delta: 42n });
    for (const consistency of CONSISTENCIES) expect(await c.get({ name: "cons" }, { consistency })).toEqual({ value: 42n });
    // Linearizable and lease reads see the acknowledged write on every node, followers included.
    await c.add({ name: "cons", delta: 1n });
    for (const id of cluster.live()) {
      const one = clients.add(local(cluster.address(id)));
      for (const consistency of ["linearizable", "lease"] as const) expect(await one.get({ name: "cons" }, { consistency })).toEqual({ value: 43n });
    }
    const stale = await readEachNode(cluster, local, (n) => n.get({ name: "cons" }, { consistency: "stale" }));
    expectEveryNode(stale, { value: 43n }, 3);
  });

  test("an add that would overflow fails with CommandFailed and leaves every node's counter as it was", async () => {
    const max = 2n ** 63n - 1n;
    expect(await c.add({ name: "big", delta: max })).toEqual({ value: max });
    const err = await rejection(c.add({ name: "big", delta: 1n }));
    expect({ code: err.code, message: err.message }).toEqual({ code: "CommandFailed", message: "counter big would overflow int64" });
    const state = await readEachNode(cluster, local, async (n) => ({ big: await n.get({ name: "big" }, { consistency: "stale" }), all: await n.list({}, { consistency: "stale" }) }));
    expectEveryNode(state, { big: { value: max }, all: { counters: { b: 1n, big: max, cons: 43n } } }, 3);
  });

  test("the leader stops mid-run: every add is acknowledged exactly once and none is lost", async () => {
    const { acked } = await writesAcrossLeaderStop(cluster, 24, 8, (i) => c.add({ name: "total", delta: BigInt(i + 1) }));
    // Exactly-once: each acknowledged add saw the previous ones and no duplicate.
    const expected = Array.from({ length: 24 }, (_, i) => ({ value: BigInt(((i + 1) * (i + 2)) / 2) }));
    expect(acked).toEqual(expected);
    expect(await c.get({ name: "total" })).toEqual({ value: 300n });
    const state = await readEachNode(cluster, local, (n) => n.get({ name: "total" }, { consistency: "stale" }));
    expectEveryNode(state, { value: 300n }, 2);
    // And the two survivors still take writes.
    expect(await c.reset({ name: "b" })).toBeUndefined();
    expect(await c.list({})).toEqual({ counters: { big: 2n ** 63n - 1n, cons: 43n, total: 300n } });
  });
});

describe("lock on a 3-node cluster", () => {
  let cluster: ServiceCluster;
  const clients = new Clients();
  let c: LockServiceClient;
  const local = (endpoint: string) => new LockServiceClient({ endpoints: [endpoint], deadlineMs: 5_000 });

  beforeAll(async () => {
    cluster = await startServiceCluster({ service: lockServiceService, stateMachine: () => lockMachine(lockHandlers) });
    c = clients.add(new LockServiceClient({ endpoints: [...cluster.endpoints], backoffMs: 10 }));
  });
  afterAll(async () => {
    clients.close();
    await cluster?.close();
  });

  test("acquire, renew, release, holder and list, with leases from the entries' timestamps", async () => {
    const t0 = Date.now();
    const a = await c.acquire({ name: "db", owner: "alice", ttlMs: 60_000 });
    const t1 = Date.now();
    expect(a.outcome).toBe("ACQUIRED");
    expect(a.lock).toMatchObject({ name: "db", owner: "alice", token: 1n });
    // The proposer stamped the entry between our send and its reply.
    expect(a.lock.expiresAt >= BigInt(t0 + 60_000) && a.lock.expiresAt <= BigInt(t1 + 60_000)).toBe(true);
    expect(await c.acquire({ name: "db", owner: "bob", ttlMs: 1_000 })).toEqual({ outcome: "HELD_BY_OTHER", lock: a.lock });
    expect(await c.holder({ name: "db" })).toEqual({ lock: a.lock });

    const r = await c.renew({ name: "db", owner: "alice", token: 1n, ttlMs: 120_000 });
    expect(r.lock).toMatchObject({ name: "db", owner: "alice", token: 1n });
    expect(r.lock.expiresAt).toBeGreaterThan(a.lock.expiresAt);

    const q = (await c.acquire({ name: "queue", owner: "carol", ttlMs: 60_000 })).lock;
    expect(q.token).toBe(2n);
    expect(await c.list({})).toEqual({ locks: [r.lock, q] });

    expect(await c.release({ name: "db", owner: "alice", token: 2n })).toEqual({ released: false });
    expect(await c.release({ name: "db", owner: "alice", token: 1n })).toEqual({ released: true });
    expect(await c.holder({ name: "db" })).toEqual({});
    expect(await c.list({})).toEqual({ locks: [q] });
  });

  test("a query under each consistency", async () => {
    const expected = await c.holder({ name: "queue" });
    expect(expected.lock?.owner).toBe("carol");
    for (const consistency of CONSISTENCIES) expect(await c.holder({ name: "queue" }, { consistency })).toEqual(expected);
    for (const id of cluster.live()) {
      const one = clients.add(local(cluster.address(id)));
      for (const consistency of CONSISTENCIES) expect((await one.list({}, { consistency })).locks.map((l) => l.name)).toEqual(["queue"]);
    }
  });

  test("renew of a lost lock fails with CommandFailed and leaves every node's lock as it was", async () => {
    const lost = (await c.acquire({ name: "cache", owner: "alice", ttlMs: 30 })).lock;
    await sleep(80); // the lease ends (by entry time: the next entry is stamped later)
    const err1 = await rejection(c.renew({ name: "cache", owner: "alice", token: lost.token, ttlMs: 1_000 }));
    expect({ code: err1.code, message: err1.message }).toEqual({ code: "CommandFailed", message: `the lease on cache expired at ${lost.expiresAt}` });
    const taken = await c.acquire({ name: "cache", owner: "bob", ttlMs: 60_000 });
    expect(taken.outcome).toBe("ACQUIRED");
    expect(taken.lock.token).toBeGreaterThan(lost.token);
    const err2 = await rejection(c.renew({ name: "cache", owner: "alice", token: lost.token, ttlMs: 1_000 }));
    expect({ code: err2.code, message: err2.message }).toEqual({ code: "CommandFailed", message: `lock cache is not held by alice with token ${lost.token}` });
    const state = await readEachNode(cluster, local, async (n) => ({ cache: await n.holder({ name: "cache" }, { consistency: "stale" }), all: await n.list({}, { consistency: "stale" }) }));
    const queue = (await c.holder({ name: "queue" })).lock!;
    expectEveryNode(state, { cache: { lock: taken.lock }, all: { locks: [taken.lock, queue] } }, 3);
  });

  test("the leader stops mid-run: fencing tokens keep growing under the new leader and no acquisition is lost", async () => {
    const before = (await c.list({})).locks.reduce((max, l) => (l.token > max ? l.token : max), 0n);
    const { acked } = await writesAcrossLeaderStop(cluster, 20, 7, (i) => c.acquire({ name: `job-${String(i).padStart(2, "0")}`, owner: "w", ttlMs: 600_000 }));
    expect(acked.map((a) => a.outcome)).toEqual(Array(20).fill("ACQUIRED"));
    // One token per acquisition, in order, none skipped, none repeated, across the leader change.
    expect(acked.map((a) => a.lock.token)).toEqual(Array.from({ length: 20 }, (_, i) => before + BigInt(i + 1)));
    const jobs = (locks: Lock[]) => locks.filter((l) => l.name.startsWith("job-"));
    expect(jobs((await c.list({})).locks)).toEqual(acked.map((a) => a.lock));
    const state = await readEachNode(cluster, local, async (n) => jobs((await n.list({}, { consistency: "stale" })).locks));
    expectEveryNode(state, acked.map((a) => a.lock), 2);
  });
});

describe("placement-center on a 3-node cluster", () => {
  let cluster: ServiceCluster;
  const clients = new Clients();
  let c: PlacementCenterClient;
  const local = (endpoint: string) => new PlacementCenterClient({ endpoints: [endpoint], deadlineMs: 5_000 });

  beforeAll(async () => {
    cluster = await startServiceCluster({ service: placementCenterService, stateMachine: () => placementMachine(placementHandlers) });
    c = clients.add(new PlacementCenterClient({ endpoints: [...cluster.endpoints], backoffMs: 10 }));
  });
  afterAll(async () => {
    clients.close();
    await cluster?.close();
  });

  test("set, get, exists and delete", async () => {
    expect(await c.set({ key: "/config/a", value: "1" })).toBeUndefined();
    expect(await c.get({ key: "/config/a" })).toEqual({ value: "1" });
    expect(await c.exists({ key: "/config/a" })).toEqual({ exists: true });
    await c.set({ key: "/config/a", value: "2" });
    expect(await c.get({ key: "/config/a" })).toEqual({ value: "2" });
    expect(await c.delete({ key: "/config/a" })).toEqual({ deleted: true });
    expect(await c.delete({ key: "/config/a" })).toEqual({ deleted: false });
    expect(await c.get({ key: "/config/a" })).toEqual({});
    expect(await c.exists({ key: "/config/a" })).toEqual({ exists: false });
  });

  test("register_node, heartbeat, list_nodes and unregister_node", async () => {
    const first = (await c.registerNode({ clusterName: "mq", nodeId: 3n, nodeIp: "10.0.0.3", extend: "{}" })).node;
    expect(first).toMatchObject({ clusterName: "mq", nodeId: 3n, nodeIp: "10.0.0.3", extend: "{}" });
    expect(first.createTime).toBe(first.lastHeartbeat);
    await sleep(5);
    const again = (await c.registerNode({ clusterName: "mq", nodeId: 3n, nodeIp: "10.0.0.33" })).node;
    expect(again.createTime).toBe(first.createTime);
    expect(again.lastHeartbeat).toBeGreaterThan(first.lastHeartbeat);
    expect("extend" in again).toBe(false);
    const big = (await c.registerNode({ clusterName: "mq", nodeId: U64_MAX, nodeIp: "10.0.0.255" })).node;
    const one = (await c.registerNode({ clusterName: "mq", nodeId: 1n, nodeIp: "10.0.0.1" })).node;
    await c.registerNode({ clusterName: "other", nodeId: 2n, nodeIp: "10.1.0.2" });
    await sleep(5);
    expect(await c.heartbeat({ clusterName: "mq", nodeId: 1n })).toBeUndefined();
    const listed = (await c.listNodes({ clusterName: "mq" })).nodes;
    expect(listed.map((n) => n.nodeId)).toEqual([1n, 3n, U64_MAX]);
    expect(listed[0]!.lastHeartbeat).toBeGreaterThan(one.lastHeartbeat);
    expect(listed[0]!.createTime).toBe(one.createTime);
    expect(listed.slice(1)).toEqual([again, big]);
    expect(await c.unregisterNode({ clusterName: "other", nodeId: 1n })).toEqual({ removed: false });
    expect(await c.unregisterNode({ clusterName: "mq", nodeId: 1n })).toEqual({ removed: true });
    expect((await c.listNodes({ clusterName: "mq" })).nodes.map((n) => n.nodeId)).toEqual([3n, U64_MAX]);
    expect((await c.listNodes({ clusterName: "other" })).nodes.map((n) => n.nodeId)).toEqual([2n]);
  });

  test("a query under each consistency", async () => {
    await c.set({ key: "k", value: "v" });
    for (const consistency of CONSISTENCIES) {
      expect(await c.get({ key: "k" }, { consistency })).toEqual({ value: "v" });
      expect(await c.exists({ key: "k" }, { consistency })).toEqual({ exists: true });
    }
    for (const id of cluster.live()) {
      const one = clients.add(local(cluster.address(id)));
      for (const consistency of CONSISTENCIES) expect((await one.listNodes({ clusterName: "mq" }, { consistency })).nodes.map((n) => n.nodeId)).toEqual([3n, U64_MAX]);
    }
  });

  test("heartbeat of an unknown node and a register in another cluster fail with CommandFailed; every node's registry stays as it was", async () => {
    const read = async (n: PlacementCenterClient) => ({
      mq: await n.listNodes({ clusterName: "mq" }, { consistency: "stale" }),
      other: await n.listNodes({ clusterName: "other" }, { consistency: "stale" }),
    });
    const before = await read(c);
    const hb = await rejection(c.heartbeat({ clusterName: "mq", nodeId: 404n }));
    expect({ code: hb.code, message: hb.message }).toEqual({ code: "CommandFailed", message: "node 404 is not registered in cluster mq" });
    const reg = await rejection(c.registerNode({ clusterName: "other", nodeId: 3n, nodeIp: "10.9.9.9" }));
    expect({ code: reg.code, message: reg.message }).toEqual({ code: "CommandFailed", message: "node 3 is registered in cluster mq, not other" });
    expectEveryNode(await readEachNode(cluster, local, read), before, 3);
  });

  test("the leader stops mid-run: the client keeps working and no acknowledged set is lost", async () => {
    const keys = Array.from({ length: 24 }, (_, i) => `/run/${String(i).padStart(2, "0")}`);
    await writesAcrossLeaderStop(cluster, keys.length, 8, (i) => c.set({ key: keys[i]!, value: `v${i}` }));
    for (const [i, key] of keys.entries()) expect(await c.get({ key })).toEqual({ value: `v${i}` });
    const state = await readEachNode(cluster, local, async (n) => {
      const values: (string | undefined)[] = [];
      for (const key of keys) values.push((await n.get({ key }, { consistency: "stale" })).value);
      return values;
    });
    expectEveryNode(state, keys.map((_, i) => `v${i}`), 2);
    // The survivors keep serving every kind of call.
    expect((await c.registerNode({ clusterName: "mq", nodeId: 9n, nodeIp: "ip" })).node.nodeId).toBe(9n);
    expect(await c.delete({ key: keys[0]! })).toEqual({ deleted: true });
    expect(await c.exists({ key: keys[0]! })).toEqual({ exists: false });
  });
});
