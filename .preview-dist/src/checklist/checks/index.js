import { automationChecks } from "./automation.js";
import { backupChecks } from "./backup.js";
import { databaseChecks } from "./database.js";
import { modelChecks } from "./model.js";
import { serverChecks } from "./server.js";
import { systemChecks } from "./system.js";
/** Every automatic check by name; definitions.ts says which item uses which. */
export const CHECKS = { ...systemChecks, ...databaseChecks, ...modelChecks, ...serverChecks, ...automationChecks, ...backupChecks };
//# sourceMappingURL=index.js.map