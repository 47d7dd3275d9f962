import { spawn } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { createHash } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, json, runCli, startServe, stopServe, tempProject, SAMPLE_ROW } from "../helpers/cli.js";

/** Small and quick: this file is about the registry and the files, not model quality. */
const QUICK = ["--epochs", "3", "--pretrain-epochs", "1", "--hidden", "8"];
const BLOCK_TFJS = fileURLToPath(new URL("../helpers/block-tfjs.mjs", import.meta.url));
const KILL_AT_REGISTER = fileURLToPath(new URL("../helpers/kill-at-register.mjs", import.meta.url));

let project: ReturnType<typeof tempProject>;
const mlops = (...args: string[]) => runCli(args, { cwd: project.dir });
const models = () => path.join(project.dir, "models");

interface Trained {
  version: string;
  strategy: string;
  crossValidation: { folds: number; network: { f1: { mean: number; std: number } } } | null;
  network: { validationF1: number };
  baseline: { kind: string; validationF1: number };
  swept: { removed: string[]; recovered: string[] };
}

/** Runs train in a child SIGKILLed just before or just after the database registers its version (helpers/kill-at-register.mjs). */
function trainKilledAt(point: "before" | "after"): Promise<NodeJS.Signals | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", KILL_AT_REGISTER, CLI, "train", ...QUICK, "--json"], {
      cwd: project.dir,
      env: { ...process.env, DATABASE_URL: "", MLOPS_KILL_AT_REGISTER: point },
      stdio: "ignore",
    });
    child.on("exit", (_code, signal) => resolve(signal));
  });
}

beforeAll(async () => {
  project = tempProject();
  expect((await mlops("init")).code).toBe(0);
  expect((await mlops("seed", "1500", "--seed", "4")).code).toBe(0);
});
afterAll(async () => project?.cleanup());

