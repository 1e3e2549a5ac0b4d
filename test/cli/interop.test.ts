// Interoperability (issue 8, Proof 2): a running placement-center, called by a plain
// @grpc/grpc-js client built by @grpc/proto-loader from examples/placement-center/generated/
// service.proto — no generated client, no raftgen runtime on the calling side, as any gRPC
// program in any language would call it.
//
// The cluster is LocalCluster (what `raftgen cluster` runs): 3 node processes of a copy of
// examples/placement-center (the copy keeps e2e.test.ts, which runs the example itself at the
// same time, from racing this file over the example's generated/ and .raftgen/build), data and
// copy in one mkdtemp directory removed in afterAll. Ports: a base probed free on 127.0.0.1,
// picked at random below the kernel's ephemeral range, in a range e2e.test.ts does not use.
//
// Covered: Set then Get (a command and a query) with the loader's objects; RegisterNode with a
// uint64 node_id beyond 2^53 and ListNodes, 64-bit fields as exact decimal strings (loader
// option longs: String); the same calls on a follower endpoint; input bytes that are not the
// Input message (a raw serializer through makeUnaryRequest) -> INVALID_ARGUMENT, and the node
// keeps serving.

import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, findFreeBasePort } from "../../generator/cluster/supervisor.js";
import { REPO_ROOT, TEST_TUNING, waitFor } from "../cluster/harness.js";

const EXAMPLE = path.join(REPO_ROOT, "examples/placement-center");
const PROTO = path.join(EXAMPLE, "generated/service.proto");
const N = 3;
const LEADER_ADDRESS = "x-raftgen-leader-address";
const CODE = "x-raftgen-code";
const U64_MAX = "18446744073709551615";
const DEADLINE_MS = 10_000;

// ---------------------------------------------------------------------------------------
// The plain client: what @grpc/proto-loader makes of the .proto, and nothing else.

const packageDefinition = protoLoader.loadSync(PROTO, {
  keepCase: true, // field names as in the .proto (snake_case)
  longs: String, // uint64 as exact decimal strings
  enums: String,
  defaults: true,
  oneofs: true,
});
const PlacementCenter = (grpc.loadPackageDefinition(packageDefinition) as { placement: { PlacementCenter: grpc.ServiceClientConstructor } }).placement.PlacementCenter;

interface BrokerNode {
  cluster_name: string;
  node_id: string;
  node_ip: string;
  extend?: string;
  create_time: string;
  last_heartbeat: string;
}

interface Reply<T> {
  response: T;
  /** The response headers (a follower that forwarded the command names the leader there). */
  headers: grpc.Metadata | undefined;
}

/** One unary call of `method` on a proto-loader client, with a deadline; the reply and its headers. */
function call<T>(client: grpc.Client, method: string, request: object, metadata = new grpc.Metadata()): Promise<Reply<T>> {
  return new Promise((resolve, reject) => {
    let headers: grpc.Metadata | undefined;
    const fn = (client as unknown as Record<string, (...a: unknown[]) => grpc.ClientUnaryCall>)[method]!;
    const c = fn.call(client, request, metadata, { deadline: Date.now() + DEADLINE_MS }, (err: grpc.ServiceError | null, response: T) => {
      if (err) reject(err);
      else resolve({ response, headers });
    });
    c.on("metadata", (md: grpc.Metadata) => (headers = md));
  });
}

/**
 * `call`, following a leader hint once: a node that cannot serve a call itself answers
 * UNAVAILABLE with the leader's address in x-raftgen-leader-address; a plain client retries
 * there. (Followers forward commands to the leader themselves, so with a leader known this
 * retry is not needed; a follower that has no leader yet, or is no longer sure of it, answers
 * with the hint instead.) Returns the endpoint that answered.
 */
async function callFollowingHint<T>(endpoint: string, method: string, request: object): Promise<Reply<T> & { answeredBy: string }> {
  const client = new PlacementCenter(endpoint, grpc.credentials.createInsecure());
  try {
    return { ...(await call<T>(client, method, request)), answeredBy: endpoint };
  } catch (err) {
    const e = err as grpc.ServiceError;
    const hint = e.metadata?.get(LEADER_ADDRESS)[0]?.toString();
    if (e.code !== grpc.status.UNAVAILABLE || !hint) throw err;
    const leader = new PlacementCenter(hint, grpc.credentials.createInsecure());
    try {
      return { ...(await call<T>(leader, method, request)), answeredBy: hint };
    } finally {
      leader.close();
    }
  } finally {
    client.close();
  }
}

