// Throughput benchmark of the Raft core: three RawNodes over an in-memory network.
//
// Node 1 is elected, then BENCH_PROPOSALS proposals of BENCH_SIZE bytes are submitted,
// BENCH_BATCH of them per Ready cycle. Each cycle every node with a Ready is driven as the
// Ready contract says (raw-node.ts): send `messages`, persist snapshot / entries / hard state
// into its MemoryStorage, only then send `persistedMessages`, apply `committedEntries`,
// advance(). Then every queued message is delivered. Group commit comes out of the Ready loop
// by itself: whatever was proposed or acknowledged since the last cycle is persisted, sent
// and applied together. Storage logs are snapshotted and compacted every BENCH_COMPACT_EVERY
// applied entries so memory stays bounded. It runs until every proposal is applied on all
// three nodes and prints entries committed per second (wall clock), the total time, and heap
// bytes allocated per entry.
//
// Run:  npm run bench:raft
//       BENCH_PROPOSALS=200000 BENCH_BATCH=500 BENCH_SIZE=100 npm run bench:raft
//       BENCH_PROPOSE=multi npm run bench:raft   (one MsgPropose carrying the whole batch
//                                                 instead of one RawNode.propose per entry)
// Profile: node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/raft-bench.ts
//
// This is a script, not a test: it asserts only that every proposal was applied everywhere.

import v8 from "node:v8";
import {
  EMPTY_BYTES,
  type Entry,
  EntryType,
  MemoryStorage,
  type Message,
  MessageType,
  RawNode,
  SeededRandom,
  messageTypeName,
  newMessage,
} from "../runtime/raft/index.js";

