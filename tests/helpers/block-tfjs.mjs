// Loaded with `node --import`: any import of tfjs fails, so a test proves a process never needs it.
import { register } from "node:module";

register(
  "data:text/javascript," +
    encodeURIComponent(`export async function resolve(specifier, context, next) {
      if (specifier.startsWith("@tensorflow/")) throw new Error("tfjs is blocked in this process: " + specifier);
      return next(specifier, context);
    }`),
);
