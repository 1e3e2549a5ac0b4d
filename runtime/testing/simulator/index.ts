// The public surface of the seeded cluster simulator (named exports only).
//
// runSchedule(seed) runs one random, fully seed-determined schedule of a 3- or 5-voter
// cluster of RawNodes (partitions, drops, duplicates, reordering, crashes at any point of the
// driver, restarts, membership changes, snapshots) and checks Raft's safety properties after
// every operation and liveness after healing; a violation throws SimulationError with the
// seed, step, property and recent trace. The pieces are exported for tests and tools that
// build their own scenarios. Nothing here imports a test framework.
//
// This file must not contain code.

// ---- for tests: run schedules, read failures ----
export {
  runSchedule,
  configForSeed,
  describeConfig,
  sizeForSeed,
  AIMED_FAULTS,
  CALM_WEIGHTS,
  DEFAULT_WEIGHTS,
  NEMESIS_WEIGHTS,
} from "./schedule.js";
export type { AimedFaults, ChaosAction, FaultProfile, ScheduleOptions, ScheduleResult, SimulationConfig } from "./schedule.js";
export { SimulationError, Trace } from "./trace.js";
export type { SimProperty } from "./trace.js";

// ---- for tools and custom scenarios: the building blocks ----
export { Cluster, SimNode, CRASH_POINTS, BOOT_ITEM, encodeStateMachine, decodeStateMachine, summarizeReady, textBytes } from "./cluster.js";
export { emptyClusterStats } from "./cluster.js";
export type { ClusterSetup, ClusterStats, CrashPoint, LeaderMoment, NodeParams } from "./cluster.js";
export { SafetyChecker, SafetyViolation, bytesToText, entryContent } from "./checker.js";
export type { LogView } from "./checker.js";
export { Network, NO_FAULTS } from "./network.js";
export type { InFlight, NetworkFaults } from "./network.js";
export { SimRandom } from "./random.js";
