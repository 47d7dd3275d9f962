import { execFileSync } from "node:child_process";
import { createReadStream, mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isSpecialFile, writeFileAtomically } from "../../src/output-file.js";
import { ByteSink } from "../../src/pipeline/predict/sink.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "mlops-output-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A named pipe and everything written into it (a pipe stands in for /dev/null or /dev/stdout, which a test must not risk). */
function pipe(name: string): { file: string; received: Promise<string> } {
  const file = path.join(dir, name);
  execFileSync("mkfifo", [file]);
  const received = new Promise<string>((resolve, reject) => {
    let text = "";
    createReadStream(file, "utf8")
      .on("data", (chunk) => (text += chunk))
      .on("end", () => resolve(text))
      .on("error", reject);
  });
  return { file, received };
}

describe("output to a device or a pipe", () => {
  it("writes a report into a pipe in place, leaving it a pipe (a rename over /dev/null replaced the device)", async () => {
    const { file, received } = pipe("report");
    expect(isSpecialFile(file)).toBe(true);
    await writeFileAtomically(file, "<html>report</html>");
    expect(await received).toBe("<html>report</html>");
    expect(statSync(file).isFIFO()).toBe(true);
  });

  it("streams predict output into a pipe in place", async () => {
    const { file, received } = pipe("predictions");
    const sink = ByteSink.open(file);
    const row = Buffer.from("id,probability\n1,0.5\n");
    sink.bytes(row, 0, row.length);
    await sink.commit();
    expect(await received).toBe("id,probability\n1,0.5\n");
    expect(statSync(file).isFIFO()).toBe(true);
  });

  it("still writes a regular file through a private temporary file renamed into place", async () => {
    const file = path.join(dir, "report.html");
    expect(isSpecialFile(file)).toBe(false);
    await writeFileAtomically(file, "first");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(isSpecialFile(file)).toBe(false);
  });
});
