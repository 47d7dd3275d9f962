// Where the classifier's training time goes, and how it compares with PyTorch in the same run:
// the 20-64-32-1 classifier on 100k rows x 20 features at batch 256, one epoch at a time, as
// `mlops train` runs it. Measured on the same inputs: tfjs `model.fit` (what training used
// before), mlops's own loop of optimiser steps (src/model/fit.ts), the forward pass alone, and
// PyTorch (Debian's python3-torch) when `python3 -c "import torch"` works, on the same cores.
import { spawnSync } from "node:child_process";
import { loadTf } from "../dist/src/model/backend.js";
import { fitOneEpoch } from "../dist/src/model/fit.js";
import { createClassifier, createWideAndDeep } from "../dist/src/model/network.js";

const ROWS = 100_000;
const DIM = 20;
const BATCH = 256;
const EPOCHS = 3;
const { tf, backend } = await loadTf(process.env.MLOPS_BACKEND);
let state = 1;
const random = () => (state = (state * 1103515245 + 12345) >>> 0) / 4294967296;
const x = Float32Array.from({ length: ROWS * DIM }, () => random() * 2 - 1);
const y = Float32Array.from({ length: ROWS }, (_, i) => (x[i * DIM] + x[i * DIM + 1] > 0 ? 1 : 0));
const classWeight = { 0: 1, 1: 1 };
const shape = { inputDim: DIM, hidden: [64, 32], learningRate: 0.001, seed: 1 };

async function samplesPerSecond(step) {
  await step(); // warm-up: kernels compiled, memory grown
  const started = performance.now();
  for (let e = 0; e < EPOCHS; e++) await step();
  return Math.round((EPOCHS * ROWS) / ((performance.now() - started) / 1000));
}

const fitModel = createClassifier(tf, shape);
const xs = tf.tensor2d(x, [ROWS, DIM]);
const ys = tf.tensor2d(y, [ROWS, 1]);
const viaFit = await samplesPerSecond(() => fitModel.fit(xs, ys, { epochs: 1, batchSize: BATCH, shuffle: false, verbose: 0, classWeight }));
const packed = { x, y, rows: ROWS, inDim: DIM, outDim: 1 };
const loopModel = createClassifier(tf, shape);
const viaLoop = await samplesPerSecond(() => fitOneEpoch(tf, loopModel, packed, BATCH, classWeight));
// What `mlops train` trains since the wide-and-deep change: the same network plus a linear term of the inputs.
const wideModel = createWideAndDeep(tf, shape);
const viaLoopWide = await samplesPerSecond(() => fitOneEpoch(tf, wideModel, packed, BATCH, classWeight));
// Small data trains at small batches (at least 32 steps an epoch): per-step overhead shows there.
const small = 32;
const fitSmall = createClassifier(tf, shape);
const xs32 = tf.tensor2d(x.subarray(0, 10_000 * DIM), [10_000, DIM]);
const ys32 = tf.tensor2d(y.subarray(0, 10_000), [10_000, 1]);
const smallRate = async (step) => Math.round((await samplesPerSecond(step)) / (ROWS / 10_000));
const viaFitSmall = await smallRate(() => fitSmall.fit(xs32, ys32, { epochs: 1, batchSize: small, shuffle: false, verbose: 0, classWeight }));
const loopSmall = createClassifier(tf, shape);
const viaLoopSmall = await smallRate(() =>
  fitOneEpoch(tf, loopSmall, { x: x.subarray(0, 10_000 * DIM), y: y.subarray(0, 10_000), rows: 10_000, inDim: DIM, outDim: 1 }, small, classWeight),
);
xs32.dispose();
ys32.dispose();
const forwardOnly = await samplesPerSecond(async () => {
  for (let s = 0; s < ROWS; s += BATCH)
    tf.tidy(() => loopModel.apply(tf.tensor2d(x.subarray(s * DIM, Math.min(ROWS, s + BATCH) * DIM), [Math.min(BATCH, ROWS - s), DIM])).dataSync());
});
xs.dispose();
ys.dispose();

const line = (name, value, reference) =>
  console.log(
    `${name.padEnd(44)} ${value.toLocaleString("en-US").padStart(9)} samples/s${reference ? `  (${(value / reference).toFixed(2)}x of PyTorch)` : ""}`,
  );
const torch = pytorchSamplesPerSecond();
console.log(`20-64-32-1 classifier, ${ROWS.toLocaleString("en-US")} rows x ${DIM}, batch ${BATCH}, tfjs on ${backend}:`);
line("tfjs model.fit (training before)", viaFit, torch);
line("mlops optimiser loop (src/model/fit.ts)", viaLoop, torch);
line("mlops optimiser loop, wide and deep (train)", viaLoopWide, torch);
line("tfjs forward pass only, batch 256", forwardOnly);
line("tfjs model.fit, batch 32 (10k rows)", viaFitSmall);
line("mlops optimiser loop, batch 32 (10k rows)", viaLoopSmall);
if (torch) line("PyTorch, same model, Adam, BCE, 2 threads", torch);
else console.log("PyTorch: not measured (python3 -c 'import torch' failed; apt-get install python3-torch)");
console.log(`wide and deep against the plain network, own loop: ${(viaLoopWide / viaLoop).toFixed(2)}x`);
console.log(
  `own loop against model.fit: ${(viaLoop / viaFit).toFixed(2)}x at batch ${BATCH}, ${(viaLoopSmall / viaFitSmall).toFixed(2)}x at batch ${small}`,
);

function pytorchSamplesPerSecond() {
  const script = `
import time, torch
torch.manual_seed(1); torch.set_num_threads(2)
rows, dim, batch, epochs = ${ROWS}, ${DIM}, ${BATCH}, ${EPOCHS}
x = torch.rand(rows, dim) * 2 - 1
y = ((x[:, 0] + x[:, 1]) > 0).float().unsqueeze(1)
model = torch.nn.Sequential(torch.nn.Linear(dim, 64), torch.nn.ReLU(), torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1), torch.nn.Sigmoid())
opt = torch.optim.Adam(model.parameters(), lr=0.001)
loss_fn = torch.nn.BCELoss()
def epoch():
    for s in range(0, rows, batch):
        opt.zero_grad(); loss = loss_fn(model(x[s:s+batch]), y[s:s+batch]); loss.backward(); opt.step()
epoch()
t = time.perf_counter()
for _ in range(epochs): epoch()
print(round(epochs * rows / (time.perf_counter() - t)))
`;
  // Debian's python3-torch lives under /usr/bin/python3, which a pyenv or venv python3 on PATH hides.
  const python = process.env.PYTHON ?? "/usr/bin/python3";
  const result = spawnSync(python, ["-c", script], { encoding: "utf8" });
  return result.status === 0 ? Number(result.stdout.trim()) : null;
}
