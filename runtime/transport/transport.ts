// GrpcTransport: the peer transport of a node over @grpc/grpc-js (DESIGN: Transport).
//
// Outbound: one long-lived grpc-js client per peer (grpc-js pools the HTTP/2 connection) and
// one long-lived SendRaftMessages client stream over it, carrying batches. Each peer has a
// bounded queue: send() never blocks the Ready loop; when the queue is full the message is
// dropped and the peer reported unreachable (Raft retransmits; the leader falls back to
// probing). A broken stream is reported unreachable, its queue dropped, and reopened after an
// exponential backoff with jitter. Snapshots go over a separate SendSnapshot stream per send,
// chunk by chunk with flow control, and their outcome is reported back.
//
// Inbound: the RaftTransport service. Every frame is validated at this gateway: a frame that
// does not decode → INVALID_ARGUMENT, another cluster id → FAILED_PRECONDITION, a message not
// addressed to this node → FAILED_PRECONDITION. Valid messages are handed to the node.
//
// This module owns sockets and timers for the transport only; it knows nothing of Raft's
// rules beyond the message shape, and never throws out of a gRPC handler.

import * as grpc from "@grpc/grpc-js";
import { CodecError, decodeMessage, encodeMessage } from "../codec/eraftpb.js";
import { loadProtoRoot } from "../codec/proto-files.js";
import { discardLogger, isLocalMessage, type Logger, type Message, MessageType, messageTypeName } from "../raft/index.js";
import { RpcInputError, decodeRequest, safeNumber, serviceDefinition, toServiceError } from "./rpc.js";

/** What the transport hands to (and reports to) its node. */
export interface TransportEvents {
  /** An inbound, validated message for this node. Must not throw. */
  onMessage(m: Message): void;
  /**
   * An inbound snapshot: the MsgSnapshot and its state-machine data. Resolve once the data is
   * staged and the message handed to Raft; reject to refuse it (the sender sees a failure).
   */
  onSnapshot(m: Message, data: AsyncIterable<Uint8Array>): Promise<void>;
  /** A message to `peer` could not be delivered (queue full, stream broken). */
  onUnreachable(peer: number): void;
  /** The outcome of a snapshot sent to `peer`. */
  onSnapshotStatus(peer: number, status: "finish" | "failure"): void;
}

export interface TransportOptions {
  clusterId: string;
  nodeId: number;
  logger?: Logger;
  /** Messages queued per peer before new ones are dropped. Default 4096. */
  maxQueuedMessages?: number;
  /** Messages per RaftMessageBatch frame. Default 256. */
  maxBatchMessages?: number;
  /** First reconnect delay after a failure; doubles up to backoffMaxMs. Default 50 ms. */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** Extra grpc-js channel options for outbound clients. */
  channelOptions?: grpc.ChannelOptions;
}

const root = loadProtoRoot("transport.proto");
const RAFT_TRANSPORT = root.lookupService("raftgen.transport.v1.RaftTransport");
const SendRaftMessageRequest = root.lookupType("raftgen.transport.v1.SendRaftMessageRequest");
const RaftMessageBatch = root.lookupType("raftgen.transport.v1.RaftMessageBatch");
const SnapshotChunk = root.lookupType("raftgen.transport.v1.SnapshotChunk");

/** The grpc-js service definition of RaftTransport (shared by server and clients). */
export const raftTransportDefinition: grpc.ServiceDefinition = serviceDefinition(RAFT_TRANSPORT);

/** Keepalive and size settings, explicit on both sides (STYLE 7.7). */
export const TRANSPORT_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  "grpc.keepalive_time_ms": 10_000,
  "grpc.keepalive_timeout_ms": 5_000,
  "grpc.keepalive_permit_without_calls": 1,
  "grpc.max_receive_message_length": 64 * 1024 * 1024,
  "grpc.max_send_message_length": 64 * 1024 * 1024,
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": 1_000,
};

