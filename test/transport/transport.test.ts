// The gRPC peer transport over real sockets on 127.0.0.1 (ports chosen by the OS): delivery
// and batching on the stream fast path, the unary path, chunked snapshots, bounded queues,
// unreachable peers, and the gateway's answers to bad input (INVALID_ARGUMENT for frames that
// do not decode, FAILED_PRECONDITION for another cluster or another node) — after which the
// server keeps serving.

import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { encodeMessage } from "../../runtime/codec/eraftpb.js";
import { type Message, MessageType, newMessage } from "../../runtime/raft/index.js";
import {
  GrpcTransport,
  TRANSPORT_SERVER_OPTIONS,
  raftTransportDefinition,
  type TransportEvents,
} from "../../runtime/transport/index.js";

interface Harness {
  t: GrpcTransport;
  server: grpc.Server;
  port: number;
  received: Message[];
  unreachable: number[];
  snapshots: { m: Message; data: Uint8Array[] }[];
  snapshotStatus: [number, string][];
}

const open: Harness[] = [];

async function start(nodeId: number, clusterId = "c1", events: Partial<TransportEvents> = {}, maxQueuedMessages = 4096): Promise<Harness> {
  const h = { received: [], unreachable: [], snapshots: [], snapshotStatus: [] } as unknown as Harness;
  h.t = new GrpcTransport({ clusterId, nodeId, maxQueuedMessages, backoffMinMs: 20, backoffMaxMs: 100 });
  h.t.start({
    onMessage: (m) => h.received.push(m),
    onSnapshot: async (m, data) => {
      const chunks: Uint8Array[] = [];
      for await (const c of data) chunks.push(c);
      h.snapshots.push({ m, data: chunks });
    },
    onUnreachable: (id) => h.unreachable.push(id),
    onSnapshotStatus: (id, s) => h.snapshotStatus.push([id, s]),
    ...events,
  });
  h.server = new grpc.Server(TRANSPORT_SERVER_OPTIONS);
  h.server.addService(raftTransportDefinition, h.t.serviceImplementation());
  h.port = await new Promise<number>((resolve, reject) =>
    h.server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
  open.push(h);
  return h;
}

afterEach(async () => {
  for (const h of open.splice(0)) {
    h.t.close();
    await new Promise<void>((r) => h.server.tryShutdown(() => r()));
  }
});

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

const app = (from: number, to: number, index: number): Message =>
  newMessage({ type: MessageType.MsgAppend, from, to, term: 1, index, logTerm: 1, commit: index });

/** A raw client for sending arbitrary bytes to the RaftTransport methods. */
function rawClient(port: number): grpc.Client {
  return new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

function rawUnary(client: grpc.Client, bytes: Buffer): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) =>
    client.makeUnaryRequest(
      raftTransportDefinition.SendRaftMessage!.path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      (err) => resolve(err),
    ),
  );
}

function rawStream(client: grpc.Client, method: "SendRaftMessages" | "SendSnapshot", frames: Buffer[]): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) => {
    const call = client.makeClientStreamRequest(
      raftTransportDefinition[method]!.path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      (err) => resolve(err),
    );
    call.on("error", () => {});
    for (const f of frames) call.write(f);
    call.end();
  });
}

const encodeFrame = (method: "SendRaftMessages" | "SendSnapshot" | "SendRaftMessage", value: object): Buffer =>
  Buffer.from(raftTransportDefinition[method]!.requestSerialize(value) as Uint8Array);

