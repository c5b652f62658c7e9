/** Starts a real server for the browser tests: `tdb serve` on a free port from the repository
 * root, with the collated datasets the component pages need (built first with `tdb prepare`
 * when the data directory has none, from the tokens bundled with the repository; about a
 * minute for the budget below). The UI is served from dist/ (`npm run e2e` builds it first).
 *
 *   TDB                the tdb executable (default: ../.venv/bin/tdb)
 *   TDB_E2E_DATA_DIR   data directory (default: neuron_viewer/.e2e-data, kept between runs)
 *   TDB_E2E_URL        test an already running server instead of starting one */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { freePort, waitForHealth } from "./serve";

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
  }
}

const viewer = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repo = resolve(viewer, "..");
const tdb = process.env.TDB ?? join(repo, ".venv", "bin", "tdb");
const dataDir = process.env.TDB_E2E_DATA_DIR ?? join(viewer, ".e2e-data");
const MODEL = "toy-gelu-2l";
const COLLATION_TOKENS = "32768";

function prepareDatasets(): void {
  mkdirSync(dataDir, { recursive: true });
  if (existsSync(join(dataDir, "collations", MODEL, "index.json"))) return;
  console.log(`e2e: collating ${COLLATION_TOKENS} bundled tokens for ${MODEL} into ${dataDir}`);
  const result = spawnSync(
    tdb,
    ["prepare", MODEL, "--data-dir", dataDir, "--tokens", COLLATION_TOKENS, "--threads", "1"],
    { cwd: repo, stdio: "inherit" },
  );
  if (result.status !== 0) throw new Error(`tdb prepare failed (${String(result.status)})`);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.TDB_E2E_URL;
  if (given !== undefined) {
    project.provide("baseUrl", given.replace(/\/$/, ""));
    return async () => {};
  }
  if (!existsSync(join(viewer, "dist", "index.html"))) {
    throw new Error("dist/ has no build: run `npm run build` first (`npm run e2e` does)");
  }
  prepareDatasets();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = "";
  const child = spawn(tdb, ["serve", "--model", MODEL, "--port", String(port), "--data-dir", dataDir], {
    cwd: repo,
    env: { ...process.env, HF_HUB_OFFLINE: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  await waitForHealth(url, child, () => output);
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
