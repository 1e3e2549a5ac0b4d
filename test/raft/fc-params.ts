// fast-check run parameters shared by the Raft core's property tests, with replay support.
//
// On a failure fast-check prints the seed and the path of the shrunk counterexample, e.g.
//   Property failed after 12 tests
//   { seed: 1234567, path: "11:0:3", endOnFailure: true }
// Replay exactly that case (select the one property with -t, since the path belongs to it):
//   FC_SEED=1234567 FC_PATH="11:0:3" npx vitest run test/raft/properties.test.ts -t "committedIndex"
// FC_RUNS=<n> overrides the number of runs of every property (e.g. a long soak:
// FC_RUNS=20000); without FC_SEED each run of the suite uses a fresh random seed.

import type { Parameters } from "fast-check";

/** fast-check parameters: `numRuns` unless FC_RUNS is set, plus FC_SEED / FC_PATH for replay. */
export function fcParams<T>(numRuns: number): Parameters<T> {
  const env = process.env;
  const p: Parameters<T> = { numRuns: env.FC_RUNS ? Number(env.FC_RUNS) : numRuns };
  if (env.FC_SEED) p.seed = Number(env.FC_SEED);
  if (env.FC_PATH) p.path = env.FC_PATH;
  return p;
}
