/** Starting `tdb serve` for the browser tests: a free port, and waiting for its health route. */
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";

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