/** Server-side options that accept the clients' keepalive pings. */
export const TRANSPORT_SERVER_OPTIONS: grpc.ServerOptions = {
  "grpc.keepalive_time_ms": 10_000,
  "grpc.keepalive_timeout_ms": 5_000,
  "grpc.keepalive_permit_without_calls": 1,
  "grpc.http2.min_ping_interval_without_data_ms": 5_000,
  "grpc.max_receive_message_length": 64 * 1024 * 1024,
  "grpc.max_send_message_length": 64 * 1024 * 1024,
};

interface RawBatch {
  cluster_id: string;
  from: string | number;
  messages: Uint8Array[];
}
interface RawSingle {
  message: Uint8Array;
  cluster_id: string;
}
interface RawChunk {
  cluster_id: string;
  message: Uint8Array;
  data: Uint8Array;
  last: boolean;
}

/** Counters for /metrics and tests. */
export interface TransportStats {
  sentMessages: number;
  sentBatches: number;
  droppedMessages: number;
  receivedMessages: number;
  rejectedFrames: number;
  streamFailures: number;
}

export class GrpcTransport {
  readonly clusterId: string;
  readonly nodeId: number;
  private readonly logger: Logger;
  private readonly peers = new Map<number, Peer>();
  private events: TransportEvents | undefined;
  private closed = false;
  readonly stats: TransportStats = {
    sentMessages: 0,
    sentBatches: 0,
    droppedMessages: 0,
    receivedMessages: 0,
    rejectedFrames: 0,
    streamFailures: 0,
  };
  readonly options: Required<Omit<TransportOptions, "logger" | "channelOptions">> & { channelOptions: grpc.ChannelOptions };

  constructor(opts: TransportOptions) {
    this.clusterId = opts.clusterId;
    this.nodeId = opts.nodeId;
    this.logger = opts.logger ?? discardLogger;
    this.options = {
      clusterId: opts.clusterId,
      nodeId: opts.nodeId,
      maxQueuedMessages: opts.maxQueuedMessages ?? 4096,
      maxBatchMessages: opts.maxBatchMessages ?? 256,
      backoffMinMs: opts.backoffMinMs ?? 50,
      backoffMaxMs: opts.backoffMaxMs ?? 1_000,
      channelOptions: { ...TRANSPORT_CHANNEL_OPTIONS, ...opts.channelOptions },
    };
  }

  /** Connect the transport to its node. Messages arriving before are refused (UNAVAILABLE). */
  start(events: TransportEvents): void {
    this.events = events;
  }

  /** Set or change the address of a peer. */
  addPeer(id: number, address: string): void {
    if (id === this.nodeId) return;
    const existing = this.peers.get(id);
    if (existing && existing.address === address) return;
    existing?.close();
    this.peers.set(id, new Peer(this, id, address));
  }

  removePeer(id: number): void {
    this.peers.get(id)?.close();
    this.peers.delete(id);
  }

  /** Queue messages for their peers. Never blocks, never throws for a missing peer. */
  send(msgs: readonly Message[]): void {
    for (const m of msgs) {
      const peer = this.peers.get(m.to);
      if (!peer) {
        this.logger.debug(`transport: no address for node ${m.to}; dropping ${messageTypeName[m.type]}`);
        this.stats.droppedMessages++;
        this.events?.onUnreachable(m.to);
        continue;
      }
      peer.enqueue(m);
    }
  }

  /**
   * Send a snapshot: the MsgSnapshot (its snapshot data empty) followed by the chunks of
   * `open()`. The outcome is reported through onSnapshotStatus.
   */
  sendSnapshot(m: Message, open: () => AsyncIterable<Uint8Array>): void {
    const peer = this.peers.get(m.to);
    if (!peer) {
      this.events?.onSnapshotStatus(m.to, "failure");
      return;
    }
    peer.sendSnapshot(m, open);
  }