describe("GrpcTransport", () => {
  it("delivers messages in order over the long-lived stream, batched", async () => {
    const a = await start(1);
    const b = await start(2);
    a.t.addPeer(2, `127.0.0.1:${b.port}`);
    const msgs = Array.from({ length: 1000 }, (_, i) => app(1, 2, i + 1));
    a.t.send(msgs.slice(0, 10));
    a.t.send(msgs.slice(10));
    await until(() => b.received.length === 1000);
    expect(b.received.map((m) => m.index)).toEqual(msgs.map((m) => m.index));
    // 1000 messages in far fewer frames than messages: batching works.
    expect(a.t.stats.sentBatches).toBeLessThan(100);
    expect(b.received[0]).toEqual(msgs[0]);
  });

  it("accepts a single message on the unary SendRaftMessage", async () => {
    const b = await start(2);
    const c = rawClient(b.port);
    const err = await rawUnary(c, encodeFrame("SendRaftMessage", { cluster_id: "c1", message: encodeMessage(app(1, 2, 7)) }));
    expect(err).toBeNull();
    expect(b.received.map((m) => m.index)).toEqual([7]);
    c.close();
  });

  it("answers bad input with INVALID_ARGUMENT / FAILED_PRECONDITION and keeps serving", async () => {
    const b = await start(2);
    const c = rawClient(b.port);
    const random = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff));
    // Unary: random bytes, a truncated message, another cluster, another node, a local message type.
    expect((await rawUnary(c, random))?.code).toBe(grpc.status.INVALID_ARGUMENT);
    const good = encodeMessage(app(1, 2, 3));
    const truncated = encodeFrame("SendRaftMessage", { cluster_id: "c1", message: good.subarray(0, good.length - 3) });
    expect((await rawUnary(c, truncated))?.code).toBe(grpc.status.INVALID_ARGUMENT);
    const foreign = encodeFrame("SendRaftMessage", { cluster_id: "other", message: good });
    const foreignErr = await rawUnary(c, foreign);
    expect(foreignErr?.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(foreignErr?.details).toContain("cluster id mismatch");
    const misrouted = encodeFrame("SendRaftMessage", { cluster_id: "c1", message: encodeMessage(app(1, 3, 3)) });
    expect((await rawUnary(c, misrouted))?.code).toBe(grpc.status.FAILED_PRECONDITION);
    const local = encodeFrame("SendRaftMessage", { cluster_id: "c1", message: encodeMessage(newMessage({ type: MessageType.MsgHup, from: 1, to: 2 })) });
    expect((await rawUnary(c, local))?.code).toBe(grpc.status.INVALID_ARGUMENT);
    // Streams: random bytes, a batch whose messages claim another sender, another cluster.
    expect((await rawStream(c, "SendRaftMessages", [random]))?.code).toBe(grpc.status.INVALID_ARGUMENT);
    const lying = encodeFrame("SendRaftMessages", { cluster_id: "c1", from: 5, messages: [good] });
    expect((await rawStream(c, "SendRaftMessages", [lying]))?.code).toBe(grpc.status.INVALID_ARGUMENT);
    const foreignBatch = encodeFrame("SendRaftMessages", { cluster_id: "x", from: 1, messages: [good] });
    expect((await rawStream(c, "SendRaftMessages", [foreignBatch]))?.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect((await rawStream(c, "SendSnapshot", [random]))?.code).toBe(grpc.status.INVALID_ARGUMENT);
    const notSnap = encodeFrame("SendSnapshot", { cluster_id: "c1", message: good });
    expect((await rawStream(c, "SendSnapshot", [notSnap]))?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((await rawStream(c, "SendSnapshot", []))?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(b.received).toEqual([]);
    // Still serving.
    expect(await rawUnary(c, encodeFrame("SendRaftMessage", { cluster_id: "c1", message: good }))).toBeNull();
    expect(b.received.length).toBe(1);
    expect(b.t.stats.rejectedFrames).toBeGreaterThanOrEqual(11);
    c.close();
  });

  it("reports a peer that is down as unreachable, then reconnects when it comes up", async () => {
    const a = await start(1);
    // Reserve a port, then free it: nothing listens there.
    const tmp = await start(9);
    const port = tmp.port;
    tmp.t.close();
    await new Promise<void>((r) => tmp.server.tryShutdown(() => r()));
    open.splice(open.indexOf(tmp), 1);
    a.t.addPeer(2, `127.0.0.1:${port}`);
    a.t.send([app(1, 2, 1)]);
    await until(() => a.unreachable.includes(2));
    // Now a node comes up on that port; later sends get through after the backoff.
    const b = await start(2);
    b.server.forceShutdown();
    const server = new grpc.Server(TRANSPORT_SERVER_OPTIONS);
    server.addService(raftTransportDefinition, b.t.serviceImplementation());
    await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    try {
      await until(() => {
        a.t.send([app(1, 2, 2)]);
        return b.received.length > 0;
      }, 10_000);
      expect(b.received[0]!.index).toBe(2);
    } finally {
      server.forceShutdown();
    }
  });

  it("drops and reports unreachable when a peer's queue is full, without blocking", async () => {
    const a = await start(1, "c1", {}, 64);
    const b = await start(2);
    a.t.addPeer(2, `127.0.0.1:${b.port}`);
    // 64 queued at most: the synchronous burst of 200 overflows before any flush.
    a.t.send(Array.from({ length: 200 }, (_, i) => app(1, 2, i + 1)));
    expect(a.t.stats.droppedMessages).toBe(136);
    expect(a.unreachable.filter((id) => id === 2).length).toBe(136);
    await until(() => b.received.length === 64);
  });

  it("streams a snapshot in chunks and reports the outcome", async () => {
    const a = await start(1);
    const b = await start(2);
    a.t.addPeer(2, `127.0.0.1:${b.port}`);
    const snapMsg = newMessage({
      type: MessageType.MsgSnapshot,
      from: 1,
      to: 2,
      term: 3,
      snapshot: { data: new Uint8Array(), metadata: { index: 50, term: 3, confState: { voters: [1, 2, 3], learners: [] } } },
    });
    const chunks = Array.from({ length: 20 }, (_, i) => new Uint8Array(100_000).fill(i));
    a.t.sendSnapshot(snapMsg, async function* () {
      for (const c of chunks) yield c;
    });
    await until(() => a.snapshotStatus.length === 1);
    expect(a.snapshotStatus).toEqual([[2, "finish"]]);
    expect(b.snapshots.length).toBe(1);
    expect(b.snapshots[0]!.m.snapshot!.metadata.index).toBe(50);
    const got = Buffer.concat(b.snapshots[0]!.data);
    expect(got.length).toBe(2_000_000);
    expect(got[1_999_999]).toBe(19);
  });

  it("reports a snapshot refused by the receiver as a failure", async () => {
    const a = await start(1);
    const b = await start(2, "c1", {
      onSnapshot: async () => {
        throw new Error("disk full");
      },
    });
    a.t.addPeer(2, `127.0.0.1:${b.port}`);
    const snapMsg = newMessage({
      type: MessageType.MsgSnapshot,
      from: 1,
      to: 2,
      term: 3,
      snapshot: { data: new Uint8Array(), metadata: { index: 5, term: 3, confState: { voters: [1, 2], learners: [] } } },
    });
    a.t.sendSnapshot(snapMsg, async function* () {
      yield new Uint8Array(10);
    });
    await until(() => a.snapshotStatus.length === 1);
    expect(a.snapshotStatus).toEqual([[2, "failure"]]);
  });
});
