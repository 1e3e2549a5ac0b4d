#!/usr/bin/env node
// The `raftgen` executable: runs the compiled CLI (dist/, built by `npm run build` or the
// package's `prepare` script) and turns its result into the process exit code. It must stay a
// thin shim: all behaviour lives in generator/cli.ts, which never calls process.exit itself.
import { main } from "../dist/generator/cli.js";

const io = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
};

try {
  process.exitCode = await main(process.argv.slice(2), io);
} catch (err) {
  // A bug, not a user mistake: show the stack.
  process.stderr.write(`raftgen: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 70;
}