  /** The implementation of the RaftTransport service, to add to a grpc.Server. */
  serviceImplementation(): grpc.UntypedServiceImplementation {
    return {
      SendRaftMessage: (call: grpc.ServerUnaryCall<Buffer, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        try {
          const req = decodeRequest<RawSingle>(SendRaftMessageRequest, call.request);
          this.checkCluster(req.cluster_id);
          const m = this.decodeMessageFrame(req.message);
          this.deliver([m]);
          callback(null, {});
        } catch (err) {
          this.reject(err, "SendRaftMessage");
          callback(toServiceError(err));
        }
      },
      SendRaftMessages: (call: grpc.ServerReadableStream<Buffer, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        let done = false;
        const finish = (err: unknown) => {
          if (done) return;
          done = true;
          if (err) callback(toServiceError(err));
          else callback(null, {});
        };
        call.on("data", (bytes: Buffer) => {
          if (done) return;
          try {
            const batch = decodeRequest<RawBatch>(RaftMessageBatch, bytes);
            this.checkCluster(batch.cluster_id);
            const from = safeNumber(batch.from, "RaftMessageBatch.from");
            const msgs = batch.messages.map((b) => this.decodeMessageFrame(b));
            for (const m of msgs) {
              if (m.from !== from) {
                throw new RpcInputError(grpc.status.INVALID_ARGUMENT, `message from ${m.from} in a batch from ${from}`);
              }
            }
            this.deliver(msgs);
          } catch (err) {
            this.reject(err, "SendRaftMessages");
            finish(err);
          }
        });
        call.on("end", () => finish(undefined));
        call.on("error", () => finish(undefined));
      },
      SendSnapshot: (call: grpc.ServerReadableStream<Buffer, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        this.receiveSnapshot(call, callback);
      },
    };
  }

  private receiveSnapshot(call: grpc.ServerReadableStream<Buffer, unknown>, callback: grpc.sendUnaryData<unknown>): void {
    let done = false;
    const finish = (err: unknown, accepted = false) => {
      if (done) return;
      done = true;
      if (err) {
        this.reject(err, "SendSnapshot");
        callback(toServiceError(err));
      } else {
        callback(null, { accepted });
      }
    };
    const chunks = new ChunkQueue();
    let header: Message | undefined;
    let sawLast = false;
    call.on("data", (bytes: Buffer) => {
      if (done) return;
      try {
        const chunk = decodeRequest<RawChunk>(SnapshotChunk, bytes);
        if (header === undefined) {
          this.checkCluster(chunk.cluster_id);
          const m = this.decodeInbound(chunk.message);
          if (m.type !== MessageType.MsgSnapshot || !m.snapshot) {
            throw new RpcInputError(grpc.status.INVALID_ARGUMENT, `first SnapshotChunk must carry a MsgSnapshot, got ${messageTypeName[m.type]}`);
          }
          header = m;
          const events = this.events;
          if (!events) throw new RpcInputError(grpc.status.UNAVAILABLE, "node is not ready");
          events.onSnapshot(m, chunks).then(
            () => finish(undefined, true),
            (err: unknown) => {
              chunks.fail(err);
              finish(err instanceof RpcInputError ? err : new RpcInputError(grpc.status.INVALID_ARGUMENT, `snapshot refused: ${(err as Error).message}`));
            },
          );
        }
        if (chunk.data.length > 0) chunks.push(chunk.data);
        if (chunk.last) {
          sawLast = true;
          chunks.end();
        }
      } catch (err) {
        chunks.fail(err);
        finish(err);
      }
    });
    call.on("end", () => {
      if (header === undefined) finish(new RpcInputError(grpc.status.INVALID_ARGUMENT, "empty SendSnapshot stream"));
      else if (!sawLast) {
        // A sender that stopped half-way: the data is incomplete and must not be staged.
        const err = new RpcInputError(grpc.status.INVALID_ARGUMENT, "SendSnapshot stream ended before its last chunk (truncated snapshot)");
        chunks.fail(err);
        finish(err);
      }
    });
    call.on("error", (err) => {
      chunks.fail(err);
      finish(err);
    });
  }

