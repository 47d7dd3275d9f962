import path from "node:path";
import { Output } from "./output.js";
export function createContext(globals) {
    return {
        cwd: path.resolve(globals.cwd ?? process.cwd()),
        out: new Output({ json: globals.json === true }),
    };
}
//# sourceMappingURL=context.js.map