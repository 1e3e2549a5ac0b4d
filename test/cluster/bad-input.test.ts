// Bad input against a live 3-process cluster (issue 4, proof 4; DESIGN "Errors and bad input"):
//
// - every RPC of every service (RaftTransport's three, RaftAdmin's six, StateMachine's two) on
//   every node gets random bytes, truncated messages and a foreign cluster id, and answers with
//   the right gRPC code (INVALID_ARGUMENT / FAILED_PRECONDITION); commands and membership calls
//   on a follower answer UNAVAILABLE with the leader's id and address in metadata; a snapshot
//   stream that is truncated or fails its checksum is refused; after all that every node still
//   serves (a write and a read succeed, /healthz is 200, no process exited);
// - a data directory the node must not run on stops the process at start-up with exit code 2
//   and a message naming what is wrong: another cluster's directory (both cluster ids and the
//   directory), another node's directory, and a directory with a damaged log entry (the key).

import * as grpc from "@grpc/grpc-js";
import type protobuf from "protobufjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RaftClient } from "../../runtime/client/index.js";
import { decodeMessage, encodeMessage } from "../../runtime/codec/eraftpb.js";
import { loadProtoRoot } from "../../runtime/codec/proto-files.js";
import { type Message, MessageType, newMessage } from "../../runtime/raft/index.js";
import { RocksDb } from "../../runtime/storage/rocksdb-binding.js";
import { ENTRY_PREFIX, encodeSnapshotStream, keyText } from "../../runtime/storage/index.js";
import { CLUSTER_ID_METADATA, LEADER_ADDRESS_METADATA, LEADER_ID_METADATA } from "../../runtime/server/status-codes.js";
import { json, parse } from "../node/kv-state-machine.js";
import { Cluster, httpGet, waitFor } from "./harness.js";

const FOREIGN = "some-other-cluster";
const I = grpc.status.INVALID_ARGUMENT;
const F = grpc.status.FAILED_PRECONDITION;

const transportRoot = loadProtoRoot("transport.proto");
const adminRoot = loadProtoRoot("admin.proto");
const serviceRoot = loadProtoRoot("service.proto");
const T = {
  SendRaftMessageRequest: transportRoot.lookupType("raftgen.transport.v1.SendRaftMessageRequest"),
  RaftMessageBatch: transportRoot.lookupType("raftgen.transport.v1.RaftMessageBatch"),
  SnapshotChunk: transportRoot.lookupType("raftgen.transport.v1.SnapshotChunk"),
  StatusRequest: adminRoot.lookupType("raftgen.admin.v1.StatusRequest"),
  MemberRequest: adminRoot.lookupType("raftgen.admin.v1.MemberRequest"),
  TransferLeaderRequest: adminRoot.lookupType("raftgen.admin.v1.TransferLeaderRequest"),
  CommandRequest: serviceRoot.lookupType("raftgen.service.v1.CommandRequest"),
  QueryRequest: serviceRoot.lookupType("raftgen.service.v1.QueryRequest"),
};

/** One RPC: its path, whether it is a client stream, and a valid request for node `to`. */
interface Rpc {
  path: string;
  stream: boolean;
  type: protobuf.Type;
  /** A well-formed request (object for `type`), or undefined when `type` has no useful fields. */
  valid(ctx: Ctx): Record<string, unknown>;
  /** Whether the service carries the cluster id in its frames (else in metadata). */
  framedClusterId: boolean;
}

interface Ctx {
  clusterId: string;
  to: number;
  from: number;
}

const heartbeat = (ctx: Ctx): Message => newMessage({ type: MessageType.MsgHeartbeat, from: ctx.from, to: ctx.to, term: 0 });
const snapshotHeader = (ctx: Ctx): Message =>
  newMessage({
    type: MessageType.MsgSnapshot,
    from: ctx.from,
    to: ctx.to,
    term: 0,
    snapshot: { data: new Uint8Array(), metadata: { index: 1, term: 1, confState: { voters: [1, 2, 3], learners: [] } } },
  });