describe("training on small data", () => {
  it("cross-validates, prints the fold scores and both models, and records them in the manifest", async () => {
    // Boosted trees are on by default (model.boostedTrees), so no flag asks for them.
    const train = await mlops("train", ...QUICK);
    expect(train.code, train.stderr).toBe(0);
    expect(train.stdout).toMatch(/strategy\s+5-fold cross-validation/);
    expect(train.stdout).toMatch(/refitted on all of them; \d+ numeric features? also in up to 8 bins/);
    expect(train.stdout).toMatch(/trees\s+100 gradient-boosted trees of depth 3, cross-validated and refitted beside the network/);
    expect(train.stdout).toMatch(
      /blend\s+weight (0\.[1-9]|1\.0) on the trees: log odds \d+\.\d\d x network \+ \d+\.\d\d x trees [-+] \d+\.\d\d \(weight out of fold: the nearest 0\.5 within one standard error of the lowest log loss, each score calibrated\)/,
    );
    expect(train.stdout).toMatch(/folds\s+network F1 0\.\d{3} ± 0\.\d{3}, ROC AUC 0\.\d{3} ± 0\.\d{3}; baseline F1/);
    expect(train.stdout).toMatch(/logistic regression: out-of-fold over 5 folds F1 0\.\d{3}/);

    const trained = json<Trained>(await mlops("train", ...QUICK, "--json"));
    expect(trained.strategy).toBe("cross-validation");
    expect(trained.crossValidation!.folds).toBe(5);
    expect(trained.baseline.kind).toBe("logistic-regression");
    const manifest = JSON.parse(readFileSync(path.join(models(), trained.version, "manifest.json"), "utf8"));
    expect(manifest.strategy).toBe("cross-validation");
    expect(manifest.selected).toBe("network");
    expect(manifest.history.pretrain).toEqual([{ epoch: 1, loss: expect.any(Number) }]);
    expect(manifest.history.classifier).toHaveLength(3);
    expect(manifest.history.classifier[2]).toEqual({ epoch: 3, loss: expect.any(Number), valLoss: expect.any(Number), valF1: expect.any(Number) });
    expect(manifest.baseline).toMatchObject({
      kind: "logistic-regression",
      validationF1: trained.baseline.validationF1,
      metrics: { validation: { f1: trained.baseline.validationF1 } },
    });
    expect(manifest.crossValidation.network.foldScores).toHaveLength(5);
    expect(manifest.crossValidation.network.f1).toEqual({ mean: expect.any(Number), std: expect.any(Number) });
    expect(manifest.crossValidation.baseline.rocAuc.mean).toBeGreaterThan(0.5);
    expect(manifest.forwardReference.outputs).toHaveLength(16);
    expect(manifest.preprocess.features[0].clip).toHaveLength(2);
    // Small data: the numerics gain bin inputs, whose edges the manifest carries for serve and evaluate.
    const binned = manifest.preprocess.features.filter((f: { edges?: number[] }) => f.edges);
    expect(binned.length).toBeGreaterThan(0);
    expect((trained as Trained & { binned: { features: number } }).binned.features).toBe(binned.length);
    // On by default (model.boostedTrees), boosted trees' score is the last input, blended in by
    // the served network; serve and evaluate score it from the manifest's refitted trees.
    expect(manifest.preprocess.trees.models).toHaveLength(1);
    expect(manifest.preprocess.trees.models[0].trees).toHaveLength(100);
    expect(manifest.hyperparameters.boostedTrees).toBe(true);
    expect(manifest.boostedTrees).toEqual({
      trees: 100,
      depth: 3,
      blend: { weight: expect.any(Number), network: expect.any(Number), trees: expect.any(Number), bias: expect.any(Number) },
    });
    expect((trained as Trained & { boostedTrees: unknown }).boostedTrees).toEqual(manifest.boostedTrees);
    const plain = json<Trained & { boostedTrees: unknown }>(await mlops("train", ...QUICK, "--no-trees", "--json"));
    expect(plain.boostedTrees).toBeNull();
    const plainManifest = JSON.parse(readFileSync(path.join(models(), plain.version, "manifest.json"), "utf8"));
    expect(plainManifest.preprocess.trees).toBeUndefined();
    expect(plainManifest.preprocess.inputDim).toBe(manifest.preprocess.inputDim - 1);

    const evaluated = await mlops("evaluate", "--model", trained.version, "--split", "test", "--json");
    expect([0, 3]).toContain(evaluated.code);
    expect(json<{ logisticRegression: { metrics: { f1: number }; kept: boolean } }>(evaluated).logisticRegression).toMatchObject({
      kept: false,
      metrics: { f1: expect.any(Number) },
    });
  }, 600_000);

  it("keeps the baseline with --select best when it scores higher, and serves it through the same files", async () => {
    // The network starts from the logistic regression (wide and deep): one epoch at a far too
    // high learning rate throws a one-unit network off that start, so it loses to the baseline.
    // Without boosted trees (on by default), whose blend would otherwise rescue the network.
    const broken = ["--epochs", "1", "--no-pretrain", "--hidden", "1", "--learning-rate", "0.5", "--no-trees"];
    const train = await mlops("train", ...broken, "--select", "best", "--json");
    expect(train.code, train.stderr).toBe(0);
    const trained = json<Trained & { selected: string }>(train);
    expect(trained.baseline.validationF1).toBeGreaterThan(trained.network.validationF1);
    expect(trained.selected).toBe("baseline");
    const modelJson = JSON.parse(readFileSync(path.join(models(), trained.version, "model.json"), "utf8"));
    expect(modelJson.modelTopology.config.layers.filter((l: { class_name: string }) => l.class_name === "Dense")).toHaveLength(1);
    const evaluated = json<{ logisticRegression: { kept: boolean } }>(
      await mlops("evaluate", "--model", trained.version, "--split", "test", "--json"),
    );
    expect(evaluated.logisticRegression.kept).toBe(true);

    const noticed = await mlops("train", ...broken);
    expect(noticed.stdout).toContain("The logistic-regression baseline beats the network");
  }, 600_000);
});

