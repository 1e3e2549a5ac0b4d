// Preloaded into every node process the cluster harness starts (`node --import tsx --import
// <this file> runtime/server/main.ts <config>`). The harness keeps the child's stdin open as a
// pipe and never writes to it; when the test process dies, even by SIGKILL, the pipe closes
// and this guard stops the node (SIGTERM to itself, then a hard exit), so no node outlives the
// test that started it. Test-only: the runtime knows nothing of it.

export {}; // a module, not a script: its names stay out of the global scope

const HARD_EXIT_MS = 3_000;

const stdin = process.stdin;
stdin.on("data", () => {
  /* nothing is ever written; reading keeps 'end' observable */
});
const stop = () => {
  setTimeout(() => process.exit(1), HARD_EXIT_MS).unref();
  process.kill(process.pid, "SIGTERM");
};
stdin.once("end", stop);
stdin.once("error", stop);
// Do not keep the process alive for stdin's sake: the node's servers do that while it runs,
// and a stopped node must be able to exit on its own.
(stdin as unknown as { unref?: () => void }).unref?.();

// Debugging aid: RAFTGEN_LAG_MS=<n> logs every event-loop stall longer than n ms to stderr.
const lagMs = Number(process.env.RAFTGEN_LAG_MS ?? 0);
if (lagMs > 0) {
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    if (now - last - 20 > lagMs) process.stderr.write(`[lag] event loop stalled ${Math.round(now - last - 20)} ms\n`);
    last = now;
  }, 20).unref();
}
