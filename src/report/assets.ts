import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

let cached: { script: string; style: string } | undefined;

/**
 * uPlot's browser build and stylesheet, read from the installed package (a dependency, so it
 * ships with mlops) and inlined into every page: the report opens from disk with no network.
 * Its banner comment is replaced by one without the project URL, so the page holds no external
 * address at all; the licence notice stays.
 */
export function chartLibrary(): { script: string; style: string } {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const script = readFileSync(require.resolve("uplot/dist/uPlot.iife.min.js"), "utf8").replace(
    /^\/\*![^*]*\*\//,
    "/*! uPlot (MIT License, Copyright (c) 2022 Leon Sorokin) */",
  );
  const style = readFileSync(require.resolve("uplot/dist/uPlot.min.css"), "utf8");
  cached = { script: script.replaceAll("</script", "<\\/script"), style };
  return cached;
}