describe("the registry and the model files", () => {
  it("serves with tfjs blocked in every process: the forward pass is checked against the manifest's reference outputs", async () => {
    // With boosted trees blended in: the served inputs then end with the trees' score, which
    // preprocessing computes from the manifest, without tfjs.
    const trained = json<Trained & { boostedTrees: unknown }>(await mlops("train", ...QUICK, "--trees", "--json"));
    expect(trained.boostedTrees).not.toBeNull();
    expect((await mlops("promote", trained.version, "--force", "--reason", "serve test")).code).toBe(0);
    const server = await startServe(project.dir, ["--workers", "1"], { NODE_OPTIONS: `--import=${BLOCK_TFJS}` });
    try {
      const features = SAMPLE_ROW;
      const response = await fetch(`${server.url}/predict`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ features }),
      });
      expect(response.status, server.stderr()).toBe(200);
      expect((await response.json()).model_version).toBe(trained.version);
    } finally {
      await stopServe(server.child);
    }
    expect(server.stderr()).not.toContain("tfjs is blocked");
  }, 600_000);

  it("refuses a version whose weights were changed with the manifest's checksum rewritten: evaluate and promote exit 2", async () => {
    const trained = json<Trained>(await mlops("train", ...QUICK, "--json"));
    const dir = path.join(models(), trained.version);
    const weights = readFileSync(path.join(dir, "weights.bin"));
    weights[100] = weights[100]! ^ 1;
    writeFileSync(path.join(dir, "weights.bin"), weights);
    const manifest = JSON.parse(readFileSync(path.join(dir, "manifest.json"), "utf8"));
    manifest.files["weights.bin"] = createHash("sha256").update(weights).digest("hex");
    writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(manifest, null, 2));

    const evaluated = await mlops("evaluate", "--model", trained.version, "--split", "test");
    expect(evaluated.code).toBe(2);
    expect(evaluated.stderr).toContain("weights.bin does not match its checksum in the registry");
    expect(evaluated.stderr).toContain("hint:");
    const promoted = await mlops("promote", trained.version, "--force", "--reason", "tampered");
    expect(promoted.code).toBe(2);
    expect(promoted.stderr).toContain(`${trained.version} cannot be promoted`);
    expect(promoted.stderr).not.toMatch(/this is a bug/i);
  }, 600_000);

  it("gives exit 2 with a hint, never 'a bug', for a missing or damaged model file", async () => {
    const trained = json<Trained>(await mlops("train", ...QUICK, "--json"));
    const dir = path.join(models(), trained.version);
    writeFileSync(path.join(dir, "manifest.json"), "{ truncated");
    const damaged = await mlops("evaluate", "--model", trained.version, "--split", "test");
    expect(damaged.code).toBe(2);
    expect(damaged.stderr).toContain("is not a valid manifest");
    rmSync(path.join(dir, "model.json"));
    rmSync(path.join(dir, "manifest.json"));
    const missing = await mlops("evaluate", "--model", trained.version, "--split", "test");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("No manifest.json");
    expect(missing.stderr + damaged.stderr).not.toMatch(/this is a bug/i);
  }, 600_000);

  it("never leaves a complete models/vN the registry does not know after SIGKILL, and the next train cleans up", async () => {
    expect(await trainKilledAt("before")).toBe("SIGKILL");
    const hidden = readdirSync(models()).filter((n) => n.includes(".partial-"));
    expect(hidden).toHaveLength(1);
    const killedVersion = hidden[0]!.slice(1, hidden[0]!.indexOf(".partial"));
    expect(existsSync(path.join(models(), killedVersion))).toBe(false);

    // The next training sweeps the hidden folder of the killed one before it starts.
    expect(await trainKilledAt("after")).toBe("SIGKILL");
    expect(existsSync(path.join(models(), hidden[0]!))).toBe(false);
    const registered = readdirSync(models()).filter((n) => n.includes(".partial-"));
    expect(registered).toHaveLength(1);
    const registeredVersion = registered[0]!.slice(1, registered[0]!.indexOf(".partial"));

    const next = json<Trained>(await mlops("train", ...QUICK, "--json"));
    expect(next.swept.removed).toEqual([]);
    expect(next.swept.recovered).toEqual([registeredVersion]);
    expect(readdirSync(models()).filter((n) => n.startsWith("."))).toEqual([]);
    const evaluated = await mlops("evaluate", "--model", registeredVersion, "--split", "test", "--json");
    expect([0, 3]).toContain(evaluated.code);
    expect((await mlops("models", "show", killedVersion)).code).toBe(2);
  }, 600_000);
});

