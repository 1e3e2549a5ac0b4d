// raftgen's own version and install location, read once from its package.json. Generated
// headers name the version; `raftgen init` points new projects at this install.
//
// Reads one file at first use.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: { version: string; root: string } | undefined;

/** The directory of raftgen's package.json (from dist/generator/ or from generator/ in a checkout). */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string };
      if (pkg.name === "raftgen") return dir;
    } catch {
      // not here: go up
    }
    dir = dirname(dir);
  }
  throw new Error("cannot find raftgen's package.json");
}

export function raftgenPackage(): { version: string; root: string } {
  if (!cached) {
    const root = findRoot();
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
    cached = { version: pkg.version, root };
  }
  return cached;
}
