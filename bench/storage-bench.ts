// `npm run bench:storage`: what one node's writes cost on this disk, through RocksStorage.
//
// Per simulated op, the three writes a follower makes on the write path: a synced Ready batch
// (one 100-byte entry + hard state), a commit-only hard state (unsynced, as the node writes
// it when it is not folded into the apply batch) and an unsynced apply batch. Prints the
// mean of each and, for reference, the raw binding's cost of a synced and an unsynced
// 2-key batch on the same disk. BENCH_OPS (default 1000) sets the count.
//
// A script, not a test: timings on a shared machine vary too much to assert on.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RocksDb } from "../runtime/storage/rocksdb-binding.js";
import { RocksStorage } from "../runtime/storage/index.js";

const N = Number(process.env.BENCH_OPS ?? 1000);
const dir = await mkdtemp(join(tmpdir(), "raftgen-storage-bench-"));
try {
  const s = await RocksStorage.open(join(dir, "node"), { clusterId: "bench", nodeId: 1, create: true, initialConfState: { voters: [1], learners: [] } });
  let idx = s.lastIndex();
  await s.persistReady({ entries: [], hardState: { term: 1, vote: 1, commit: idx } });
  const data = new Uint8Array(100);
  let persist = 0;
  let commit = 0;
  let apply = 0;
  for (let i = 0; i < N; i++) {
    idx++;
    let t = performance.now();
    await s.persistReady({ entries: [{ type: 0, term: 1, index: idx, data, context: new Uint8Array(8) }], hardState: { term: 1, vote: 1, commit: idx - 1 } });
    persist += performance.now() - t;
    t = performance.now();
    await s.persistReady({ entries: [], hardState: { term: 1, vote: 1, commit: idx }, mustSync: false });
    commit += performance.now() - t;
    t = performance.now();
    await s.applyBatch([{ type: "put", table: "kv", key: `k${i}`, value: data }], idx, undefined, { sync: false });
    apply += performance.now() - t;
  }
  await s.close();

  const raw = await RocksDb.open(join(dir, "raw"), { createIfMissing: true });
  const rawCost = async (sync: boolean) => {
    const t = performance.now();
    for (let i = 0; i < N; i++) {
      await raw.write(
        [
          { type: "put", key: Buffer.from(`k${i}`), value: Buffer.from(data) },
          { type: "put", key: Buffer.from("applied"), value: Buffer.alloc(12) },
        ],
        { sync },
      );
    }
    return (performance.now() - t) / N;
  };
  const rawSynced = await rawCost(true);
  const rawUnsynced = await rawCost(false);
  await raw.close();

  const us = (ms: number) => `${(ms * 1000).toFixed(0)} us`;
  console.log(`storage-bench: ${N} ops`);
  console.log(`  RocksStorage: persistReady synced ${us(persist / N)}, commit-only unsynced ${us(commit / N)}, applyBatch unsynced ${us(apply / N)}`);
  console.log(`  raw binding:  2-key batch synced ${us(rawSynced)}, unsynced ${us(rawUnsynced)}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