  private checkCluster(clusterId: string): void {
    if (clusterId !== this.clusterId) {
      throw new RpcInputError(grpc.status.FAILED_PRECONDITION, `cluster id mismatch: this node is in cluster "${this.clusterId}", the message is for "${clusterId}"`);
    }
  }

  /**
   * A message of SendRaftMessage(s): anything but MsgSnapshot, whose data can only come with it
   * over SendSnapshot (a bare MsgSnapshot would make the node install a snapshot it never got).
   */
  private decodeMessageFrame(bytes: Uint8Array): Message {
    const m = this.decodeInbound(bytes);
    if (m.type === MessageType.MsgSnapshot) {
      throw new RpcInputError(grpc.status.INVALID_ARGUMENT, "MsgSnapshot must be sent with its data over SendSnapshot");
    }
    return m;
  }

  private decodeInbound(bytes: Uint8Array): Message {
    let m: Message;
    try {
      m = decodeMessage(bytes);
    } catch (err) {
      if (err instanceof CodecError) throw new RpcInputError(grpc.status.INVALID_ARGUMENT, `undecodable raft message: ${err.message}`);
      throw err;
    }
    if (isLocalMessage(m.type)) {
      throw new RpcInputError(grpc.status.INVALID_ARGUMENT, `${messageTypeName[m.type]} is a local message and never crosses the network`);
    }
    if (m.to !== this.nodeId) {
      throw new RpcInputError(grpc.status.FAILED_PRECONDITION, `message for node ${m.to} arrived at node ${this.nodeId}`);
    }
    if (m.from === 0) throw new RpcInputError(grpc.status.INVALID_ARGUMENT, "message from node 0");
    return m;
  }

  private deliver(msgs: Message[]): void {
    const events = this.events;
    if (!events || this.closed) throw new RpcInputError(grpc.status.UNAVAILABLE, "node is not ready");
    this.stats.receivedMessages += msgs.length;
    for (const m of msgs) events.onMessage(m);
  }

  private reject(err: unknown, rpc: string): void {
    this.stats.rejectedFrames++;
    this.logger.warn(`transport: rejected ${rpc} frame: ${(err as Error).message}`);
  }

  /** Internal: reports from peers. */
  reportUnreachable(id: number): void {
    if (!this.closed) this.events?.onUnreachable(id);
  }

  reportSnapshotStatus(id: number, status: "finish" | "failure"): void {
    if (!this.closed) this.events?.onSnapshotStatus(id, status);
  }

  get log(): Logger {
    return this.logger;
  }

  close(): void {
    this.closed = true;
    for (const p of this.peers.values()) p.close();
    this.peers.clear();
  }
}

/** An async iterable fed by push(), for inbound snapshot chunks. */
class ChunkQueue implements AsyncIterable<Uint8Array> {
  private items: Uint8Array[] = [];
  private ended = false;
  private error: unknown = undefined;
  private wake: (() => void) | undefined;

