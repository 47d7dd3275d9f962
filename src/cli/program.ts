import { Command } from "commander";
import { TOOLKIT_VERSION } from "../package-root.js";
import type { CommandContext, GlobalOptions } from "../commands/context.js";

/** A command implementation: validated inside, returns an exit code when it is not 0. */
export type CommandRun = (ctx: CommandContext, options: Record<string, unknown>, args: string[]) => Promise<number | undefined>;

export interface RunState {
  exitCode: number;
}

/**
 * Wraps a lazily imported command so that `mlops --help` never loads Prisma or tfjs: the
 * module is imported only when its command runs.
 */
function lazy(state: RunState, load: () => Promise<CommandRun>) {
  return async (...received: unknown[]): Promise<void> => {
    const command = received.at(-1) as Command;
    const args = command.args;
    const options = command.optsWithGlobals() as Record<string, unknown> & GlobalOptions;
    const [run, { createContext }] = await Promise.all([load(), import("../commands/context.js")]);
    const code = await run(createContext(options), options, args);
    state.exitCode = code ?? 0;
  };
}

export function buildProgram(state: RunState): Command {
  const program = new Command("mlops")
    .description("Take a tabular binary classifier from raw data to a gated, served, monitored model on PostgreSQL.")
    .version(TOOLKIT_VERSION, "-V, --version", "print the toolkit version")
    .option("--json", "print exactly one JSON document on stdout (for scripts and CI)")
    .option("--verbose", "show stack traces of errors on stderr")
    .option("-C, --cwd <dir>", "run as if mlops was started in <dir>")
    .helpOption("-h, --help", "show help for a command")
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .exitOverride()
    .addHelpText(
      "after",
      `
Exit codes: 0 ok, 1 unexpected failure, 2 bad usage/input/config, 3 a gate failed, 4 database unreachable.
Environment: DATABASE_URL (use that PostgreSQL instead of the embedded one), NO_COLOR.
Start here: mlops init`,
    );

  program
    .command("init")
    .description("create or verify the project here: config, models/, database, migrations (idempotent)")
    .option("--from <file>", "infer the feature schema from your own CSV/JSONL data instead of the sample schema")
    .option("--label <column>", "with --from: the column holding the binary label")
    .option("--row-key <column>", "with --from: a column that identifies each row")
    .option("--sample <n>", "with --from: rows to look at", "10000")
    .option("--positive <value>", "with --from: the label value of the positive class")
    .option("--negative <value>", "with --from: the label value of the negative class")
    .option("--format <format>", "with --from: csv, tsv, jsonl or json (default: from the file name)")
    .option("--encoding <encoding>", "with --from: utf8, latin1 or utf16le", "utf8")
    .action(lazy(state, async () => (await import("../commands/init.js")).runInit));

  program
    .command("up")
    .description("zero to a served model: init, seed (when there is no data), train, evaluate, promote, serve")
    .option("--rows <n>", "synthetic rows to seed when the project has no data", "10000")
    .option("--host <host>", "address to serve on (default from config)")
    .option("--port <port>", "port to serve on (default from config)")
    .option("--no-serve", "stop after promoting instead of serving")
    .action(lazy(state, async () => (await import("../commands/up.js")).runUp));

  program
    .command("seed")
    .argument("[N]", "how many labelled synthetic rows", "1000")
    .description("write N synthetic rows matching the project's schema into the database as one batch")
    .option("--seed <n>", "random seed (same seed, same rows; default: random, printed)")
    .option("--drift <x>", "0..1: shift the distributions and the labelling rule so a model degrades", "0")
    .option("--unlabeled-fraction <f>", "0..1: share of rows left without a label", "0")
    .option("--out <file>", "write a CSV file instead of the database")
    .action(lazy(state, async () => (await import("../commands/seed.js")).runSeed));

  program
    .command("collect")
    .argument("[source]", "a source named in mlops.config.json (sources)")
    .description("ingest one batch: validate, quarantine bad rows with reasons, store, report drift")
    .option("--file <path>", "a CSV, TSV, JSONL or JSON file (.gz accepted); - for standard input")
    .option("--url <url>", "an HTTP(S) URL returning CSV, a JSON array or JSON Lines")
    .option("--query <sql>", "a SELECT to run on another PostgreSQL (with --from-db)")
    .option("--from-db <url>", "the PostgreSQL URL --query runs on")
    .option("--synthetic <n>", "n rows from the synthetic generator")
    .option("--seed <n>", "with --synthetic: random seed")
    .option("--drift <x>", "with --synthetic: 0..1 distribution shift", "0")
    .option("--format <format>", "csv, tsv, jsonl or json (default: from the name or content type)")
    .option("--encoding <encoding>", "utf8, latin1 or utf16le", "utf8")
    .option("--max-invalid <share>", "reject the batch when more rows than this are invalid (0.05 or 5%; default from config: 5%)")
    .option("--force", "collect even when the same input (same checksum) was collected before")
    .option("--feedback <file>", "attach ground-truth labels to logged predictions (columns prediction_id and the label)")
    .action(lazy(state, async () => (await import("../commands/collect.js")).runCollect));

  const data = program
    .command("data")
    .description("show stored examples by split and label, quarantine and recent batches")
    .option("--limit <n>", "how many recent batches to list", "20")
    .action(lazy(state, async () => (await import("../commands/data.js")).runData));
  data
    .command("quarantine")
    .description("show quarantined rows with their reasons")
    .option("--batch <id>", "only this batch")
    .option("--limit <n>", "how many rows", "20")
    .action(lazy(state, async () => (await import("../commands/data.js")).runQuarantine));

  program
    .command("train")
    .description("pretrain an autoencoder, train the classifier, write models/<version>/ and register a candidate")
    .option("--epochs <n>", "classifier epochs (early stopping may end sooner; default from config)")
    .option("--pretrain-epochs <n>", "autoencoder epochs (default from config)")
    .option("--batch-size <n>", "batch size (default from config)")
    .option("--learning-rate <x>", "Adam learning rate (default from config)")
    .option("--hidden <sizes>", "hidden layer sizes, e.g. 64,32 (default from config)")
    .option("--seed <n>", "seed: same data, seed and backend give identical weights (default from config)")
    .option("--no-pretrain", "skip autoencoder pretraining")
    .option("--max-rows <n>", "train on at most n rows (a stable subset)")
    .option("--backend <name>", "tensorflow, wasm or cpu (default: the fastest installed; or MLOPS_BACKEND)")
    .option("--select <which>", "network (default) or best: keep the logistic-regression baseline when its validation F1 is higher")
    .option("--allow-missing-features", "train even when stored rows lack a declared feature entirely (it is then always missing)")
    .action(lazy(state, async () => (await import("../commands/train.js")).runTrain));

  program
    .command("evaluate")
    .description("metrics of a version on fresh labelled data, and the gate (F1 threshold, no worse than the active version)")
    .option("--model <version>", "a version name, or active, candidate, latest (default: active, else latest)")
    .option("--data <file>", "evaluate on an external CSV/JSONL file in the project's schema")
    .option("--split <split>", "test: evaluate on the held-out test split")
    .option(
      "--retrain-if-below",
      "when the active version fails the gate, train a candidate and evaluate it on the held-out part of the same rows (as `mlops run validation-deployment`, without promoting)",
    )
    .action(lazy(state, async () => (await import("../commands/evaluate.js")).runEvaluate));

  program
    .command("predict")
    .description("score rows with a registered version: a file, a query or stored rows in, each row with probability, label and version out")
    .option("--file <path>", "a CSV, TSV, JSONL or JSON file (.gz accepted); - for standard input")
    .option("--query <sql>", "one read-only SELECT to run on another PostgreSQL (with --from-db)")
    .option("--from-db <url>", "the PostgreSQL URL --query runs on")
    .option("--split <split>", "score the stored rows of a split: train, validation or test")
    .option("--batch <id>", "score the stored rows of a collected batch")
    .option("--model <version>", "a version name, or active, candidate, latest", "active")
    .option("--out <file>", "where the scored rows go (- for standard output)", "-")
    .option("--format <format>", "output format: csv, tsv, jsonl or json (default: from --out's name, else the input's)")
    .option("--input-format <format>", "input format when the name does not tell: csv, tsv, jsonl or json")
    .option("--encoding <encoding>", "input encoding: utf8, latin1 or utf16le", "utf8")
    .option("--rejects <file>", "write rows that fail validation here, with the reason per field")
    .option("--threshold <x>", "decision threshold for the label (default: the version's)")
    .option("--max-invalid <share>", "exit 3 when more rows than this are invalid (0.05 or 5%; default from config: 5%)")
    .option("--log", "store each scored row in the prediction log (source batch), so collect --feedback can label it later")
    .action(lazy(state, async () => (await import("../commands/predict.js")).runPredict));

  const models = program
    .command("models")
    .description("list model versions: status, created, training data, F1, active marker")
    .action(lazy(state, async () => (await import("../commands/models.js")).runModels));
  models
    .command("show")
    .argument("<version>", "a version name, or active, candidate, latest")
    .description("print a version's manifest")
    .action(lazy(state, async () => (await import("../commands/models.js")).runModelsShow));

  program
    .command("promote")
    .argument("[version]", "the version to make active (default: the newest candidate)")
    .description("make a version active when its latest evaluation passed the gate; running servers reload")
    .option("--force", "promote despite the gate (needs --reason)")
    .option("--reason <text>", "why (recorded in the history)")
    .option("--rollback", "return to the previously active version")
    .option("--history", "show the append-only promotion history")
    .option("--by <name>", "who promotes (default: MLOPS_ACTOR, else user@host)")
    .action(lazy(state, async () => (await import("../commands/promote.js")).runPromote));

  program
    .command("report")
    .description("write one self-contained HTML file of the project: lineage, version detail, data and drift, live traffic, runs")
    .option("--out <file>", "where to write (default mlops-report.html; with --format md: standard output)")
    .option("--model <version>", "detail this version instead of the active one (--version is the toolkit's own version flag)")
    .option("--since <duration>", "time-based sections cover only this long ago to now: 90m, 24h, 7d, 2w")
    .option("--format <format>", "html, or md for a Markdown summary (pull-request comments, CI job summaries)", "html")
    .action(lazy(state, async () => (await import("../commands/report.js")).runReport));

  program
    .command("run")
    .argument("<pipeline>", "data-collection, training, validation-deployment, or a pipeline from the config")
    .description("run a pipeline now: every run and stage recorded, transient failures retried, one run at a time")
    .action(lazy(state, async () => (await import("../commands/run.js")).runRun));

  const runs = program
    .command("runs")
    .description("list pipeline runs with their stages")
    .option("--pipeline <name>", "only this pipeline")
    .option("--limit <n>", "how many runs", "20")
    .action(lazy(state, async () => (await import("../commands/run.js")).runRuns));
  runs
    .command("show")
    .argument("<id>", "the run's number (as listed by mlops runs)")
    .description("one run in full: every stage attempt with its outputs, error and timing")
    .action(lazy(state, async () => (await import("../commands/run.js")).runRunsShow));

  program
    .command("scheduler")
    .description("run the schedules in the config (cron, @hourly, @daily) on pg-boss; several schedulers trigger each run once")
    .option("--once", "run the pipelines that are due now, then exit (for tests and cron)")
    .action(lazy(state, async () => (await import("../commands/scheduler.js")).runScheduler));

  program
    .command("serve")
    .description("run the prediction server (default http://127.0.0.1:8000): /predict, /health, /model-info, /metrics, /docs, OIP v2")
    .option("--host <host>", "address to bind (default from config: 127.0.0.1; 0.0.0.0 exposes it)")
    .option("--port <port>", "port (default from config: 8000; 0 picks a free one)")
    .option("--model <version>", "serve this version instead of the active one (no reload on promotion)")
    .option("--no-log-predictions", "do not store predictions in the database")
    .option("--workers <n>", "processes sharing the port (node:cluster)", "1")
    .action(lazy(state, async () => (await import("../commands/serve.js")).runServe));

  const checklist = program
    .command("checklist")
    .description("verify the deployment checklist: automatic checks with evidence, manual sign-offs, n/a with reasons")
    .option("--url <url>", "the prediction server to check (default: serve.host and serve.port from the config)")
    .option("--only <section>", "only this section or subsection")
    .option("--junit <file>", "also write JUnit XML")
    .option("--markdown <file>", "also write the checklist filled in ([x] with evidence)")
    .option("--strict", "also require every manual item to be signed")
    .option("--timeout <seconds>", "time limit of each check", "10")
    .action(lazy(state, async () => (await import("../commands/checklist.js")).runChecklistCommand));
  checklist
    .command("sign")
    .argument("<item...>", "the item's number (as listed) or its exact words")
    .description('record a manual sign-off, e.g. mlops checklist sign "Verified by" --by "Ada Lovelace"')
    .requiredOption("--by <name>", "who signs")
    .option("--note <text>", "a note kept with the sign-off")
    .option("--replace", "replace an existing sign-off (the old one stays in the history)")
    .action(lazy(state, async () => (await import("../commands/checklist.js")).runChecklistSign));

  const schema = program.command("schema").description("the project's feature schema");
  schema
    .command("infer")
    .argument("<file>", "a CSV, TSV, JSONL or JSON sample of your data")
    .description("infer the feature schema from data: types, categories, nullability, ranges, the positive label")
    .requiredOption("--label <column>", "the column holding the binary label")
    .option("--row-key <column>", "a column that identifies each row")
    .option("--sample <n>", "rows to look at", "10000")
    .option("--positive <value>", "the label value of the positive class (default: the conventional or minority one)")
    .option("--negative <value>", "the label value of the negative class")
    .option("--format <format>", "csv, tsv, jsonl or json (default: from the file name)")
    .option("--encoding <encoding>", "utf8, latin1 or utf16le", "utf8")
    .option("--write", "replace features, label and rowKey in mlops.config.json")
    .action(lazy(state, async () => (await import("../commands/schema.js")).runSchemaInfer));

  const db = program.command("db").description("manage the database: the embedded server and the schema").exitOverride();
  db.command("status")
    .description("show the server (running, port, data folder), migrations applied/pending and database size")
    .action(lazy(state, async () => (await import("../commands/db.js")).runDbStatus));
  db.command("start")
    .description("start the embedded PostgreSQL server (no-op when it runs or DATABASE_URL is set)")
    .action(lazy(state, async () => (await import("../commands/db.js")).runDbStart));
  db.command("stop")
    .description("stop the embedded PostgreSQL server (it outlives mlops commands until stopped)")
    .action(lazy(state, async () => (await import("../commands/db.js")).runDbStop));
  db.command("backup")
    .description("write a consistent logical backup of every mlops table to .mlops/backups/ (gzipped COPY files + manifest)")
    .option("--dir <dir>", "where backups go (default .mlops/backups)")
    .option("--keep <n>", "keep only the newest n backups", "14")
    .action(lazy(state, async () => (await import("../commands/backup.js")).runDbBackup));
  db.command("restore")
    .argument("[backup]", "a backup folder (default: the newest)")
    .description("restore a backup: --verify restores into a scratch database and compares row counts; --target-url restores into an empty database")
    .option("--verify", "restore into a scratch database, compare row counts and checksums, drop it")
    .option("--target-url <url>", "restore into this (empty) PostgreSQL database")
    .option("--dir <dir>", "where backups are (default .mlops/backups)")
    .action(lazy(state, async () => (await import("../commands/backup.js")).runDbRestore));
  db.command("migrate")
    .description("apply pending migrations from prisma/migrations")
    .action(lazy(state, async () => (await import("../commands/db.js")).runDbMigrate));

  return program;
}