describe("a models folder shared with another database", () => {
  it("refuses to train over version folders this registry does not know (exit 2, naming them), and leaves them in place", async () => {
    const trained = json<Trained>(await mlops("train", ...QUICK, "--json"));
    const newest = Number(trained.version.slice(1));
    // Folders another database's registry wrote, with numbers this one has not reached yet.
    const foreign = [`v${newest + 50}`, `v${newest + 51}`];
    for (const name of foreign) cpSync(path.join(models(), trained.version), path.join(models(), name), { recursive: true });
    try {
      const refused = await mlops("train", ...QUICK);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`holds ${foreign.join(", ")}, which this database's registry does not know`);
      expect(refused.stderr).toContain("hint:");
      expect(refused.stderr).not.toMatch(/this is a bug/i);
      for (const name of foreign) expect(existsSync(path.join(models(), name, "manifest.json"))).toBe(true);
    } finally {
      for (const name of foreign) rmSync(path.join(models(), name), { recursive: true, force: true });
    }
  }, 600_000);
});

describe("boosted trees asked for on larger data", () => {
  it("trains without them and warns, naming the small-data limit", async () => {
    const configPath = path.join(project.dir, "mlops.config.json");
    const original = readFileSync(configPath, "utf8");
    const config = JSON.parse(original);
    config.model.smallDataRows = 100;
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    try {
      const trained = await mlops("train", ...QUICK, "--trees", "--json");
      expect(trained.code, trained.stderr).toBe(0);
      expect(trained.stderr).toMatch(
        /warning: No boosted trees were fitted: they train on small data only \(below model\.smallDataRows, 100 labelled rows/,
      );
      const result = json<Trained & { strategy: string; boostedTrees: unknown }>(trained);
      expect(result.strategy).toBe("holdout");
      expect(result.boostedTrees).toBeNull();
      const manifest = JSON.parse(readFileSync(path.join(models(), result.version, "manifest.json"), "utf8"));
      expect(manifest.hyperparameters.boostedTrees).toBe(true);
      expect(manifest.preprocess.trees).toBeUndefined();
      // Not asked for by flag, the default (on) means "on small data": no warning on larger data.
      const byDefault = await mlops("train", ...QUICK, "--json");
      expect(byDefault.code, byDefault.stderr).toBe(0);
      expect(byDefault.stderr).not.toMatch(/No boosted trees were fitted/);
      expect(json<Trained & { boostedTrees: unknown }>(byDefault).boostedTrees).toBeNull();
    } finally {
      writeFileSync(configPath, original);
    }
  }, 600_000);
});

describe("features declared but absent from every stored row", () => {
  it("refuses to train, naming them (exit 2), unless --allow-missing-features, which warns", async () => {
    const configPath = path.join(project.dir, "mlops.config.json");
    const original = readFileSync(configPath, "utf8");
    const config = JSON.parse(original);
    config.features.push({ name: "tenure_months", type: "numeric", nullable: true });
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    try {
      const refused = await mlops("train", ...QUICK, "--json");
      expect(refused.code).toBe(2);
      // Under --json the error's message and hint are in the document on stdout (stderr gets one line).
      const error = json<{ error: { message: string; hint: string } }>(refused).error;
      expect(`${error.message}\n${error.hint}`).toContain('"tenure_months"');
      expect(`${error.message}\n${error.hint}`).toContain("--allow-missing-features");
      const allowed = await mlops("train", ...QUICK, "--allow-missing-features", "--json");
      expect(allowed.code, allowed.stderr).toBe(0);
      expect(allowed.stderr).toMatch(/warning: No stored row holds tenure_months/);
      expect(json<{ missingFeatures: { absent: string[] } }>(allowed).missingFeatures.absent).toEqual(["tenure_months"]);
    } finally {
      writeFileSync(configPath, original);
    }
  }, 600_000);
});
