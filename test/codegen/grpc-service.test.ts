// The spec's typed gRPC service on real NodeServers (RocksDB in mkdtemp directories, gRPC on
// 127.0.0.1): `/<package>.<Service>/<Rpc>` called with a raw grpc-js client as any gRPC
// client would, sessions and consistency through metadata, bad payloads answered
// INVALID_ARGUMENT while the node keeps serving, a follower forwarding typed commands to the
// leader; and ServiceClient over the generic service of the same nodes.

import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CONSISTENCY_METADATA,
  SESSION_CLIENT_ID_METADATA,
  SESSION_SEQUENCE_METADATA,
  ServiceClient,
  createServiceStateMachine,
  isNodeError,
  typedServiceDefinition,
  typedServices,
} from "raftgen/runtime/codegen-v1";
import { type NodeServer, startNodeServer } from "../../runtime/server/server.js";
import { CODE_METADATA, LEADER_ADDRESS_METADATA } from "../../runtime/server/status-codes.js";
import { kv, kvHandlers } from "./fixtures.js";

const TUNING = { tickMs: 20, electionTicks: 10, heartbeatTicks: 2, proposalTimeoutMs: 4000, readTimeoutMs: 4000 };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor<T>(f: () => T | undefined | false, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Reply {
  err: grpc.ServiceError | null;
  bytes?: Buffer;
  headers: grpc.Metadata | undefined;
}

/** A raw unary call, as a non-TypeScript gRPC client would make it. */
function call(client: grpc.Client, rpc: string, body: Uint8Array, md: Record<string, string> = {}): Promise<Reply> {
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(md)) metadata.set(k, v);
  return new Promise((resolve) => {
    let headers: grpc.Metadata | undefined;
    const c = client.makeUnaryRequest(
      `/test.kv.Kv/${rpc}`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from(body),
      metadata,
      { deadline: Date.now() + 8000 },
      (err, bytes) => resolve({ err, ...(bytes ? { bytes } : {}), headers }),
    );
    c.on("metadata", (m: grpc.Metadata) => (headers = m));
  });
}

async function startCluster(size: number): Promise<{ servers: NodeServer[]; root: string }> {
  const root = await mkdtemp(path.join(tmpdir(), "raftgen-codegen-"));
  const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
  const peers = new Map(ports.map((p, i) => [i + 1, `127.0.0.1:${p}`] as [number, string]));
  const servers = await Promise.all(
    ports.map((grpcPort, i) =>
      startNodeServer({
        id: i + 1,
        clusterId: "codegen-test",
        dataDir: path.join(root, `n${i + 1}`),
        grpcPort,
        httpPort: 0,
        peers,
        stateMachine: createServiceStateMachine(kv, kvHandlers),
        services: typedServices(kv),
        node: TUNING,
      }),
    ),
  );
  return { servers, root };
}

