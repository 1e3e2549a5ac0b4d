// Tests of the placement center's handlers, through the generated client running them in this
// process (`{ local: createStateMachine(handlers) }`): the same codecs and state machine a node
// runs, no cluster needed. Entry timestamps come from the local client's `clock`, which each
// test sets by hand, so creation and heartbeat times are known exactly.

import { describe, expect, test } from "vitest";
import { type BrokerNode, PlacementCenterClient, createStateMachine } from "../generated/index.js";
import { handlers } from "../src/handlers.js";

const U64_MAX = 2n ** 64n - 1n;

function client(start = 1_000) {
  const clock = { now: start };
  const c = new PlacementCenterClient({ local: createStateMachine(handlers), clock: () => clock.now });
  return { c, clock };
}

describe("placement-center: key/value", () => {
  test("set then get returns the value; set again overwrites; a key never set is absent", async () => {
    const { c } = client();
    expect(await c.set({ key: "k", value: "v1" })).toBeUndefined();
    expect(await c.get({ key: "k" })).toEqual({ value: "v1" });
    await c.set({ key: "k", value: "v2" });
    expect(await c.get({ key: "k" })).toEqual({ value: "v2" });
    const missing = await c.get({ key: "nope" });
    expect("value" in missing).toBe(false);
  });

  test("an empty value is a value: get returns it present, exists says true", async () => {
    const { c } = client();
    await c.set({ key: "empty", value: "" });
    const got = await c.get({ key: "empty" });
    expect("value" in got).toBe(true);
    expect(got.value).toBe("");
    expect(await c.exists({ key: "empty" })).toEqual({ exists: true });
  });

  test("exists follows set and delete; delete says whether the key was there", async () => {
    const { c } = client();
    expect(await c.exists({ key: "k" })).toEqual({ exists: false });
    await c.set({ key: "k", value: "v" });
    expect(await c.exists({ key: "k" })).toEqual({ exists: true });
    expect(await c.delete({ key: "k" })).toEqual({ deleted: true });
    expect(await c.exists({ key: "k" })).toEqual({ exists: false });
    expect(await c.get({ key: "k" })).toEqual({});
    expect(await c.delete({ key: "k" })).toEqual({ deleted: false });
  });

  test("keys and values are kept byte for byte (unicode, separators)", async () => {
    const { c } = client();
    const key = "/a/b\u0000c/ключ/🔑";
    await c.set({ key, value: "значение 🚀\n" });
    expect(await c.get({ key })).toEqual({ value: "значение 🚀\n" });
    expect(await c.get({ key: "/a/b" })).toEqual({});
  });
});