const RPCS: Record<string, Rpc> = {
  SendRaftMessage: {
    path: "/raftgen.transport.v1.RaftTransport/SendRaftMessage",
    stream: false,
    type: T.SendRaftMessageRequest,
    valid: (ctx) => ({ message: encodeMessage(heartbeat(ctx)), cluster_id: ctx.clusterId }),
    framedClusterId: true,
  },
  SendRaftMessages: {
    path: "/raftgen.transport.v1.RaftTransport/SendRaftMessages",
    stream: true,
    type: T.RaftMessageBatch,
    valid: (ctx) => ({ cluster_id: ctx.clusterId, from: ctx.from, messages: [encodeMessage(heartbeat(ctx))] }),
    framedClusterId: true,
  },
  SendSnapshot: {
    path: "/raftgen.transport.v1.RaftTransport/SendSnapshot",
    stream: true,
    type: T.SnapshotChunk,
    valid: (ctx) => ({ cluster_id: ctx.clusterId, message: encodeMessage(snapshotHeader(ctx)) }),
    framedClusterId: true,
  },
  Status: { path: "/raftgen.admin.v1.RaftAdmin/Status", stream: false, type: T.StatusRequest, valid: () => ({}), framedClusterId: false },
  AddNode: {
    path: "/raftgen.admin.v1.RaftAdmin/AddNode",
    stream: false,
    type: T.MemberRequest,
    valid: () => ({ node_id: 9, address: "127.0.0.1:9" }),
    framedClusterId: false,
  },
  AddLearner: {
    path: "/raftgen.admin.v1.RaftAdmin/AddLearner",
    stream: false,
    type: T.MemberRequest,
    valid: () => ({ node_id: 9, address: "127.0.0.1:9" }),
    framedClusterId: false,
  },
  Promote: { path: "/raftgen.admin.v1.RaftAdmin/Promote", stream: false, type: T.MemberRequest, valid: () => ({ node_id: 9 }), framedClusterId: false },
  RemoveNode: { path: "/raftgen.admin.v1.RaftAdmin/RemoveNode", stream: false, type: T.MemberRequest, valid: () => ({ node_id: 9 }), framedClusterId: false },
  TransferLeader: {
    path: "/raftgen.admin.v1.RaftAdmin/TransferLeader",
    stream: false,
    type: T.TransferLeaderRequest,
    valid: (ctx) => ({ to: ctx.to }),
    framedClusterId: false,
  },
  Command: {
    path: "/raftgen.service.v1.StateMachine/Command",
    stream: false,
    type: T.CommandRequest,
    valid: () => ({ command: "set", payload: json({ key: "bad-input", value: "x" }), client_id: "bad-input-client", sequence: 1 }),
    framedClusterId: false,
  },
  Query: {
    path: "/raftgen.service.v1.StateMachine/Query",
    stream: false,
    type: T.QueryRequest,
    valid: () => ({ query: "get", payload: json({ key: "bad-input" }), consistency: "stale" }),
    framedClusterId: false,
  },
};

/** mulberry32, so the "random" bytes are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const decodes = (type: protobuf.Type, bytes: Uint8Array): boolean => {
  try {
    type.decode(bytes);
    return true;
  } catch {
    return false;
  }
};

/** Random bytes that `type` cannot decode (protobuf accepts many byte strings; those are skipped). */
function randomUndecodable(type: protobuf.Type, rand: () => number): Buffer {
  for (let attempt = 0; attempt < 1_000; attempt++) {
    const b = Buffer.alloc(1 + Math.floor(rand() * 96));
    for (let i = 0; i < b.length; i++) b[i] = Math.floor(rand() * 256);
    if (!decodes(type, b)) return b;
  }
  throw new Error(`no undecodable random bytes for ${type.name} in 1000 tries`);
}

/**
 * `bytes` cut short so that it no longer decodes with `decode`: the longest such prefix. A
 * message with nothing to cut (empty) gets a field header promising bytes that never come.
 */
function truncated(bytes: Uint8Array, decode: (b: Uint8Array) => unknown): Buffer {
  const ok = (b: Uint8Array) => {
    try {
      decode(b);
      return true;
    } catch {
      return false;
    }
  };
  for (let n = bytes.length - 1; n > 0; n--) {
    const b = Buffer.from(bytes.subarray(0, n));
    if (!ok(b)) return b;
  }
  return Buffer.concat([Buffer.from(bytes), Buffer.from([0x7a, 0x10, 0x01])]);
}

const identity = (b: Buffer) => b;

