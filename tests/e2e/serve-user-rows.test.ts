import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { json, runCli, startServe, stopServe, tempProject } from "../helpers/cli.js";

// A user's own table, as issue 14 brought it: a row key, features, a free-text column that
// schema inference ignores, and the label. The rows collect accepted must be accepted by /predict.
let project: ReturnType<typeof tempProject>;
const mlops = (...args: string[]) => runCli(args, { cwd: project.dir });
const PLANS = ["basic", "plus", "pro"];

function churnTable(rows: number): string {
  const lines = ["customer_id,tenure_months,monthly_fee,plan,support_note,churned"];
  for (let i = 0; i < rows; i += 1) {
    const tenure = (i * 7) % 72;
    const plan = PLANS[i % 3]!;
    lines.push(
      `C${String(100000 + i)},${tenure},${(20 + ((i * 13) % 80)).toFixed(2)},${plan},"note ${i * 31}, free text",${tenure < 20 ? "yes" : "no"}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

beforeAll(async () => {
  project = tempProject();
  const data = path.join(project.dir, "churn.csv");
  writeFileSync(data, churnTable(600));
  const init = await mlops("init", "--from", data, "--label", "churned", "--json");
  expect(init.code, init.stderr).toBe(0);
  const collected = await mlops("collect", "--file", data);
  expect(collected.code, collected.stderr).toBe(0);
  const trained = await mlops("train", "--epochs", "2", "--pretrain-epochs", "1", "--json");
  expect(trained.code, trained.stderr).toBe(0);
  expect((await mlops("promote", json<{ version: string }>(trained).version, "--force", "--reason", "test")).code).toBe(0);
});
afterAll(async () => project?.cleanup());

describe("/predict with the user's own rows", () => {
  it("accepts the row key, the ignored column and the label, and still refuses a truly unknown field", async () => {
    const { child, url } = await startServe(project.dir);
    const post = (features: object) =>
      fetch(`${url}/predict`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ features }) });
    const row = { customer_id: "C100007", tenure_months: 49, monthly_fee: 11.0, plan: "plus", support_note: "note 217, free text", churned: "no" };
    const answered = await post(row);
    expect(answered.status, await answered.clone().text()).toBe(200);
    expect(await answered.json()).toMatchObject({ label: expect.stringMatching(/^(yes|no)$/) });
    const unknown = await post({ ...row, shoe_size: 44 });
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).details).toEqual([{ instance: 0, field: "shoe_size", problem: "unknown field (not in the feature schema)" }]);
    expect(await stopServe(child)).toBe(0);
  });
});
