#!/usr/bin/env node
import { main } from "../src/cli/main.js";
// The one exit point: every command returns its exit code to here.
process.exit(await main(process.argv));
//# sourceMappingURL=mlops.js.map