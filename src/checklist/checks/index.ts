import { automationChecks } from "./automation.js";
import { backupChecks } from "./backup.js";
import { batchScoringChecks } from "./batch-scoring.js";
import { databaseChecks } from "./database.js";
import { deployChecks } from "./deploy.js";
import { modelChecks } from "./model.js";
import { serverChecks } from "./server.js";
import { systemChecks } from "./system.js";
import type { CheckContext, CheckResult } from "../context.js";

/** Every automatic check by name; definitions.ts says which item uses which. */
export const CHECKS = {
  ...systemChecks,
  ...databaseChecks,
  ...modelChecks,
  ...serverChecks,
  ...automationChecks,
  ...backupChecks,
  ...deployChecks,
  ...batchScoringChecks,
} satisfies Record<string, (ctx: CheckContext) => Promise<CheckResult>>;

export type CheckName = keyof typeof CHECKS;
