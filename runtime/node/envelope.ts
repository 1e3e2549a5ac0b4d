// Encoding of what a node puts into the log: the versioned command envelope (entry data),
// the proposal id (entry context), session records and membership contexts. Every decode
// validates and throws EnvelopeError; a bad entry in the log fails that one entry on every
// node alike, and never crashes a replica (seed flaws 2, 3, 7).
//
// This module does no I/O beyond loading its .proto once.

import { loadProtoRoot } from "../codec/proto-files.js";

const root = loadProtoRoot("node.proto");
const CommandEnvelopeT = root.lookupType("raftgen.node.v1.CommandEnvelope");
const ProposalIdT = root.lookupType("raftgen.node.v1.ProposalId");
const SessionRecordT = root.lookupType("raftgen.node.v1.SessionRecord");
const MemberContextT = root.lookupType("raftgen.node.v1.MemberContext");

export const ENVELOPE_VERSION = 1;

export class EnvelopeError extends Error {
  override readonly name = "EnvelopeError";
}

export interface CommandEnvelope {
  command: string;
  payload: Uint8Array;
  /** Empty when the client sent no session. */
  clientId: string;
  clientSeq: number;
  timestampMs: number;
}

export interface ProposalId {
  node: number;
  seq: number;
}

export interface SessionRecord {
  seq: number;
  ok: boolean;
  reply: Uint8Array;
  error: string;
  index: number;
}

const OBJ = { longs: String, bytes: Uint8Array as never, defaults: true } as const;

function num(v: unknown, what: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new EnvelopeError(`${what}: ${String(v)} is not a safe non-negative integer`);
  return n;
}

function decode(type: typeof CommandEnvelopeT, bytes: Uint8Array, what: string): Record<string, unknown> {
  try {
    return type.toObject(type.decode(bytes), OBJ) as Record<string, unknown>;
  } catch (err) {
    throw new EnvelopeError(`malformed ${what}: ${(err as Error).message}`);
  }
}

export function encodeCommand(e: CommandEnvelope): Uint8Array {
  return CommandEnvelopeT.encode({
    version: ENVELOPE_VERSION,
    command: e.command,
    payload: e.payload,
    client_id: e.clientId,
    client_seq: e.clientSeq,
    timestamp_ms: e.timestampMs,
  }).finish();
}

export function decodeCommand(bytes: Uint8Array): CommandEnvelope {
  const o = decode(CommandEnvelopeT, bytes, "command envelope");
  const version = Number(o.version);
  if (version !== ENVELOPE_VERSION) {
    throw new EnvelopeError(`command envelope version ${version} is not supported (this node reads version ${ENVELOPE_VERSION})`);
  }
  if (typeof o.command !== "string" || o.command === "") throw new EnvelopeError("command envelope without a command name");
  return {
    command: o.command,
    payload: o.payload as Uint8Array,
    clientId: o.client_id as string,
    clientSeq: num(o.client_seq, "client_seq"),
    timestampMs: num(o.timestamp_ms, "timestamp_ms"),
  };
}

export function encodeProposalId(id: ProposalId): Uint8Array {
  return ProposalIdT.encode({ node: id.node, seq: id.seq }).finish();
}

/** The proposal id of an entry's context, or undefined for entries without one. */
export function decodeProposalId(bytes: Uint8Array): ProposalId | undefined {
  if (bytes.length === 0) return undefined;
  const o = decode(ProposalIdT, bytes, "proposal id");
  return { node: num(o.node, "ProposalId.node"), seq: num(o.seq, "ProposalId.seq") };
}

export function encodeSession(r: SessionRecord): Uint8Array {
  return SessionRecordT.encode({ seq: r.seq, ok: r.ok, reply: r.reply, error: r.error, index: r.index }).finish();
}

export function decodeSession(bytes: Uint8Array): SessionRecord {
  const o = decode(SessionRecordT, bytes, "session record");
  return {
    seq: num(o.seq, "SessionRecord.seq"),
    ok: o.ok as boolean,
    reply: o.reply as Uint8Array,
    error: o.error as string,
    index: num(o.index, "SessionRecord.index"),
  };
}

export function encodeMemberContext(address: string): Uint8Array {
  return MemberContextT.encode({ address }).finish();
}

export function decodeMemberContext(bytes: Uint8Array): string {
  if (bytes.length === 0) return "";
  const o = decode(MemberContextT, bytes, "member context");
  return o.address as string;
}
