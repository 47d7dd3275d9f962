import { ExitCode, MlopsError, usageError } from "../errors.js";

export type BackendName = "tensorflow" | "wasm" | "cpu";
export type Tf = typeof import("@tensorflow/tfjs");

/**
 * Loads tfjs on the fastest backend available: tfjs-node ("tensorflow") when it is installed
 * (it needs a libtensorflow download, so it is optional), else WebAssembly with SIMD, else the
 * pure-JS cpu backend. `--backend` or MLOPS_BACKEND forces one. tfjs prints notices through
 * console: they are sent to stderr so --json output stays clean.
 */
export async function loadTf(requested?: string): Promise<{ tf: Tf; backend: BackendName }> {
  const wanted = requested ?? process.env.MLOPS_BACKEND;
  if (wanted !== undefined && !["tensorflow", "wasm", "cpu"].includes(wanted)) {
    throw usageError("BACKEND_UNKNOWN", `Unknown backend "${wanted}".`, "Use tensorflow, wasm or cpu (or unset MLOPS_BACKEND).");
  }
  const log = console.log;
  console.log = (...args: unknown[]) => console.error(...args);
  try {
    if (wanted === undefined || wanted === "tensorflow") {
      try {
        const tfNode = (await import("@tensorflow/tfjs-node" as string)) as Tf;
        await tfNode.setBackend("tensorflow");
        await tfNode.ready();
        return { tf: tfNode, backend: "tensorflow" };
      } catch (error) {
        if (wanted === "tensorflow") {
          throw new MlopsError("BACKEND_UNAVAILABLE", `The tensorflow backend is not available: ${(error as Error).message.split("\n")[0]}`, {
            exitCode: ExitCode.usage,
            hint: "Install @tensorflow/tfjs-node (it downloads libtensorflow), or use --backend wasm.",
          });
        }
      }
    }
    const tf = await import("@tensorflow/tfjs");
    if (wanted === undefined || wanted === "wasm") {
      try {
        await import("@tensorflow/tfjs-backend-wasm");
        if (await tf.setBackend("wasm")) {
          await tf.ready();
          return { tf, backend: "wasm" };
        }
      } catch (error) {
        if (wanted === "wasm") {
          throw new MlopsError("BACKEND_UNAVAILABLE", `The wasm backend did not start: ${(error as Error).message}`, {
            exitCode: ExitCode.usage,
            hint: "Use --backend cpu.",
          });
        }
      }
    }
    await tf.setBackend("cpu");
    await tf.ready();
    return { tf, backend: "cpu" };
  } finally {
    console.log = log;
  }
}
