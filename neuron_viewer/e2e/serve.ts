/** Starting `tdb serve` for the browser tests: a free port, and waiting for its health route. */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const VIEWER = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const REPO = resolve(VIEWER, "..");
/** The tdb executable (TDB, default: the repository's .venv). */
export const TDB = process.env.TDB ?? join(REPO, ".venv", "bin", "tdb");
/** The data directory shared by the browser tests (TDB_E2E_DATA_DIR, default .e2e-data). */
export const E2E_DATA_DIR = process.env.TDB_E2E_DATA_DIR ?? join(VIEWER, ".e2e-data");

const START_TIMEOUT_MS = 180_000;

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => ok(port));
    });
  });
}

export async function waitForHealth(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`tdb serve exited (${child.exitCode}):\n${log()}`);
    try {
      const response = await fetch(`${url}/api/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`tdb serve did not answer ${url}/api/health in ${START_TIMEOUT_MS} ms:\n${log()}`);
}

export interface Served {
  child: ChildProcess;
  url: string;
  /** The end of the server's output (kept with `keepOutput`). */
  output: () => string;
}

/** `tdb serve ARGS --port PORT` from the repository root, offline, once it answers its health
 * route; with `keepOutput` its last output is kept for error messages. */
export async function startTdb(args: string[], keepOutput = false): Promise<Served> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = keepOutput ? "" : "(output not kept)";
  const child = spawn(TDB, ["serve", ...args, "--port", String(port)], {
    cwd: REPO,
    env: { ...process.env, HF_HUB_OFFLINE: "1" },
    stdio: keepOutput ? ["ignore", "pipe", "pipe"] : "ignore",
  });
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  await waitForHealth(url, child, () => output);
  return { child, url, output: () => output };
}
