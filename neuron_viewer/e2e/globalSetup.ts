/** Starts a real server for the browser tests: `tdb serve` on a free port from the repository
 * root, with the collated datasets the component pages need (built first with `tdb prepare`
 * when the data directory has none, from the tokens bundled with the repository; about a
 * minute for the budget below). The UI is served from dist/ (`npm run e2e` builds it first).
 *
 *   TDB                the tdb executable (default: ../.venv/bin/tdb)
 *   TDB_E2E_DATA_DIR   data directory (default: neuron_VIEWER/.e2e-data, kept between runs)
 *   TDB_E2E_URL        test an already running server instead of starting one */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { E2E_DATA_DIR, REPO, startTdb, TDB, VIEWER } from "./serve";

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
  }
}

const MODEL = "toy-gelu-2l";
const COLLATION_TOKENS = "32768";

function prepareDatasets(): void {
  mkdirSync(E2E_DATA_DIR, { recursive: true });
  if (existsSync(join(E2E_DATA_DIR, "collations", MODEL, "index.json"))) return;
  console.log(`e2e: collating ${COLLATION_TOKENS} bundled tokens for ${MODEL} into ${E2E_DATA_DIR}`);
  const result = spawnSync(
    TDB,
    ["prepare", MODEL, "--data-dir", E2E_DATA_DIR, "--tokens", COLLATION_TOKENS, "--threads", "1"],
    { cwd: REPO, stdio: "inherit" },
  );
  if (result.status !== 0) throw new Error(`tdb prepare failed (${String(result.status)})`);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.TDB_E2E_URL;
  if (given !== undefined) {
    project.provide("baseUrl", given.replace(/\/$/, ""));
    return async () => {};
  }
  if (!existsSync(join(VIEWER, "dist", "index.html"))) {
    throw new Error("dist/ has no build: run `npm run build` first (`npm run e2e` does)");
  }
  prepareDatasets();
  const { child, url } = await startTdb(["--model", MODEL, "--data-dir", E2E_DATA_DIR], true);
  project.provide("baseUrl", url);
  const running = () => child.exitCode === null && child.signalCode === null;
  return async () => {
    if (!running()) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (running()) child.kill("SIGKILL");
  };
}
