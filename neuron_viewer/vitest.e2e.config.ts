import { defineConfig } from "vitest/config";

// Browser tests against a real `tdb serve` (started by e2e/globalSetup.ts), driven by
// playwright-core and the system's Chromium. One file at a time: the model runs on the CPU.
export default defineConfig({
  test: {
    include: ["e2e/**/*.e2e.ts"],
    globalSetup: ["e2e/globalSetup.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 900_000,
    reporters: ["verbose"],
  },
});
