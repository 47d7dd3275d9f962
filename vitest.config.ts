import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "tests/**/*.test.ts"],
    globalSetup: ["tests/global-setup.ts"],
    // Generous: end-to-end tests train real models on two shared cores; a passing test ends when it is done.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
