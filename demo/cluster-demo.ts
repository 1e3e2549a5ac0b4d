// `npm run demo`: the generated placement-center doing its job, end to end, on this machine.
//
// 1. Builds examples/placement-center with the generator (raftgen build, when stale) and starts
//    it as a local 3-node cluster — separate processes, RocksDB, fsync on — with the same
//    supervisor `raftgen cluster` uses (data in a temp directory).
// 2. Registers brokers and writes keys through the generated, typed PlacementCenterClient and
//    prints the status table (`raftgen status`).
// 3. Kills the leader with SIGKILL while a writer keeps going, shows the new leader and the
//    longest pause the writer saw, restarts the killed node and shows it catch up.
// 4. Checks that every acknowledged write is still there and that the recorded history is
//    linearizable, stops everything, exits 0 (1 if a check fails).
//
// Bounded: at most ~2,500 requests and ~60 s; only 127.0.0.1; ports probed free first.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PlacementCenterClient } from "../examples/placement-center/generated/index.js";
import { LocalCluster, findFreeBasePort } from "../generator/cluster/supervisor.js";
import { collectStatus, formatStatusTable } from "../generator/status.js";
import { HistoryRecorder, checkHistory, kvModel } from "../runtime/testing/lincheck/index.js";

const PROJECT = resolve(import.meta.dirname, "../examples/placement-center");
const say = (s: string) => process.stdout.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function main(): Promise<number> {
  const data = await mkdtemp(join(tmpdir(), "raftgen-demo-"));
  let cluster: LocalCluster | undefined;
  let client: PlacementCenterClient | undefined;
  try {
    say("== raftgen cluster examples/placement-center: build if stale, start 3 node processes");
    cluster = await LocalCluster.start({
      project: PROJECT,
      data,
      port: await findFreeBasePort({ nodes: 3, from: 17_001, to: 30_000 }),
      log: (line) => say(`   ${line}`),
      onExit: (id, code, signal, tail) => say(`   node ${id} exited unexpectedly (${signal ?? `code ${code}`}): ${tail.slice(-3).join(" | ")}`),
    });
    const c = cluster;
    for (const n of c.nodes) say(`   node ${n.id}: gRPC ${n.address}  HTTP http://${n.httpAddress}/status  pid ${n.pid}`);
    const leaderOf = async (except?: number) => {
      const rows = await collectStatus(c.nodes.filter((n) => n.running && n.id !== except).map((n) => n.address), { timeoutMs: 1_000 });
      const leader = rows.find((r) => r.role === "leader");
      return leader ? { id: leader.node!, term: leader.term! } : undefined;
    };
    const first = await waitFor("a leader", () => leaderOf());
    say(`== node ${first.id} is leader at term ${first.term}`);

    client = new PlacementCenterClient({ endpoints: c.endpoints, deadlineMs: 5_000 });
    const api = client;
    say("== the generated client: register brokers, write and read keys");
    for (const [i, ip] of ["10.0.0.1", "10.0.0.2"].entries()) {
      const { node } = await api.registerNode({ clusterName: "mq-east", nodeId: BigInt(i + 1), nodeIp: ip });
      say(`   registerNode -> node ${node.nodeId} at ${node.nodeIp}, createTime ${node.createTime}`);
    }
    await api.heartbeat({ clusterName: "mq-east", nodeId: 1n });
    const { nodes } = await api.listNodes({ clusterName: "mq-east" });
    say(`   listNodes(mq-east) -> ${nodes.map((n) => `${n.nodeId}@${n.nodeIp}`).join(", ")}`);
    await api.set({ key: "greeting", value: "hello" });
    say(`   get(greeting) -> ${JSON.stringify(await api.get({ key: "greeting" }))}`);
    say(`   exists(nope) -> ${JSON.stringify(await api.exists({ key: "nope" }))}`);
    say("== raftgen status");
    say(formatStatusTable(await collectStatus(c.endpoints)).trimEnd().replace(/^/gm, "   "));

    say("== a writer sets keys continuously and a reader reads them; killing the leader with SIGKILL meanwhile");
    const history = new HistoryRecorder();
    const acked: string[] = [];
    let stop = false;
    let lastOk = Date.now();
    let longestGap = 0;
    const writer = (async () => {
      for (let i = 0; i < 1500 && !stop; i++) {
        const key = `w/${i}`;
        const value = `v${i}`;
        try {
          await history.record(1, "put", value, () => api.set({ key: "last", value }), { key: "last", output: () => null });
          await history.record(1, "put", value, () => api.set({ key, value }), { key, output: () => null });
          acked.push(key);
          const now = Date.now();
          longestGap = Math.max(longestGap, now - lastOk);
          lastOk = now;
        } catch {
          // Outcome unknown: recorded as such. The session makes the client's own retries safe.
        }
      }
    })();
    const reader = (async () => {
      for (let i = 0; i < 800 && !stop; i++) {
        await history
          .record(2, "get", null, async () => (await api.get({ key: "last" })).value ?? "", { key: "last" })
          .catch(() => undefined);
        await sleep(5);
      }
    })();
    await sleep(1500);
    const victim = await waitFor("a leader", () => leaderOf());
    const killedAt = Date.now();
    await c.kill(victim.id, "SIGKILL");
    say(`   killed node ${victim.id} (the leader) after ${acked.length} acknowledged writes`);
    const next = await waitFor("a new leader", () => leaderOf(victim.id));
    say(`   node ${next.id} became leader at term ${next.term}, ${Date.now() - killedAt} ms after the kill`);
    await sleep(2000);
    say(`   the writer kept going: ${acked.length} writes acknowledged so far, longest pause ${longestGap} ms`);

    say(`== restarting node ${victim.id} on its data directory`);
    await c.restart(victim.id);
    stop = true;
    await Promise.all([writer, reader]);
    const target = (await collectStatus([c.node(next.id).address]))[0]!.applied ?? 0;
    await waitFor(`node ${victim.id} to catch up`, async () => {
      const row = (await collectStatus([c.node(victim.id).address], { timeoutMs: 1_000 }))[0];
      return row && (row.applied ?? 0) >= target ? row : undefined;
    });
    say(`   node ${victim.id} caught up to applied index ${target}`);
    say(formatStatusTable(await collectStatus(c.endpoints)).trimEnd().replace(/^/gm, "   "));

    let missing = 0;
    for (const key of acked) {
      const { value } = await history.record(3, "get", null, () => api.get({ key }), { key, output: (r) => r.value ?? "" });
      if (value === undefined) missing++;
    }
    say(`== every acknowledged write read back: ${acked.length - missing} of ${acked.length} present${missing ? ` (${missing} LOST)` : ""}`);
    const check = checkHistory(kvModel, history.operations(), { timeoutMs: 20_000 });
    say(`== linearizability check of ${history.size} recorded operations: ${check.verdict}`);
    return missing === 0 && check.verdict === "linearizable" ? 0 : 1;
  } finally {
    client?.close();
    if (cluster) {
      await cluster.stop();
      say("== stopped every node");
    }
    await rm(data, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`demo failed: ${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  },
);
