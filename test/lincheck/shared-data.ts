// Locates ../shared/linearizability (the repository is cloned with shared/ beside it) and reads
// its manifest. Shared by the lincheck tests; not a test file itself.

import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { HistoryFormat } from "../../runtime/testing/lincheck/index.js";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const SHARED_DIR = path.resolve(REPO_ROOT, "../shared/linearizability");

export interface ManifestEntry {
  readonly file: string;
  readonly model: "register" | "kv";
  readonly format: HistoryFormat;
  readonly ops: number;
  readonly indeterminate: number;
  readonly linearizable: boolean;
}

export function readManifest(): ManifestEntry[] {
  return JSON.parse(readFileSync(path.join(SHARED_DIR, "manifest.json"), "utf8")) as ManifestEntry[];
}

export function sharedPath(file: string): string {
  return path.join(SHARED_DIR, file);
}