function envInt(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === "") return dflt;
  const n = Number(v.replace(/_/g, ""));
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${v}`);
  return n;
}

const PROPOSALS = envInt("BENCH_PROPOSALS", 1_000_000);
const BATCH = envInt("BENCH_BATCH", 1_000);
const SIZE = envInt("BENCH_SIZE", 100);
const COMPACT_EVERY = envInt("BENCH_COMPACT_EVERY", 10_000);
const MODE = process.env.BENCH_PROPOSE === "multi" ? "multi" : "single";
/** Entries kept behind the slowest node's applied index when compacting. */
const COMPACT_MARGIN = Math.max(1_000, 2 * BATCH);

interface BenchNode {
  id: number;
  node: RawNode;
  storage: MemoryStorage;
  /** Index of the last applied entry (or installed snapshot). */
  appliedIndex: number;
  /** Normal entries with a payload applied (the proposals). */
  appliedProposals: number;
  readies: number;
  readyEntries: number;
  readyCommitted: number;
}

const nodes: BenchNode[] = [1, 2, 3].map((id) => {
  const storage = MemoryStorage.withPeers([1, 2, 3]);
  const node = new RawNode({ id, electionTick: 10, heartbeatTick: 1, rand: new SeededRandom(id) }, storage);
  return { id, node, storage, appliedIndex: 0, appliedProposals: 0, readies: 0, readyEntries: 0, readyCommitted: 0 };
});
const byId = (id: number): BenchNode => nodes[id - 1]!;

let queue: Message[] = [];
const sent = new Map<number, number>();
let appendMsgs = 0;
let appendEntries = 0;
let snapshotsInstalled = 0;
let compactions = 0;

/** Drive one Ready of `n` exactly as the contract says. */
function processReady(n: BenchNode): void {
  const rd = n.node.ready();
  n.readies++;
  n.readyEntries += rd.entries.length;
  n.readyCommitted += rd.committedEntries.length;
  for (const m of rd.messages) queue.push(m);
  if (rd.snapshot) {
    n.storage.applySnapshot(rd.snapshot);
    n.appliedIndex = rd.snapshot.metadata.index;
    snapshotsInstalled++;
  }
  if (rd.entries.length > 0) n.storage.append(rd.entries);
  if (rd.hardState) n.storage.setHardState(rd.hardState);
  for (const m of rd.persistedMessages) queue.push(m);
  for (const e of rd.committedEntries) {
    if (e.type === EntryType.EntryNormal && e.data.length > 0) n.appliedProposals++;
    n.appliedIndex = e.index;
  }
  n.node.advance(rd);
}

function deliver(): void {
  const batch = queue;
  queue = [];
  for (const m of batch) {
    sent.set(m.type, (sent.get(m.type) ?? 0) + 1);
    if (m.type === MessageType.MsgAppend) {
      appendMsgs++;
      appendEntries += m.entries.length;
    }
    byId(m.to).node.step(m);
  }
}

/** One cycle: every node's Ready, then every message. Returns whether anything happened. */
function cycle(): boolean {
  let any = false;
  for (const n of nodes) {
    if (n.node.hasReady()) {
      processReady(n);
      any = true;
    }
  }
  if (queue.length > 0) {
    deliver();
    any = true;
  }
  return any;
}

/** Snapshot and compact every storage below the slowest node's applied index. */
function maybeCompact(): void {
  let minApplied = Number.POSITIVE_INFINITY;
  for (const n of nodes) minApplied = Math.min(minApplied, n.appliedIndex);
  const upTo = minApplied - COMPACT_MARGIN;
  for (const n of nodes) {
    if (upTo - n.storage.firstIndex() < COMPACT_EVERY) continue;
    n.storage.createSnapshot(upTo, undefined, EMPTY_BYTES);
    n.storage.compact(upTo);
    compactions++;
  }
}

// ---- elect node 1 ----
byId(1).node.campaign();
for (let i = 0; i < 100 && cycle(); i++) {
  /* settle */
}
const leader = byId(1);
if (leader.node.raft.state !== "Leader") throw new Error(`node 1 did not become leader (${leader.node.raft.state})`);

// Payloads are allocated up front and reused round-robin, so that the allocation figure
// measures the core and this driver, not the application's command buffers.
const POOL = 1024;
const payloads = Array.from({ length: POOL }, (_, i) => new Uint8Array(SIZE).fill(i & 255));

// ---- measure ----
// Bytes allocated: V8 has no cumulative "bytes allocated" counter, and sampling heapUsed
// alone misses everything collected in between. v8.GCProfiler (Node >= 18.15) reports the
// heap before and after every GC, so
//   allocated = (heapUsed at end - heapUsed at start) + sum over GCs of (before - after)
// counts every byte that was either collected during the run or is still there at the end.
// The same identity over externalMemory covers off-heap ArrayBuffer backing stores.
const heap0 = v8.getHeapStatistics();
const profiler = new v8.GCProfiler();
profiler.start();
const t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();

let proposed = 0;
let target = 0;
let cycles = 0;
let maxHeapUsed = heap0.used_heap_size;
for (;;) {
  if (proposed < PROPOSALS) {
    const k = Math.min(BATCH, PROPOSALS - proposed);
    if (MODE === "single") {
      for (let i = 0; i < k; i++) leader.node.propose(payloads[(proposed + i) % POOL]!);
    } else {
      const entries: Entry[] = [];
      for (let i = 0; i < k; i++) {
        entries.push({ type: EntryType.EntryNormal, term: 0, index: 0, data: payloads[(proposed + i) % POOL]!, context: EMPTY_BYTES });
      }
      leader.node.step(newMessage({ type: MessageType.MsgPropose, from: leader.id, to: leader.id, entries }));
    }
    proposed += k;
    if (proposed === PROPOSALS) target = leader.node.raft.raftLog.lastIndex();
  }
  const progressed = cycle();
  cycles++;
  maybeCompact();
  if ((cycles & 15) === 0) maxHeapUsed = Math.max(maxHeapUsed, v8.getHeapStatistics().used_heap_size);
  if (target > 0 && nodes.every((n) => n.appliedIndex >= target)) break;
  if (!progressed && proposed === PROPOSALS) throw new Error(`stalled at cycle ${cycles}: applied ${nodes.map((n) => n.appliedIndex).join("/")} of ${target}`);
}

const t1 = process.hrtime.bigint();
const cpu = process.cpuUsage(cpu0);
const gcs = profiler.stop();
const heap1 = v8.getHeapStatistics();

let freedHeap = 0;
let freedExternal = 0;
let gcMs = 0;
for (const s of gcs.statistics) {
  freedHeap += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize;
  freedExternal += Math.max(0, s.beforeGC.heapStatistics.externalMemory - s.afterGC.heapStatistics.externalMemory);
  gcMs += s.cost / 1000;
}
const allocatedHeap = heap1.used_heap_size - heap0.used_heap_size + freedHeap;
const allocatedExternal = heap1.external_memory - heap0.external_memory + freedExternal;

// ---- report ----
const seconds = Number(t1 - t0) / 1e9;
for (const n of nodes) {
  if (n.appliedIndex < target) throw new Error(`node ${n.id} applied ${n.appliedIndex} < ${target}`);
}
if (leader.appliedProposals !== PROPOSALS) throw new Error(`leader applied ${leader.appliedProposals} proposals, want ${PROPOSALS}`);

const fmt = (x: number, d = 0) => x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
const mb = (x: number) => `${fmt(x / 1024 / 1024, 1)} MiB`;
const lines = [
  `raft-bench: ${fmt(PROPOSALS)} proposals x ${SIZE} B, batch ${BATCH} per cycle, propose=${MODE}, 3 nodes, node ${process.version}`,
  `  committed+applied on all 3 nodes: ${fmt(PROPOSALS / seconds)} entries/s   total ${fmt(seconds, 2)} s   (${fmt(cycles)} cycles)`,
  // On a shared machine wall clock includes waiting for a core; CPU time does not.
  `  cpu: ${fmt((cpu.user + cpu.system) / 1e6, 2)} s (${fmt(PROPOSALS / ((cpu.user + cpu.system) / 1e6))} entries per cpu-second)`,
  `  heap allocated: ${fmt(allocatedHeap / PROPOSALS)} B/entry (${mb(allocatedHeap)} total; GC ${gcs.statistics.length} runs, ${fmt(gcMs)} ms)`,
  `  external (ArrayBuffer) allocated: ${fmt(allocatedExternal / PROPOSALS, 1)} B/entry`,
  `  heap used: start ${mb(heap0.used_heap_size)}, max sampled ${mb(maxHeapUsed)}, end ${mb(heap1.used_heap_size)}; rss ${mb(process.memoryUsage().rss)}`,
  `  MsgAppend: ${fmt(appendMsgs)} messages, ${fmt(appendEntries / Math.max(1, appendMsgs), 1)} entries/message; ` +
    `messages by type: ${[...sent.entries()].sort((a, b) => a[0] - b[0]).map(([t, c]) => `${messageTypeName[t]}=${fmt(c)}`).join(" ")}`,
  `  Readies: ${nodes.map((n) => `n${n.id}=${fmt(n.readies)} (${fmt(n.readyEntries / Math.max(1, n.readies), 1)} ents, ${fmt(n.readyCommitted / Math.max(1, n.readies), 1)} committed per Ready)`).join(", ")}`,
  `  compactions: ${compactions}, snapshots installed: ${snapshotsInstalled}, final first index: ${nodes.map((n) => n.storage.firstIndex()).join("/")}, last index: ${target}`,
];
process.stdout.write(lines.join("\n") + "\n");
