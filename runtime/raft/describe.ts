// Stable text renderings of entries, messages, hard/soft state, snapshots and Ready, for
// the datadriven tests and for logs. The same input always prints the same bytes: peers in
// ascending order, no object identity, no timestamps.
//
// This file must not do I/O.

import { decodeConfChange } from "./confchange-codec.js";
import type { Ready } from "./raw-node.js";
import {
  type ConfState,
  confChangeTypeName,
  type Entry,
  EntryType,
  entryTypeName,
  type HardState,
  type Message,
  messageTypeName,
  type ReadState,
  type Snapshot,
  type SoftState,
} from "./types.js";

/** Bytes as a quoted string when printable ASCII, else as 0x-hex. */
export function describeBytes(b: Uint8Array): string {
  let printable = true;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c < 0x20 || c > 0x7e) {
      printable = false;
      break;
    }
  }
  if (printable) {
    let s = "";
    for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
    return JSON.stringify(s);
  }
  let hex = "0x";
  for (let i = 0; i < b.length; i++) hex += b[i]!.toString(16).padStart(2, "0");
  return hex;
}

/** `term/index EntryType data`; conf changes are decoded (`AddNode 4`). */
export function describeEntry(e: Entry): string {
  const head = `${e.term}/${e.index} ${entryTypeName[e.type] ?? `EntryType(${e.type})`}`;
  if (e.type === EntryType.EntryConfChange) {
    try {
      const cc = decodeConfChange(e.data);
      return `${head} ${confChangeTypeName[cc.type] ?? cc.type} ${cc.nodeId}`;
    } catch {
      return `${head} ${describeBytes(e.data)}`;
    }
  }
  return `${head} ${describeBytes(e.data)}`;
}

export function describeEntries(ents: readonly Entry[]): string {
  return ents.map(describeEntry).join("\n");
}

export function describeConfState(cs: ConfState): string {
  return `Voters:[${cs.voters.join(" ")}] Learners:[${cs.learners.join(" ")}]`;
}

export function describeSnapshot(s: Snapshot): string {
  const m = s.metadata;
  return `Index:${m.index} Term:${m.term} ConfState:${describeConfState(m.confState)}`;
}

export function describeHardState(hs: HardState): string {
  return `Term:${hs.term} Vote:${hs.vote} Commit:${hs.commit}`;
}

export function describeSoftState(ss: SoftState): string {
  return `Lead:${ss.leaderId} State:${ss.raftState}`;
}

export function describeReadState(rs: ReadState): string {
  return `Index:${rs.index} Ctx:${describeBytes(rs.requestCtx)}`;
}

/** `from->to Type Term:t Log:logTerm/index [Commit:c] [Rejected (Hint: h)] [Entries:[...]]`. */
export function describeMessage(m: Message): string {
  let s = `${m.from}->${m.to} ${messageTypeName[m.type] ?? `MessageType(${m.type})`} Term:${m.term} Log:${m.logTerm}/${m.index}`;
  if (m.reject) s += ` Rejected (Hint: ${m.rejectHint})`;
  if (m.commit !== 0) s += ` Commit:${m.commit}`;
  if (m.context.length > 0) s += ` Context:${describeBytes(m.context)}`;
  if (m.entries.length > 0) s += ` Entries:[${m.entries.map(describeEntry).join(", ")}]`;
  if (m.snapshot && m.snapshot.metadata.index !== 0) s += ` Snapshot: ${describeSnapshot(m.snapshot)}`;
  return s;
}

/** A multi-line rendering of a Ready; sections that are empty are left out. */
export function describeReady(rd: Ready): string {
  const lines: string[] = [];
  if (rd.softState) lines.push(describeSoftState(rd.softState));
  if (rd.hardState) lines.push(`HardState ${describeHardState(rd.hardState)}`);
  if (rd.readStates.length > 0) {
    lines.push("ReadStates:");
    for (const rs of rd.readStates) lines.push(describeReadState(rs));
  }
  if (rd.entries.length > 0) {
    lines.push("Entries:");
    for (const e of rd.entries) lines.push(describeEntry(e));
  }
  if (rd.snapshot) lines.push(`Snapshot ${describeSnapshot(rd.snapshot)}`);
  if (rd.committedEntries.length > 0) {
    lines.push("CommittedEntries:");
    for (const e of rd.committedEntries) lines.push(describeEntry(e));
  }
  if (rd.messages.length > 0) {
    lines.push("Messages:");
    for (const m of rd.messages) lines.push(describeMessage(m));
  }
  if (rd.persistedMessages.length > 0) {
    lines.push("PersistedMessages:");
    for (const m of rd.persistedMessages) lines.push(describeMessage(m));
  }
  if (lines.length === 0) return "<empty Ready>";
  if (rd.mustSync) lines.push("MustSync");
  return lines.join("\n");
}
