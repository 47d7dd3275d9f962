import type { CommandSpec } from "../spec.js";

export const schedulerCommand: CommandSpec = {
  name: "scheduler",
  description: "run the schedules in the config (cron, @hourly, @daily) on pg-boss; several schedulers trigger each run once",
  options: [{ flags: "--once", description: "run the pipelines that are due now, then exit (for tests and cron)" }],
  run: async () => (await import("../scheduler.js")).runScheduler,
};
