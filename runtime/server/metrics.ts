// Prometheus metrics of one node (prom-client), gathered from the node at scrape time plus
// latency histograms fed by the node's metric hooks. One registry per node, so several
// nodes in one process (tests) do not mix.
//
// This module holds no I/O of its own: the HTTP server exposes `registry.metrics()`.

import client from "prom-client";
import type { NodeMetrics } from "../node/interfaces.js";
import type { RaftNode } from "../node/node.js";
import type { TransportStats } from "../transport/transport.js";

export interface NodeMetricSet {
  registry: client.Registry;
  hooks: NodeMetrics;
  /** Attach the node (and transport stats) once they exist. */
  bind(node: RaftNode, transport: TransportStats): void;
}

export function createNodeMetrics(): NodeMetricSet {
  const registry = new client.Registry();
  let node: RaftNode | undefined;
  let tstats: TransportStats | undefined;
  const gauge = (name: string, help: string, read: (n: RaftNode) => number) =>
    new client.Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        if (node) this.set(read(node));
      },
    });
  gauge("raft_term", "Current Raft term.", (n) => n.status().hardState.term);
  gauge("raft_commit_index", "Highest committed log index.", (n) => n.status().hardState.commit);
  gauge("raft_applied_index", "Highest applied log index.", (n) => n.status().applied);
  gauge("raft_first_index", "First log index still stored.", (n) => n.status().firstIndex);
  gauge("raft_last_index", "Last log index stored.", (n) => n.status().lastIndex);
  gauge("raft_leader_id", "Id of the known leader (0 = none).", (n) => n.status().softState.leaderId);
  new client.Gauge({
    name: "raft_role",
    help: "1 for the node's current role.",
    labelNames: ["role"],
    registers: [registry],
    collect() {
      if (!node) return;
      this.reset();
      this.set({ role: node.status().softState.raftState }, 1);
    },
  });
  for (const field of ["match", "next"] as const) {
    new client.Gauge({
      name: `raft_peer_${field}_index`,
      help: `Leader's view of each peer's ${field} index.`,
      labelNames: ["peer"],
      registers: [registry],
      collect() {
        if (!node) return;
        this.reset();
        for (const p of node.status().progress) this.set({ peer: String(p.id) }, p[field]);
      },
    });
  }
  new client.Gauge({
    name: "raft_peer_pending_snapshot",
    help: "Index of the snapshot being sent to each peer (0 = none).",
    labelNames: ["peer"],
    registers: [registry],
    collect() {
      if (!node) return;
      this.reset();
      for (const p of node.status().progress) this.set({ peer: String(p.id) }, p.pendingSnapshot);
    },
  });
  for (const key of ["sentMessages", "droppedMessages", "receivedMessages", "rejectedFrames", "streamFailures"] as const) {
    new client.Gauge({
      name: `raft_transport_${key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}_total`,
      help: `Transport counter ${key}.`,
      registers: [registry],
      collect() {
        if (tstats) this.set(tstats[key]);
      },
    });
  }
  const fsync = new client.Histogram({
    name: "raft_fsync_seconds",
    help: "Latency of one synced Ready batch (entries + hard state).",
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const apply = new client.Histogram({
    name: "raft_apply_seconds",
    help: "Latency of applying one batch of committed entries.",
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
    registers: [registry],
  });
  const proposals = new client.Counter({ name: "raft_proposals_total", help: "Proposals by outcome.", labelNames: ["outcome"], registers: [registry] });
  const rounds = new client.Counter({ name: "raft_read_index_rounds_total", help: "ReadIndex rounds started (reads share rounds).", registers: [registry] });
  const snapSent = new client.Counter({ name: "raft_snapshots_sent_total", help: "Snapshots sent by outcome.", labelNames: ["outcome"], registers: [registry] });
  const snapRecv = new client.Counter({ name: "raft_snapshots_received_total", help: "Snapshots received.", registers: [registry] });
  return {
    registry,
    hooks: {
      observeFsyncSeconds: (s) => fsync.observe(s),
      observeApplySeconds: (s) => apply.observe(s),
      proposal: (o) => proposals.inc({ outcome: o }),
      readIndexRound: () => rounds.inc(),
      snapshotSent: (o) => snapSent.inc({ outcome: o }),
      snapshotReceived: () => snapRecv.inc(),
    },
    bind(n, t) {
      node = n;
      tstats = t;
    },
  };
}
