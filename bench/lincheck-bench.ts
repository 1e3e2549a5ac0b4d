// Throughput of the linearizability checker on the shared histories (../shared/linearizability):
// operations checked per second on the largest files, and the wall time of the whole set
// (parse + check, as the shared-histories test does). Run: `npm run bench:lincheck`.
//
// Figures from one machine are only comparable within the same run; the script repeats each
// measurement and prints the median. It must not change anything on disk.

import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  checkHistory,
  kvModel,
  parseHistory,
  registerModel,
  type AnyModel,
  type HistoryFormat,
  type HistoryOperation,
} from "../runtime/testing/lincheck/index.js";

interface Entry {
  file: string;
  model: "register" | "kv";
  format: HistoryFormat;
  ops: number;
  linearizable: boolean;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const shared = path.resolve(root, "../shared/linearizability");
const manifest = JSON.parse(readFileSync(path.join(shared, "manifest.json"), "utf8")) as Entry[];
const models: Record<Entry["model"], AnyModel> = { register: registerModel, kv: kvModel };
const texts = new Map(manifest.map((e) => [e.file, readFileSync(path.join(shared, e.file), "utf8")]));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function checkOne(e: Entry, records?: HistoryOperation[]) {
  const recs = records ?? parseHistory(texts.get(e.file)!, e.format);
  const r = checkHistory(models[e.model], recs, { timeoutMs: 60_000 });
  if ((r.verdict === "linearizable") !== e.linearizable || r.verdict === "unknown") {
    throw new Error(`${e.file}: got ${r.verdict}, expected linearizable=${e.linearizable}`);
  }
  return r;
}

function fullSet(): number {
  const t = performance.now();
  for (const e of manifest) checkOne(e);
  return performance.now() - t;
}

console.log(`lincheck bench: node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"})`);
console.log(`shared set: ${manifest.length} histories\n`);

// Warm up the JIT once, then measure.
const cold = fullSet();
const runs = Array.from({ length: 5 }, fullSet);
console.log(`full shared set (parse + check): first run ${cold.toFixed(0)} ms, median of 5 warm runs ${median(runs).toFixed(0)} ms (min ${Math.min(...runs).toFixed(0)}, max ${Math.max(...runs).toFixed(0)})\n`);

// The largest histories, plus the register history that takes the most search steps.
const byOps = [...manifest].sort((a, b) => b.ops - a.ops).slice(0, 4);
const steps = manifest
  .filter((e) => e.model === "register")
  .map((e) => ({ e, steps: checkOne(e).steps }))
  .sort((a, b) => b.steps - a.steps)
  .slice(0, 2)
  .map((x) => x.e);
console.log("| history | verdict | ops | median check ms | ops/s | search steps | steps/s |");
console.log("|---|---|---:|---:|---:|---:|---:|");
for (const e of [...byOps, ...steps]) {
  const records = parseHistory(texts.get(e.file)!, e.format);
  const times: number[] = [];
  let last = checkOne(e, records);
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    last = checkOne(e, records);
    times.push(performance.now() - t);
  }
  const ms = median(times);
  console.log(
    `| ${e.file} | ${last.verdict} | ${e.ops} | ${ms.toFixed(1)} | ${Math.round((e.ops / ms) * 1000).toLocaleString("en-US")} | ${last.steps.toLocaleString("en-US")} | ${Math.round((last.steps / ms) * 1000).toLocaleString("en-US")} |`,
  );
}

// Parsing alone, on the largest file.
const big = byOps[0]!;
const parseTimes = Array.from({ length: 7 }, () => {
  const t = performance.now();
  parseHistory(texts.get(big.file)!, big.format);
  return performance.now() - t;
});
console.log(`\nparse ${big.file}: median ${median(parseTimes).toFixed(1)} ms`);

// What stopping at the first failure buys on c50-bad: check every partition with a budget.
const c50bad = manifest.find((e) => e.file.endsWith("c50-bad.txt"));
if (c50bad !== undefined) {
  const budgetMs = 3_000;
  const r = checkHistory(models[c50bad.model], parseHistory(texts.get(c50bad.file)!, c50bad.format), {
    timeoutMs: budgetMs,
    stopAtFirstFailure: false,
  });
  const count = (v: string) => r.partitions.filter((p) => p.verdict === v).length;
  console.log(
    `${c50bad.file} without stopping at the first failure, ${budgetMs} ms budget: ` +
      `${count("not-linearizable")} partitions refuted, ${count("linearizable")} linearizable, ` +
      `${count("unknown")} undecided (${r.partitions.filter((p) => p.verdict === "unknown").map((p) => JSON.stringify(p.key)).join(", ")}), ` +
      `${r.steps.toLocaleString("en-US")} steps`,
  );
}