interface Answer {
  code: grpc.status;
  details: string;
  /** Trailing metadata of an error. */
  metadata: grpc.Metadata | undefined;
  /** Response headers (initial metadata), when the server sent any. */
  headers: grpc.Metadata | undefined;
}

class Raw {
  private readonly client: grpc.Client;
  constructor(address: string) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure());
  }

  /** Send raw frames to an RPC (one for unary); resolves with the status the server answered. */
  call(rpc: Rpc, frames: Buffer[], o: { metadata?: Record<string, string>; end?: boolean } = {}): Promise<Answer> {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(o.metadata ?? {})) md.set(k, v);
    const deadline = Date.now() + 5_000;
    return new Promise((resolve) => {
      let headers: grpc.Metadata | undefined;
      const done = (err: grpc.ServiceError | null) =>
        resolve(err ? { code: err.code, details: err.details, metadata: err.metadata, headers } : { code: grpc.status.OK, details: "", metadata: undefined, headers });
      if (!rpc.stream) {
        const call = this.client.makeUnaryRequest(rpc.path, identity, identity, frames[0]!, md, { deadline }, (err) => done(err));
        call.on("metadata", (h: grpc.Metadata) => (headers = h));
        return;
      }
      const call = this.client.makeClientStreamRequest(rpc.path, identity, identity, md, { deadline }, (err) => done(err));
      call.on("error", () => undefined);
      for (const f of frames) call.write(f);
      if (o.end ?? true) call.end();
    });
  }

  close(): void {
    this.client.close();
  }
}

let c: Cluster;
let raws: Map<number, Raw>;
let leader: number;

beforeAll(async () => {
  c = await Cluster.start({ size: 3 });
  leader = await c.waitForLeader();
  raws = new Map(c.live().map((id) => [id, new Raw(c.node(id).grpcAddress)]));
  // A known key, so reads have something to read.
  await c.client().command("set", json({ key: "before", value: "1" }));
}, 60_000);

afterAll(async () => {
  for (const r of raws?.values() ?? []) r.close();
  await c?.stopAll();
});

/** Every node still runs, knows a leader and serves a write and a linearizable read. */
async function expectServing(tag: string): Promise<void> {
  for (const id of [1, 2, 3]) {
    expect(c.node(id).running, `node ${id} still running after ${tag}\n${c.logs()}`).toBe(true);
    const h = await waitFor(`node ${id} /healthz 200 after ${tag}`, async () => {
      const r = await httpGet(c.node(id).httpAddress, "/healthz");
      return r.status === 200 ? r : undefined;
    }, { timeoutMs: 10_000 });
    expect(h.body).toMatch(/^ok/);
  }
  const cl = c.client();
  await cl.command("set", json({ key: `after-${tag}`, value: tag }));
  for (const id of [1, 2, 3]) {
    const one = c.client({ ids: [id] });
    const r = parse<{ value?: string }>((await one.query("get", json({ key: `after-${tag}` }), "linearizable")).output);
    expect(r.value, `read on node ${id} after ${tag}`).toBe(tag);
  }
}