/** Send `bytes` as the request of `/placement.PlacementCenter/<rpc>` with a raw serializer. */
function rawCall(client: grpc.Client, rpc: string, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      `/placement.PlacementCenter/${rpc}`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      new grpc.Metadata(),
      { deadline: Date.now() + DEADLINE_MS },
      (err, reply) => (err ? reject(err) : resolve(reply!)),
    );
  });
}

// ---------------------------------------------------------------------------------------

/** A base P in [26000, 30000) with P..P+2 and P+1000..P+1002 free on 127.0.0.1 right now. */
const freeBase = () => findFreeBasePort({ nodes: N, from: 26_000, to: 30_000 });

describe("a plain @grpc/grpc-js client with @grpc/proto-loader and the generated service.proto", () => {
  let root: string;
  let cluster: LocalCluster | undefined;
  let leader: string;
  let follower: string;
  const clients: grpc.Client[] = [];
  const connect = (endpoint: string): grpc.Client => {
    const c = new PlacementCenter(endpoint, grpc.credentials.createInsecure());
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), "raftgen-interop-"));
    const project = path.join(root, "placement-center");
    await cp(EXAMPLE, project, {
      recursive: true,
      preserveTimestamps: true,
      filter: (src) => !/^(test|data|\.raftgen)(\/|$)/.test(path.relative(EXAMPLE, src)),
    });
    cluster = await LocalCluster.start({ project, data: path.join(root, "data"), port: await freeBase(), tuning: TEST_TUNING });
    const c = cluster;
    const leaderId = await waitFor("a leader known to every node", async () => {
      const st = await c.status();
      const leaders = [...st].filter(([, s]) => s.softState.raftState === "Leader").map(([id]) => id);
      return st.size === N && leaders.length === 1 && [...st.values()].every((s) => Number(s.softState.leaderId) === leaders[0]) ? leaders[0] : undefined;
    });
    leader = c.node(leaderId).address;
    follower = c.nodes.find((n) => n.id !== leaderId)!.address;
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await cluster?.stop();
    await rm(root, { recursive: true, force: true, maxRetries: 3 });
  });

  it("Set then Get on the leader: a command and a query", async () => {
    const c = connect(leader);
    expect((await call(c, "Set", { key: "greeting", value: "hello from proto-loader" })).response).toEqual({});
    const got = await call<{ value?: string }>(c, "Get", { key: "greeting" });
    expect(got.response.value).toBe("hello from proto-loader");
    expect((await call<{ exists: boolean }>(c, "Exists", { key: "greeting" })).response).toEqual({ exists: true });
    // proto3 `optional`: an absent value is absent, not "".
    const missing = await call<{ value?: string; _value?: string }>(c, "Get", { key: "never-set" });
    expect(missing.response._value).toBeUndefined();
    expect(missing.response.value ?? null).toBeNull();
    // A command with an output.
    expect((await call(c, "Delete", { key: "never-set" })).response).toEqual({ deleted: false });
  });

  it("RegisterNode with a uint64 node_id beyond 2^53, and ListNodes: 64-bit values exact, as strings", async () => {
    const c = connect(leader);
    const before = Date.now();
    const reg = await call<{ node: BrokerNode }>(c, "RegisterNode", { cluster_name: "mq", node_id: U64_MAX, node_ip: "10.0.0.1", extend: '{"rack":"a"}' });
    expect(reg.response.node).toMatchObject({ cluster_name: "mq", node_id: U64_MAX, node_ip: "10.0.0.1", extend: '{"rack":"a"}' });
    const created = Number(reg.response.node.create_time);
    expect(created).toBeGreaterThanOrEqual(before - 1_000);
    expect(created).toBeLessThanOrEqual(Date.now() + 1_000);
    expect(reg.response.node.last_heartbeat).toBe(reg.response.node.create_time);
    // 2^53 + 1: a JS number would round it to 2^53.
    await call(c, "RegisterNode", { cluster_name: "mq", node_id: "9007199254740993", node_ip: "10.0.0.2" });
    const listed = await call<{ nodes: BrokerNode[] }>(c, "ListNodes", { cluster_name: "mq" });
    expect(listed.response.nodes.map((n) => n.node_id).sort()).toEqual([U64_MAX, "9007199254740993"].sort());
    expect(listed.response.nodes.find((n) => n.node_id === U64_MAX)).toMatchObject({ ...reg.response.node });
    // A handler's refusal: FAILED_PRECONDITION with the handler's message and the NodeError code.
    const refused = await call(c, "Heartbeat", { cluster_name: "mq", node_id: "1" }).catch((e: grpc.ServiceError) => e);
    expect(refused).toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: expect.stringContaining("node 1 is not registered in cluster mq") });
    expect((refused as grpc.ServiceError).metadata.get(CODE)).toEqual(["CommandFailed"]);
  });

  it("a follower endpoint: the command is forwarded to the leader, the query answered, the same data seen", async () => {
    const set = await callFollowingHint(follower, "Set", { key: "via-follower", value: "forwarded" });
    expect(set.response).toEqual({});
    // The follower forwarded it (no retry needed) and named the leader in the response headers.
    expect(set.answeredBy).toBe(follower);
    expect(set.headers?.get(LEADER_ADDRESS)).toEqual([leader]);
    const reg = await callFollowingHint<{ node: BrokerNode }>(follower, "RegisterNode", { cluster_name: "edge", node_id: "18446744073709551614", node_ip: "10.0.0.9" });
    expect(reg.response.node).toMatchObject({ cluster_name: "edge", node_id: "18446744073709551614" });
    // Linearizable queries on the follower (read index through the leader) see both writes.
    const got = await callFollowingHint<{ value?: string }>(follower, "Get", { key: "via-follower" });
    expect(got.response.value).toBe("forwarded");
    const nodes = await callFollowingHint<{ nodes: BrokerNode[] }>(follower, "ListNodes", { cluster_name: "edge" });
    expect(nodes.response.nodes.map((n) => n.node_id)).toEqual(["18446744073709551614"]);
    // And the leader sees what the follower was sent, and the other way round.
    expect((await call<{ value?: string }>(connect(leader), "Get", { key: "via-follower" })).response.value).toBe("forwarded");
    expect((await callFollowingHint<{ value?: string }>(follower, "Get", { key: "greeting" })).response.value).toBe("hello from proto-loader");
  });

  it("bytes that are not the Input message -> INVALID_ARGUMENT, nothing proposed, and the node keeps serving", async () => {
    const garbage: [string, Buffer][] = [
      ["a length running past the end", Buffer.from([0x0a, 0x05, 0x61])],
      ["wire type 7", Buffer.from([0x0f])],
      ["field number 0", Buffer.from([0x00, 0x01])],
      ["text", Buffer.from("not a protobuf message")],
      ["0xff bytes", Buffer.from([0xff, 0xff, 0xff])],
      ["a string that is not UTF-8", Buffer.from([0x0a, 0x02, 0xc3, 0x28])],
    ];
    for (const endpoint of [leader, follower]) {
      const c = connect(endpoint);
      const commitBefore = Number((await cluster!.status()).get(cluster!.nodes.find((n) => n.address === leader)!.id)!.hardState.commit);
      for (const [what, bytes] of garbage) {
        for (const rpc of ["Set", "RegisterNode", "Get", "ListNodes"]) {
          const err = await rawCall(c, rpc, bytes).then(
            () => undefined,
            (e: grpc.ServiceError) => e,
          );
          expect({ endpoint, what, rpc, code: err?.code }).toEqual({ endpoint, what, rpc, code: grpc.status.INVALID_ARGUMENT });
          expect(err!.details).toMatch(/Input/);
          expect(err!.metadata.get(CODE)).toEqual(["InvalidArgument"]);
        }
      }
      // Nothing reached the log: the leader's commit index did not move (no other writer runs now).
      const commitAfter = Number((await cluster!.status()).get(cluster!.nodes.find((n) => n.address === leader)!.id)!.hardState.commit);
      expect(commitAfter).toBe(commitBefore);
      // The node keeps serving, on the same connection.
      const key = `after-garbage-${endpoint}`;
      await call(c, "Set", { key, value: "still serving" });
      expect((await call<{ value?: string }>(c, "Get", { key })).response.value).toBe("still serving");
    }
    // Valid bytes through the same raw path work: an empty message is a valid GetInput (key "").
    expect(await rawCall(connect(leader), "Get", Buffer.alloc(0))).toEqual(Buffer.alloc(0));
    // And every node process is still up.
    expect(cluster!.nodes.every((n) => n.running)).toBe(true);
  });
});
