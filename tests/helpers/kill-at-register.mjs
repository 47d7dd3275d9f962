// Loaded with `node --import` by the crash tests: SIGKILLs the process just before the database
// registers a model version (MLOPS_KILL_AT_REGISTER=before: the INSERT INTO model_versions is
// about to be sent) or just after (=after: it has been acknowledged, autocommitted), as a power
// cut would. It patches pg's Client, which Prisma's adapter sends every statement through, so
// the code under test carries no hook of its own.
import { createRequire } from "node:module";

const point = process.env.MLOPS_KILL_AT_REGISTER;
const pg = createRequire(import.meta.url)("pg");
const query = pg.Client.prototype.query;
const kill = () => process.kill(process.pid, "SIGKILL");

pg.Client.prototype.query = function (...args) {
  const text = typeof args[0] === "string" ? args[0] : args[0]?.text;
  if (!/^INSERT INTO "public"\."model_versions"/.test(text ?? "")) return query.apply(this, args);
  if (point === "before") kill();
  const callback = typeof args.at(-1) === "function" ? args.pop() : null;
  if (callback)
    return query.call(this, ...args, (error, result) => {
      if (!error && point === "after") kill();
      callback(error, result);
    });
  return query.apply(this, args).then((result) => {
    if (point === "after") kill();
    return result;
  });
};
