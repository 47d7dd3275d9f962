import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { BrowserContext } from "playwright-core";

/** Debian's chromium (installed by .ci/run when it can), or CHROMIUM_PATH. */
export const CHROMIUM = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p): p is string => !!p && existsSync(p));
export const NO_BROWSER_REASON = "no Chromium installed (apt-get install chromium, or set CHROMIUM_PATH): the browser tests are skipped";

/** Screenshots of the browser tests go here; the tests print the folder. */
export const SCREENSHOT_DIR = path.resolve(process.env.MLOPS_TEST_ARTIFACTS ?? path.join(os.tmpdir(), "mlops-test-artifacts"), "report");

export interface PageInspection {
  consoleErrors: string[];
  /** Requests to anything but the page's own address (file or server) or a data: URL. */
  externalRequests: string[];
  /** Each chart's name and how many coloured (series) pixels its canvases hold. */
  charts: Record<string, number>;
  lineagePoints: number | null;
  text: string;
  screenshot: string;
}

/** A fresh headless Chromium with a throwaway profile; the caller closes it. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(path.join(os.tmpdir(), "mlops-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM!,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Opens a page, waits until its script has drawn, and reports what a user would see go wrong:
 * console errors, requests leaving the page, charts without marks.
 */
export async function inspectPage(context: BrowserContext, url: string, name: string, headers: Record<string, string> = {}): Promise<PageInspection> {
  const page = await context.newPage();
  await page.setExtraHTTPHeaders(headers);
  const consoleErrors: string[] = [];
  const externalRequests: string[] = [];
  const own = url.startsWith("file:") ? url.split("#")[0]! : new URL(url).origin;
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(error.message));
  page.on("request", (request) => {
    const target = request.url();
    if (!target.startsWith(own) && !target.startsWith("data:")) externalRequests.push(target);
  });
  await page.goto(url);
  await page.waitForSelector("body[data-drawn]", { timeout: 20_000 });
  // Coloured pixels only: axes, grid and labels are grey or black, series and markers are not.
  const charts = await page.evaluate(() => {
    const result: Record<string, number> = {};
    for (const node of Array.from(document.querySelectorAll<HTMLElement>("[data-chart]"))) {
      let coloured = 0;
      for (const canvas of Array.from(node.querySelectorAll("canvas"))) {
        if (!canvas.width || !canvas.height) continue;
        const pixels = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 0; i < pixels.length; i += 4) {
          const r = pixels[i]!,
            g = pixels[i + 1]!,
            b = pixels[i + 2]!,
            a = pixels[i + 3]!;
          if (a > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured += 1;
        }
      }
      result[node.dataset.chart!] = coloured;
    }
    return result;
  });
  const lineage = await page.$('[data-chart="lineage"]');
  const points = lineage ? await lineage.getAttribute("data-points") : null;
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const screenshot = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: screenshot, fullPage: true });
  const text = (await page.textContent("body")) ?? "";
  await page.close();
  return { consoleErrors, externalRequests, charts, lineagePoints: points === null ? null : Number(points), text, screenshot };
}

/** Addresses outside the page in places a browser would fetch from: src/href attributes, CSS url(), script code. */
export function externalReferences(html: string): string[] {
  const found: string[] = [];
  // Tags only: script bodies are checked below, and escaped text (&lt;img ...) is no tag.
  const markup = html.replace(/(<script\b[^>]*>)[\s\S]*?(<\/script>)/gi, "$1$2");
  for (const tag of markup.matchAll(/<[a-z][^>]*>/gi)) {
    for (const m of tag[0].matchAll(/\s(?:src|href|action|srcset|poster|data|formaction)\s*=\s*["']?([^"'\s>]+)/gi))
      if (/^(?:https?:)?\/\//i.test(m[1]!)) found.push(m[0]);
  }
  for (const m of html.matchAll(/url\(\s*["']?((?:https?:)?\/\/[^)"']+)/gi)) found.push(m[0]);
  for (const m of html.matchAll(/<script(?![^>]*application\/json)[^>]*>([\s\S]*?)<\/script>/gi))
    for (const u of m[1]!.matchAll(/https?:\/\/[^\s"'`)]+/g)) found.push(u[0]);
  for (const m of html.matchAll(/<link[^>]*>/gi)) found.push(m[0]);
  return found;
}
