import type { CommandSpec } from "../spec.js";
import { checklistCommand } from "./checklist.js";
import { collectCommand } from "./collect.js";
import { dataCommand } from "./data.js";
import { dbCommand } from "./db.js";
import { evaluateCommand } from "./evaluate.js";
import { initCommand } from "./init.js";
import { modelsCommand } from "./models.js";
import { predictCommand } from "./predict.js";
import { promoteCommand } from "./promote.js";
import { reportCommand } from "./report.js";
import { runCommand, runsCommand } from "./run.js";
import { schedulerCommand } from "./scheduler.js";
import { schemaCommand } from "./schema.js";
import { seedCommand } from "./seed.js";
import { serveCommand } from "./serve.js";
import { trainCommand } from "./train.js";
import { upCommand } from "./up.js";

/** Every command in the order `mlops --help` lists them. */
export const COMMANDS: CommandSpec[] = [
  initCommand,
  upCommand,
  seedCommand,
  collectCommand,
  dataCommand,
  trainCommand,
  evaluateCommand,
  predictCommand,
  modelsCommand,
  promoteCommand,
  reportCommand,
  runCommand,
  runsCommand,
  schedulerCommand,
  serveCommand,
  checklistCommand,
  schemaCommand,
  dbCommand,
];
