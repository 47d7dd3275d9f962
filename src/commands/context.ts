import path from "node:path";
import { Output } from "../terminal/output.js";

/** What every command receives besides its own options. */
export interface CommandContext {
  cwd: string;
  out: Output;
}

export interface GlobalOptions {
  json?: boolean;
  verbose?: boolean;
  cwd?: string;
}

export function createContext(globals: GlobalOptions): CommandContext {
  return {
    cwd: path.resolve(globals.cwd ?? process.cwd()),
    out: new Output({ json: globals.json === true }),
  };
}