describe("typed gRPC service, one node", () => {
  let servers: NodeServer[] = [];
  let root = "";
  let client: grpc.Client;

  beforeAll(async () => {
    ({ servers, root } = await startCluster(1));
    await waitFor(() => servers[0]!.node.isLeader());
    client = new grpc.Client(servers[0]!.grpcAddress, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    client?.close();
    for (const s of servers) await s.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("serves commands and queries on /<package>.<Service>/<Rpc> with message bytes", async () => {
    const set = await call(client, "Set", kv.encode("SetInput", { key: "a", value: "1" }));
    expect(set.err).toBeNull();
    expect(set.bytes!.length).toBe(0); // SetOutput is empty
    const get = await call(client, "Get", kv.encode("GetInput", { key: "a" }));
    expect(kv.decode("GetOutput", get.bytes!)).toEqual({ value: "1" });
    const del = await call(client, "Delete", kv.encode("DeleteInput", { key: "a" }));
    expect(kv.decode("DeleteOutput", del.bytes!)).toEqual({ deleted: true });
    const add = await call(client, "Add", kv.encode("AddInput", { by: 2n ** 62n, at: -(2n ** 63n) }));
    expect(kv.decode("AddOutput", add.bytes!)).toMatchObject({ total: 2n ** 62n });
  });

  it("works through a grpc-js generic client built from typedServiceDefinition", async () => {
    const Ctor = grpc.makeGenericClientConstructor(typedServiceDefinition(kv), "Kv");
    const c = new Ctor(servers[0]!.grpcAddress, grpc.credentials.createInsecure()) as unknown as Record<string, (req: Uint8Array, cb: (err: grpc.ServiceError | null, res: Buffer) => void) => void> & grpc.Client;
    const res = await new Promise<Buffer>((resolve, reject) => c.Count!(kv.encode("CountInput", {}), (err, r) => (err ? reject(err) : resolve(r))));
    expect(kv.decode("CountOutput", res)).toEqual({ count: 0n });
    c.close();
  });

  it("an exactly-once session through metadata: a retried sequence is applied once", async () => {
    const md = { [SESSION_CLIENT_ID_METADATA]: "client-1", [SESSION_SEQUENCE_METADATA]: "1" };
    const body = kv.encode("AddInput", { by: 5n, at: 1n });
    const first = kv.decode("AddOutput", (await call(client, "Add", body, md)).bytes!);
    const retry = kv.decode("AddOutput", (await call(client, "Add", body, md)).bytes!);
    expect(retry).toEqual(first);
    const next = kv.decode<{ total: bigint }>("AddOutput", (await call(client, "Add", body, { ...md, [SESSION_SEQUENCE_METADATA]: "2" })).bytes!);
    expect(next.total).toBe(10n);
  });

  it("query consistency through metadata, defaulting to the spec's", async () => {
    const body = kv.encode("GetInput", { key: "nothing" });
    for (const c of ["linearizable", "lease", "stale"]) expect((await call(client, "Get", body, { [CONSISTENCY_METADATA]: c })).err).toBeNull();
    const bad = await call(client, "Get", body, { [CONSISTENCY_METADATA]: "eventual" });
    expect(bad.err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(bad.err?.details).toBe('x-raftgen-consistency: consistency "eventual" is not linearizable, lease or stale');
  });

  it("bad payloads and bad metadata are INVALID_ARGUMENT, nothing is proposed, and the node keeps serving", async () => {
    const before = servers[0]!.node.status().lastIndex;
    const bad = await call(client, "Set", new Uint8Array([0x0a, 0x09, 0x41]));
    expect(bad.err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(bad.err?.details).toBe("SetInput.key: length 9 runs past the end of its message");
    expect(bad.err?.metadata.get(CODE_METADATA)[0]?.toString()).toBe("InvalidArgument");
    const wrongType = await call(client, "Get", new Uint8Array([0x08, 0x01]));
    expect(wrongType.err?.details).toBe("GetInput.key: wire type 0 where string has 2");
    const noSeq = await call(client, "Set", kv.encode("SetInput", { key: "k", value: "v" }), { [SESSION_CLIENT_ID_METADATA]: "c" });
    expect(noSeq.err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    const badSeq = await call(client, "Set", kv.encode("SetInput", { key: "k", value: "v" }), { [SESSION_CLIENT_ID_METADATA]: "c", [SESSION_SEQUENCE_METADATA]: "x" });
    expect(badSeq.err?.details).toBe("x-raftgen-sequence: x is not a safe non-negative integer");
    expect(servers[0]!.node.status().lastIndex).toBe(before);

    const ok = await call(client, "Set", kv.encode("SetInput", { key: "still", value: "here" }));
    expect(ok.err).toBeNull();
    expect(kv.decode("GetOutput", (await call(client, "Get", kv.encode("GetInput", { key: "still" }))).bytes!)).toEqual({ value: "here" });
  });

  it("handler failures map like the generic service's (CommandFailed -> FAILED_PRECONDITION)", async () => {
    const r = await call(client, "FailAfterWrite", kv.encode("SetInput", { key: "x", value: "y" }));
    expect(r.err?.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(r.err?.details).toBe("refusing x");
    expect(r.err?.metadata.get(CODE_METADATA)[0]?.toString()).toBe("CommandFailed");
    const q = await call(client, "PutInQuery", kv.encode("SetInput", { key: "x", value: "y" }));
    expect(q.err?.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(q.err?.details).toMatch(/query put_in_query failed: .*put is not a function/);
  });

  it("a wrong cluster id in metadata is refused", async () => {
    const r = await call(client, "Get", kv.encode("GetInput", { key: "a" }), { "x-raftgen-cluster-id": "other" });
    expect(r.err?.code).toBe(grpc.status.FAILED_PRECONDITION);
  });

  it("ServiceClient: typed calls over the generic service; bad input is InvalidArgument before any call", async () => {
    const c = new ServiceClient(kv, { endpoints: [servers[0]!.grpcAddress] });
    try {
      expect(await c.command("set", { key: "sc", value: "v" })).toBeUndefined();
      expect(await c.query("get", { key: "sc" })).toEqual({ value: "v" });
      expect(await c.query("count", {}, { consistency: "linearizable" })).toMatchObject({ count: expect.any(BigInt) });
      expect(await c.command("delete", { key: "sc" })).toEqual({ deleted: true });
      const before = servers[0]!.node.status().lastIndex;
      const err = await c.command("set", { key: 1 }).catch((e: unknown) => e);
      expect(isNodeError(err, "InvalidArgument")).toBe(true);
      expect((err as Error).message).toBe("SetInput.key: expected a string, got number 1");
      expect(isNodeError(await c.command("nope", {}).catch((e: unknown) => e), "InvalidArgument")).toBe(true);
      expect(isNodeError(await c.query("get", { key: "a" }, { consistency: "bogus" as never }).catch((e: unknown) => e), "InvalidArgument")).toBe(true);
      expect(servers[0]!.node.status().lastIndex).toBe(before);
      const failed = await c.command("fail_after_write", { key: "k", value: "v" }).catch((e: unknown) => e);
      expect(isNodeError(failed, "CommandFailed")).toBe(true);
      expect(c.raw.endpoint()).toBe(servers[0]!.grpcAddress);
    } finally {
      c.close();
    }
  });
});

describe("typed gRPC service, three nodes", () => {
  let servers: NodeServer[] = [];
  let root = "";

  beforeAll(async () => {
    ({ servers, root } = await startCluster(3));
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("a follower forwards a typed command (with its session) to the leader and names the leader", async () => {
    const leader = await waitFor(() => servers.find((s) => s.node.isLeader()));
    const follower = await waitFor(() => servers.find((s) => !s.node.isLeader() && s.node.leader().address === leader.grpcAddress));
    const client = new grpc.Client(follower.grpcAddress, grpc.credentials.createInsecure());
    try {
      const md = { [SESSION_CLIENT_ID_METADATA]: "fwd", [SESSION_SEQUENCE_METADATA]: "1" };
      const body = kv.encode("AddInput", { by: 3n, at: 0n });
      const first = await call(client, "Add", body, md);
      expect(first.err).toBeNull();
      expect(first.headers?.get(LEADER_ADDRESS_METADATA)[0]?.toString()).toBe(leader.grpcAddress);
      expect(kv.decode("AddOutput", first.bytes!)).toMatchObject({ total: 3n });
      // The retry goes through the follower again: the session travelled with the forward.
      const retry = await call(client, "Add", body, md);
      expect(kv.decode("AddOutput", retry.bytes!)).toEqual(kv.decode("AddOutput", first.bytes!));
      // Bad input is refused by the follower itself.
      const bad = await call(client, "Add", new Uint8Array([0x08]));
      expect(bad.err?.code).toBe(grpc.status.INVALID_ARGUMENT);
      // Queries are served where they arrive.
      const list = await call(client, "List", new Uint8Array(0), { [CONSISTENCY_METADATA]: "linearizable" });
      expect(kv.decode("ListOutput", list.bytes!)).toEqual({ keys: [0n], totals: [3n] });
    } finally {
      client.close();
    }
  });
});