describe("placement-center: broker registry", () => {
  test("register_node sets create_time and last_heartbeat from the entry's timestamp", async () => {
    const { c } = client(1_700_000_000_123);
    const { node } = await c.registerNode({ clusterName: "c1", nodeId: 7n, nodeIp: "10.0.0.7" });
    expect(node).toEqual({ clusterName: "c1", nodeId: 7n, nodeIp: "10.0.0.7", createTime: 1_700_000_000_123n, lastHeartbeat: 1_700_000_000_123n });
    expect(await c.listNodes({ clusterName: "c1" })).toEqual({ nodes: [node] });
  });

  test("re-registering keeps create_time, takes the new ip and extend, and moves last_heartbeat to the entry's time", async () => {
    const { c, clock } = client(1_000);
    await c.registerNode({ clusterName: "c1", nodeId: 7n, nodeIp: "10.0.0.7", extend: "{\"v\":1}" });
    clock.now = 5_000;
    const { node } = await c.registerNode({ clusterName: "c1", nodeId: 7n, nodeIp: "10.0.0.8", extend: "{\"v\":2}" });
    expect(node).toEqual({ clusterName: "c1", nodeId: 7n, nodeIp: "10.0.0.8", extend: "{\"v\":2}", createTime: 1_000n, lastHeartbeat: 5_000n });
    expect((await c.listNodes({ clusterName: "c1" })).nodes).toEqual([node]);
  });

  test("registering a node id that another cluster holds fails and changes nothing", async () => {
    const { c, clock } = client(1_000);
    const { node } = await c.registerNode({ clusterName: "c1", nodeId: 7n, nodeIp: "10.0.0.7" });
    clock.now = 2_000;
    await expect(c.registerNode({ clusterName: "c2", nodeId: 7n, nodeIp: "10.9.9.9" })).rejects.toMatchObject({
      code: "CommandFailed",
      message: "node 7 is registered in cluster c1, not c2",
    });
    expect(await c.listNodes({ clusterName: "c1" })).toEqual({ nodes: [node] });
    expect(await c.listNodes({ clusterName: "c2" })).toEqual({ nodes: [] });
  });

  test("unregister_node removes a node of that cluster only, and says whether it did", async () => {
    const { c } = client();
    const { node } = await c.registerNode({ clusterName: "c1", nodeId: 7n, nodeIp: "ip" });
    expect(await c.unregisterNode({ clusterName: "c2", nodeId: 7n })).toEqual({ removed: false });
    expect(await c.listNodes({ clusterName: "c1" })).toEqual({ nodes: [node] });
    expect(await c.unregisterNode({ clusterName: "c1", nodeId: 7n })).toEqual({ removed: true });
    expect(await c.listNodes({ clusterName: "c1" })).toEqual({ nodes: [] });
    expect(await c.unregisterNode({ clusterName: "c1", nodeId: 7n })).toEqual({ removed: false });
    // Once removed, the id is free for another cluster, with a new create_time.
    expect((await c.registerNode({ clusterName: "c2", nodeId: 7n, nodeIp: "ip2" })).node.clusterName).toBe("c2");
  });

  test("heartbeat moves last_heartbeat to the entry's time and nothing else", async () => {
    const { c, clock } = client(1_000);
    const { node } = await c.registerNode({ clusterName: "c1", nodeId: 7n, nodeIp: "ip", extend: "x" });
    clock.now = 9_999;
    expect(await c.heartbeat({ clusterName: "c1", nodeId: 7n })).toBeUndefined();
    expect((await c.listNodes({ clusterName: "c1" })).nodes).toEqual([{ ...node, lastHeartbeat: 9_999n }]);
  });

  test("heartbeat of an unknown node, or of a node under another cluster name, fails and changes nothing", async () => {
    const { c, clock } = client(1_000);
    const { node } = await c.registerNode({ clusterName: "c1", nodeId: 7n, nodeIp: "ip" });
    clock.now = 2_000;
    await expect(c.heartbeat({ clusterName: "c1", nodeId: 8n })).rejects.toMatchObject({ code: "CommandFailed", message: "node 8 is not registered in cluster c1" });
    await expect(c.heartbeat({ clusterName: "c2", nodeId: 7n })).rejects.toMatchObject({ code: "CommandFailed", message: "node 7 is not registered in cluster c2" });
    expect(await c.listNodes({ clusterName: "c1" })).toEqual({ nodes: [node] });
    expect(await c.listNodes({ clusterName: "c2" })).toEqual({ nodes: [] });
  });

  test("list_nodes returns the nodes of one cluster only, in numeric node-id order", async () => {
    const { c } = client();
    // Registered out of order, with ids whose decimal strings sort differently from their values.
    for (const [cluster, id] of [["a", 30n], ["b", 1n], ["a", 2n], ["a", 2n ** 53n + 1n], ["b", 5n], ["a", 10n], ["a", U64_MAX]] as const) {
      await c.registerNode({ clusterName: cluster, nodeId: id, nodeIp: `ip-${id}` });
    }
    expect((await c.listNodes({ clusterName: "a" })).nodes.map((n) => n.nodeId)).toEqual([2n, 10n, 30n, 2n ** 53n + 1n, U64_MAX]);
    expect((await c.listNodes({ clusterName: "b" })).nodes.map((n) => n.nodeId)).toEqual([1n, 5n]);
    expect(await c.listNodes({ clusterName: "" })).toEqual({ nodes: [] });
  });

  test("extend: absent stays absent, an empty string is present, and re-registering without it clears it", async () => {
    const { c } = client();
    const without = (await c.registerNode({ clusterName: "c", nodeId: 1n, nodeIp: "ip" })).node;
    expect("extend" in without).toBe(false);
    const empty = (await c.registerNode({ clusterName: "c", nodeId: 2n, nodeIp: "ip", extend: "" })).node;
    expect(empty.extend).toBe("");
    const full = (await c.registerNode({ clusterName: "c", nodeId: 3n, nodeIp: "ip", extend: "{\"rack\":\"r1\"}" })).node;
    expect(full.extend).toBe("{\"rack\":\"r1\"}");
    const listed: BrokerNode[] = (await c.listNodes({ clusterName: "c" })).nodes;
    expect(listed.map((n) => ("extend" in n ? n.extend : "<absent>"))).toEqual(["<absent>", "", "{\"rack\":\"r1\"}"]);
    const cleared = (await c.registerNode({ clusterName: "c", nodeId: 3n, nodeIp: "ip" })).node;
    expect("extend" in cleared).toBe(false);
  });

  test("node id 2^64-1 registers, heartbeats, lists and unregisters exactly", async () => {
    const { c, clock } = client(1_000);
    const { node } = await c.registerNode({ clusterName: "c", nodeId: U64_MAX, nodeIp: "ip" });
    expect(node.nodeId).toBe(U64_MAX);
    clock.now = 2_000;
    await c.heartbeat({ clusterName: "c", nodeId: U64_MAX });
    expect((await c.listNodes({ clusterName: "c" })).nodes).toEqual([{ ...node, lastHeartbeat: 2_000n }]);
    // Its neighbour is another node.
    await expect(c.heartbeat({ clusterName: "c", nodeId: U64_MAX - 1n })).rejects.toMatchObject({ code: "CommandFailed" });
    expect(await c.unregisterNode({ clusterName: "c", nodeId: U64_MAX })).toEqual({ removed: true });
    expect(await c.listNodes({ clusterName: "c" })).toEqual({ nodes: [] });
  });

  test("node ids outside uint64 are refused before any handler runs", async () => {
    const { c } = client();
    await expect(c.registerNode({ clusterName: "c", nodeId: 2n ** 64n, nodeIp: "ip" })).rejects.toMatchObject({ code: "InvalidArgument" });
    await expect(c.registerNode({ clusterName: "c", nodeId: -1n, nodeIp: "ip" })).rejects.toMatchObject({ code: "InvalidArgument" });
    expect(await c.listNodes({ clusterName: "c" })).toEqual({ nodes: [] });
  });
});
