import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The import direction the README's layout section promises, checked from the source text:
 * cli -> commands -> report -> checklist -> pipeline -> server -> registry -> model -> data/project
 * -> db -> config/terminal. A folder may import its own files and any folder of a lower layer (a
 * larger number), never one of its own layer or above; files at the top of src/ (errors, redact,
 * package-root) and the generated code are below everything.
 */
const LAYERS: Record<string, number> = {
  cli: 0,
  commands: 1,
  report: 2,
  checklist: 3,
  pipeline: 4,
  server: 5,
  registry: 6,
  model: 7,
  data: 8,
  project: 8,
  db: 9,
  config: 10,
  terminal: 10,
  generated: 11,
};
const ROOT_LAYER = 11;

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "generated" ? [] : sourceFiles(full);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [full] : [];
  });
}

/** Relative imports of a file (static, type-only and dynamic alike), as paths of .ts files under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)"(\.{1,2}\/[^"]+)"/g)].map((m) => m[1]!);
  return specifiers.map((spec) => path.resolve(path.dirname(file), spec).replace(/\.js$/, ".ts"));
}

function layerOf(file: string): { folder: string; rank: number } {
  const rel = path.relative(SRC, file).split(path.sep);
  if (rel.length === 1) return { folder: ".", rank: ROOT_LAYER };
  const folder = rel[0]!;
  return { folder, rank: LAYERS[folder] ?? -1 };
}

const files = sourceFiles(SRC);
const graph = new Map(files.map((file) => [file, importsOf(file).filter((target) => target.startsWith(SRC))]));
const rel = (file: string) => path.relative(SRC, file);

describe("layers", () => {
  it("puts every folder of src/ in a layer", () => {
    const unknown = [
      ...new Set(
        files
          .map(layerOf)
          .filter((l) => l.rank < 0)
          .map((l) => l.folder),
      ),
    ];
    expect(unknown).toEqual([]);
  });

  it("imports only downwards between folders", () => {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      const from = layerOf(file);
      for (const target of targets) {
        const to = layerOf(target);
        if (to.folder !== from.folder && to.rank <= from.rank) upward.push(`${rel(file)} -> ${rel(target)}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it("has no import cycle between files", () => {
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (file: string) => {
      state.set(file, "open");
      stack.push(file);
      for (const target of graph.get(file) ?? []) {
        if (state.get(target) === "open") cycles.push([...stack.slice(stack.indexOf(target)), target].map(rel).join(" -> "));
        else if (!state.has(target)) visit(target);
      }
      stack.pop();
      state.set(file, "done");
    };
    for (const file of files) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });
});