  push(c: Uint8Array): void {
    this.items.push(c);
    this.wake?.();
  }
  end(): void {
    this.ended = true;
    this.wake?.();
  }
  fail(err: unknown): void {
    this.error = err ?? new Error("snapshot stream failed");
    this.wake?.();
  }
  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      if (this.error !== undefined) throw this.error;
      const item = this.items.shift();
      if (item) {
        yield item;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

/** One peer: its client, its stream, its bounded queue and its backoff. */
class Peer {
  private readonly client: grpc.Client;
  private queue: Message[] = [];
  private stream: grpc.ClientWritableStream<unknown> | undefined;
  private waitingDrain = false;
  private flushScheduled = false;
  private backoffMs = 0;
  private backoffTimer: NodeJS.Timeout | undefined;
  private snapshotInFlight = false;
  private closed = false;

  constructor(
    private readonly t: GrpcTransport,
    readonly id: number,
    readonly address: string,
  ) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), t.options.channelOptions);
  }

  enqueue(m: Message): void {
    if (this.closed) return;
    if (this.queue.length >= this.t.options.maxQueuedMessages) {
      this.t.stats.droppedMessages++;
      this.t.reportUnreachable(this.id);
      return;
    }
    this.queue.push(m);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  private flush(): void {
    if (this.closed || this.backoffTimer || this.waitingDrain || this.queue.length === 0) return;
    const stream = this.stream ?? this.open();
    const max = this.t.options.maxBatchMessages;
    while (this.queue.length > 0) {
      const batch = this.queue.length <= max ? this.queue : this.queue.slice(0, max);
      this.queue = this.queue.length <= max ? [] : this.queue.slice(max);
      const frame = { cluster_id: this.t.clusterId, from: this.t.nodeId, messages: batch.map(encodeMessage) };
      this.t.stats.sentMessages += batch.length;
      this.t.stats.sentBatches++;
      if (!stream.write(frame)) {
        this.waitingDrain = true;
        stream.once("drain", () => {
          this.waitingDrain = false;
          this.flush();
        });
        return;
      }
    }
  }

  private open(): grpc.ClientWritableStream<unknown> {
    const def = raftTransportDefinition.SendRaftMessages!;
    const stream = this.client.makeClientStreamRequest(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      new grpc.Metadata(),
      {},
      (err: grpc.ServiceError | null) => {
        if (this.stream === stream) this.stream = undefined;
        this.waitingDrain = false;
        if (err && !this.closed) this.broken(err);
      },
    );
    stream.on("error", () => {
      /* reported through the callback */
    });
    this.stream = stream;
    return stream;
  }

  /** The stream failed: report, drop what is queued (Raft resends), retry after backoff. */
  private broken(err: grpc.ServiceError): void {
    this.t.stats.streamFailures++;
    this.t.stats.droppedMessages += this.queue.length;
    this.queue = [];
    this.t.log.debug(`transport: stream to node ${this.id} at ${this.address} failed: ${err.code} ${err.details}`);
    this.t.reportUnreachable(this.id);
    const min = this.t.options.backoffMinMs;
    this.backoffMs = Math.min(this.t.options.backoffMaxMs, this.backoffMs === 0 ? min : this.backoffMs * 2);
    const delay = this.backoffMs / 2 + Math.random() * (this.backoffMs / 2);
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = undefined;
      this.flush();
    }, delay);
    this.backoffTimer.unref?.();
  }

  sendSnapshot(m: Message, open: () => AsyncIterable<Uint8Array>): void {
    if (this.closed || this.snapshotInFlight) {
      this.t.reportSnapshotStatus(this.id, "failure");
      return;
    }
    this.snapshotInFlight = true;
    const def = raftTransportDefinition.SendSnapshot!;
    let reported = false;
    const report = (status: "finish" | "failure") => {
      if (reported) return;
      reported = true;
      this.snapshotInFlight = false;
      this.t.reportSnapshotStatus(this.id, status);
    };
    const call = this.client.makeClientStreamRequest(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      new grpc.Metadata(),
      {},
      (err: grpc.ServiceError | null, reply?: unknown) => {
        if (err) this.t.log.warn(`transport: snapshot to node ${this.id} failed: ${err.details}`);
        report(!err && (reply as { accepted?: boolean } | undefined)?.accepted ? "finish" : "failure");
      },
    );
    call.on("error", () => {
      /* reported through the callback */
    });
    const write = (frame: object) =>
      new Promise<void>((resolve) => {
        if (call.write(frame)) resolve();
        else call.once("drain", () => resolve());
      });
    void (async () => {
      try {
        await write({ cluster_id: this.t.clusterId, message: encodeMessage(m) });
        for await (const data of open()) {
          if (reported || this.closed) return;
          await write({ data });
        }
        await write({ last: true });
        call.end();
      } catch (err) {
        this.t.log.warn(`transport: reading snapshot for node ${this.id} failed: ${(err as Error).message}`);
        call.cancel();
        report("failure");
      }
    })();
  }

  close(): void {
    this.closed = true;
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.stream?.end();
    this.stream = undefined;
    this.queue = [];
    this.client.close();
  }
}