describe("bad input from the network", () => {
  it("answers random bytes on every RPC of every node with INVALID_ARGUMENT", async () => {
    const rand = prng(42);
    const got: string[] = [];
    for (const [id, raw] of raws) {
      for (const [name, rpc] of Object.entries(RPCS)) {
        for (let k = 0; k < 3; k++) {
          const a = await raw.call(rpc, [randomUndecodable(rpc.type, rand)]);
          got.push(`${id} ${name} ${grpc.status[a.code]}`);
          expect(a.code, `node ${id} ${name}: ${a.details}`).toBe(I);
          expect(a.details).toMatch(/malformed|invalid|index out of range/i);
        }
      }
    }
    expect(got.length).toBe(3 * 11 * 3);
    await expectServing("random-bytes");
  });

  it("answers truncated requests and truncated Raft messages with INVALID_ARGUMENT", async () => {
    for (const [id, raw] of raws) {
      const ctx = { clusterId: c.clusterId, to: id, from: id === 1 ? 2 : 1 };
      for (const [name, rpc] of Object.entries(RPCS)) {
        const whole = rpc.type.encode(rpc.type.fromObject(rpc.valid(ctx))).finish();
        const cut = truncated(whole, (b) => rpc.type.decode(b));
        const a = await raw.call(rpc, [cut]);
        expect(a.code, `node ${id} ${name} truncated: ${a.details}`).toBe(I);
      }
      // A well-formed frame whose Raft message is cut short.
      const hb = encodeMessage(heartbeat(ctx));
      const cutMsg = truncated(hb, decodeMessage);
      const frames = {
        SendRaftMessage: { message: cutMsg, cluster_id: c.clusterId },
        SendRaftMessages: { cluster_id: c.clusterId, from: ctx.from, messages: [cutMsg] },
        SendSnapshot: { cluster_id: c.clusterId, message: cutMsg },
      } as const;
      for (const [name, obj] of Object.entries(frames)) {
        const rpc = RPCS[name]!;
        const a = await raw.call(rpc, [Buffer.from(rpc.type.encode(rpc.type.fromObject(obj)).finish())]);
        expect(a.code, `node ${id} ${name} with a truncated Raft message: ${a.details}`).toBe(I);
        expect(a.details).toMatch(/undecodable raft message/);
      }
    }
    await expectServing("truncated");
  });

  it("answers a foreign cluster id on every RPC with FAILED_PRECONDITION", async () => {
    for (const [id, raw] of raws) {
      const ctx = { clusterId: FOREIGN, to: id, from: id === 1 ? 2 : 1 };
      for (const [name, rpc] of Object.entries(RPCS)) {
        const bytes = Buffer.from(rpc.type.encode(rpc.type.fromObject(rpc.valid(ctx))).finish());
        // Transport frames name their cluster; clients name it in metadata.
        const a = await raw.call(rpc, [bytes], rpc.framedClusterId ? {} : { metadata: { [CLUSTER_ID_METADATA]: FOREIGN } });
        expect(a.code, `node ${id} ${name} from ${FOREIGN}: ${a.details}`).toBe(F);
        expect(a.details).toContain(FOREIGN);
        expect(a.details).toContain(c.clusterId);
      }
    }
    // The client option that sends the metadata, end to end.
    const foreign = new RaftClient({ endpoints: [c.node(leader).grpcAddress], clusterId: FOREIGN, deadlineMs: 3_000 });
    try {
      await expect(foreign.command("set", json({ key: "foreign", value: "x" }))).rejects.toMatchObject({ code: "FailedPrecondition" });
      await expect(foreign.query("get", json({ key: "before" }))).rejects.toMatchObject({ code: "FailedPrecondition" });
      await expect(foreign.admin("Status", {})).rejects.toMatchObject({ code: "FailedPrecondition" });
    } finally {
      foreign.close();
    }
    // The right cluster id is accepted.
    const own = new RaftClient({ endpoints: [c.node(leader).grpcAddress], clusterId: c.clusterId, deadlineMs: 5_000 });
    try {
      await own.command("set", json({ key: "own", value: "y" }));
    } finally {
      own.close();
    }
    await expectServing("foreign-cluster");
  });

  it("answers well-formed but invalid requests precisely", async () => {
    const raw = raws.get(leader)!;
    const enc = (rpc: Rpc, obj: Record<string, unknown>) => Buffer.from(rpc.type.encode(rpc.type.fromObject(obj)).finish());
    const cases: [string, Buffer, grpc.status, RegExp][] = [
      ["Command", enc(RPCS.Command!, { command: "" }), I, /command is empty/],
      ["Command", enc(RPCS.Command!, { command: "nope", payload: json({}) }), I, /unknown command/],
      ["Command", enc(RPCS.Command!, { command: "set", payload: json({}), client_id: "c", sequence: 0 }), I, /sequence >= 1/],
      ["Query", enc(RPCS.Query!, { query: "get", payload: json({ key: "a" }), consistency: "eventual" }), I, /consistency/],
      ["Query", enc(RPCS.Query!, { query: "" }), I, /query is empty/],
      ["Promote", enc(RPCS.Promote!, { node_id: 0 }), I, /node_id must be >= 1/],
      ["AddLearner", enc(RPCS.AddLearner!, { node_id: 9 }), I, /needs the node's address/],
      ["SendRaftMessage", enc(RPCS.SendRaftMessage!, { message: encodeMessage(heartbeat({ clusterId: "", to: 99, from: 1 })), cluster_id: c.clusterId }), F, /for node 99/],
      ["SendRaftMessage", enc(RPCS.SendRaftMessage!, { message: encodeMessage(newMessage({ type: MessageType.MsgHup, from: 1, to: leader })), cluster_id: c.clusterId }), I, /local message/],
      ["SendRaftMessages", enc(RPCS.SendRaftMessages!, { cluster_id: c.clusterId, from: 3, messages: [encodeMessage(heartbeat({ clusterId: "", to: leader, from: 2 }))] }), I, /in a batch from/],
    ];
    for (const [name, bytes, code, re] of cases) {
      const a = await raw.call(RPCS[name]!, [bytes]);
      expect(a.code, `${name}: ${a.details}`).toBe(code);
      expect(a.details).toMatch(re);
    }
    await expectServing("invalid-requests");
  });

  it("answers membership calls (and commands it may not forward) on a follower with UNAVAILABLE and the leader's address", async () => {
    leader = await c.waitForLeader();
    const leaderAddress = c.node(leader).grpcAddress;
    for (const id of [1, 2, 3].filter((x) => x !== leader)) {
      const raw = raws.get(id)!;
      const valid = (rpc: Rpc) => Buffer.from(rpc.type.encode(rpc.type.fromObject(rpc.valid({ clusterId: c.clusterId, to: id, from: leader }))).finish());
      for (const name of ["AddNode", "AddLearner", "Promote", "RemoveNode", "TransferLeader"]) {
        const a = await raw.call(RPCS[name]!, [valid(RPCS[name]!)]);
        expect(a.code, `node ${id} ${name}: ${a.details}`).toBe(grpc.status.UNAVAILABLE);
        expect(a.metadata?.get(LEADER_ID_METADATA)[0]?.toString()).toBe(String(leader));
        expect(a.metadata?.get(LEADER_ADDRESS_METADATA)[0]?.toString()).toBe(leaderAddress);
      }
      // A command is forwarded to the leader (one hop), and the reply names the leader so that
      // the client goes there next time ...
      const fwd = await raw.call(RPCS.Command!, [valid(RPCS.Command!)]);
      expect(fwd.code, `node ${id} Command: ${fwd.details}`).toBe(grpc.status.OK);
      expect(fwd.headers?.get(LEADER_ADDRESS_METADATA)[0]?.toString()).toBe(leaderAddress);
      // ... but a command already forwarded once (x-raftgen-forwarded, set by the forwarding
      // node) is never forwarded again: UNAVAILABLE with the hint.
      const twice = await raw.call(RPCS.Command!, [valid(RPCS.Command!)], { metadata: { "x-raftgen-forwarded": "1" } });
      expect(twice.code, `node ${id} forwarded Command: ${twice.details}`).toBe(grpc.status.UNAVAILABLE);
      expect(twice.metadata?.get(LEADER_ID_METADATA)[0]?.toString()).toBe(String(leader));
      expect(twice.metadata?.get(LEADER_ADDRESS_METADATA)[0]?.toString()).toBe(leaderAddress);
      // Queries are served by followers (stale here: local state).
      const q = await raw.call(RPCS.Query!, [Buffer.from(T.QueryRequest.encode(T.QueryRequest.fromObject({ query: "get", payload: json({ key: "before" }), consistency: "stale" })).finish())]);
      expect(q.code).toBe(grpc.status.OK);
    }
    await expectServing("follower");
  });

  it("refuses snapshot streams that are truncated or fail their checksum, and the follower keeps running", async () => {
    leader = await c.waitForLeader();
    const follower = [1, 2, 3].find((x) => x !== leader)!;
    const st = await c.status(follower);
    // A header the follower would act on: from its leader, its term, an index ahead of it.
    const md = { index: st.hardState.commit + 1_000, term: st.hardState.term, confState: { voters: [1, 2, 3], learners: [] } };
    const header = encodeMessage(
      newMessage({ type: MessageType.MsgSnapshot, from: leader, to: follower, term: st.hardState.term, snapshot: { data: new Uint8Array(), metadata: md } }),
    );
    const chunks: Uint8Array[] = [];
    for await (const ch of encodeSnapshotStream(md, [], 16)) chunks.push(ch);
    const data = Buffer.concat(chunks);
    const frame = (o: Record<string, unknown>) => Buffer.from(T.SnapshotChunk.encode(T.SnapshotChunk.fromObject(o)).finish());
    const raw = raws.get(follower)!;

    // 1. The stream ends before its last chunk.
    const cut = await raw.call(RPCS.SendSnapshot!, [frame({ cluster_id: c.clusterId, message: header, data: data.subarray(0, 20) })]);
    expect(cut.code, `truncated snapshot stream: ${cut.details}`).toBe(I);
    // 2. Complete, but one bit flipped (the trailer's CRC no longer matches).
    const flipped = Buffer.from(data);
    flipped[flipped.length - 1]! ^= 0x01;
    const bad = await raw.call(RPCS.SendSnapshot!, [frame({ cluster_id: c.clusterId, message: header, data: flipped, last: true })]);
    expect(bad.code, `corrupt snapshot stream: ${bad.details}`).toBe(I);
    expect(bad.details).toMatch(/checksum/);
    // 3. A MsgSnapshot on the message path (no data can follow it there).
    const viaMsg = await raw.call(RPCS.SendRaftMessage!, [Buffer.from(T.SendRaftMessageRequest.encode(T.SendRaftMessageRequest.fromObject({ message: header, cluster_id: c.clusterId })).finish())]);
    expect(viaMsg.code, `MsgSnapshot via SendRaftMessage: ${viaMsg.details}`).toBe(I);

    await expectServing("snapshot");
    const after = await c.status(follower);
    expect(after.fatal).toBeUndefined();
    expect(after.applied).toBeLessThan(md.index);
  });
});

describe("data directories a node must not run on", () => {
  it("refuses another cluster's directory, another node's directory and a damaged log entry (exit 2)", async () => {
    const victim = [1, 2, 3].find((x) => x !== leader)!;
    const n = c.node(victim);
    const exit = await c.stop(victim);
    expect(exit?.code).toBe(0);
    const dir = n.config.dataDir;

    // Another cluster's directory.
    const foreign = await c.runOnce({ ...n.config, clusterId: FOREIGN }, "foreign-cluster");
    expect(foreign.ready, foreign.stderr).toBeUndefined();
    expect(foreign.exit?.code, foreign.stderr).toBe(2);
    expect(foreign.stderr).toContain(`"${c.clusterId}"`);
    expect(foreign.stderr).toContain(`"${FOREIGN}"`);
    expect(foreign.stderr).toContain(dir);

    // Another node's directory.
    const other = await c.runOnce({ ...n.config, id: 7 }, "other-node");
    expect(other.exit?.code, other.stderr).toBe(2);
    expect(other.stderr).toMatch(new RegExp(`belongs to node ${victim}, not node 7`));
    expect(other.stderr).toContain(dir);

    // A damaged log entry: flip one byte of the last entry's value with raw RocksDB writes.
    const db = await RocksDb.open(dir, { createIfMissing: false });
    let key: Buffer | undefined;
    let value: Buffer | undefined;
    try {
      const it = db.iterator({ gte: ENTRY_PREFIX, lt: Buffer.from("/raft/entry0", "latin1"), reverse: true });
      try {
        const kv = await it.next();
        expect(kv, "the stopped node has log entries").toBeDefined();
        [key, value] = kv!;
      } finally {
        await it.end();
      }
      const damaged = Buffer.from(value);
      damaged[Math.floor(damaged.length / 2)]! ^= 0x5a;
      await db.write([{ type: "put", key, value: damaged }], { sync: true });
    } finally {
      await db.close();
    }
    const corrupt = await c.runOnce(n.config, "damaged-entry");
    expect(corrupt.exit?.code, corrupt.stderr).toBe(2);
    expect(corrupt.stderr).toContain(keyText(key));
    expect(corrupt.stderr).toContain(dir);
    expect(corrupt.stderr).toMatch(/checksum mismatch/);

    // The refusals changed nothing: with the byte restored the node starts and catches up.
    const db2 = await RocksDb.open(dir, { createIfMissing: false });
    try {
      await db2.write([{ type: "put", key, value }], { sync: true });
    } finally {
      await db2.close();
    }
    await c.restart(victim);
    const commit = (await c.status(await c.waitForLeader())).hardState.commit;
    await c.waitForApplied(commit, [victim], { timeoutMs: 20_000 });
    await expectServing("restarted");
    await c.expectHealthy([1, 2, 3]);
    for (const r of raws.values()) r.close();
    raws.clear();
    await c.stopAllCleanly();
  });
});
