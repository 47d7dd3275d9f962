import pg from "pg";
import type { Project } from "../config/load.js";
import { resolveDatabase, type DatabaseTarget } from "../db/connection.js";
import { generateRows } from "../data/synthetic.js";

export interface CheckResult {
  ok: boolean;
  /** What was looked at and found, in words that tell the user what to fix. */
  evidence: string;
  /** The item does not apply to this project as configured; the evidence says why. */
  notApplicable?: boolean;
}

export interface HttpAnswer {
  status: number;
  body: unknown;
  ms: number;
}

/**
 * What the checks share: the project, one small connection pool, the server's URL, and
 * memoised facts (a fact several checks need, such as the server's /health answer, is fetched
 * once per checklist run).
 */
export class CheckContext {
  private pool: pg.Pool | undefined;
  private target: Promise<DatabaseTarget> | undefined;
  private readonly memos = new Map<string, Promise<unknown>>();

  constructor(
    readonly project: Project,
    /** The prediction server to check, without a trailing slash. */
    readonly url: string,
    readonly apiKey: string | undefined,
  ) {}

  database(): Promise<DatabaseTarget> {
    // A checklist reports a stopped database; it never starts one.
    this.target ??= resolveDatabase(this.project, { start: false });
    return this.target;
  }

  async query<T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    if (!this.pool) {
      const target = await this.database();
      this.pool = new pg.Pool({ connectionString: target.url, max: 4, connectionTimeoutMillis: 3000, application_name: "mlops checklist" });
      this.pool.on("error", () => undefined);
    }
    return (await this.pool.query<T>(sql, params)).rows;
  }

  memo<T>(key: string, compute: () => Promise<T>): Promise<T> {
    if (!this.memos.has(key)) this.memos.set(key, compute());
    return this.memos.get(key) as Promise<T>;
  }

  async http(path: string, init: RequestInit = {}): Promise<HttpAnswer> {
    const started = performance.now();
    const response = await fetch(`${this.url}${path}`, { ...init, signal: AbortSignal.timeout(5000) });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON (the metrics text, the docs page).
    }
    return { status: response.status, body, ms: performance.now() - started };
  }

  /** The server's /health answer, or the reason it did not answer. */
  health(): Promise<HttpAnswer | { error: string }> {
    return this.memo("health", () => this.http("/health").catch((error: Error) => ({ error: unreachable(this.url, error) })));
  }

  /** A row that passes validation: the newest stored example's features, else a synthetic one. */
  sampleRow(): Promise<Record<string, unknown>> {
    return this.memo("sample-row", async () => {
      const rows = await this.query<{ features: Record<string, unknown> }>("SELECT features FROM examples ORDER BY created_at DESC LIMIT 1").catch(
        () => [],
      );
      if (rows[0]) return rows[0].features;
      const [row] = [...generateRows(this.project.config, { rows: 1, seed: 1, drift: 0, unlabeledFraction: 0 })];
      const features = { ...row };
      delete features[this.project.config.label.name];
      return features;
    });
  }

  /** One POST /predict with a valid row. */
  prediction(): Promise<HttpAnswer | { error: string }> {
    return this.memo("prediction", async () => {
      const row = await this.sampleRow();
      return this.http("/predict", this.predictInit(row)).catch((error: Error) => ({ error: unreachable(this.url, error) }));
    });
  }

  predictInit(row: Record<string, unknown>): RequestInit {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.apiKey) headers["x-api-key"] = this.apiKey;
    return { method: "POST", headers, body: JSON.stringify({ features: row, request_id: "mlops-checklist" }) };
  }

  async close(): Promise<void> {
    await this.pool?.end().catch(() => undefined);
  }
}

export function unreachable(url: string, error: Error): string {
  const cause = (error as { cause?: { code?: string } }).cause?.code;
  const reason = cause ?? (error.name === "TimeoutError" ? "timed out" : error.message);
  return `no server answers at ${url} (${reason}): start it with \`mlops serve\` or pass --url`;
}

export const pass = (evidence: string): CheckResult => ({ ok: true, evidence });
export const fail = (evidence: string): CheckResult => ({ ok: false, evidence });
export const notApplicable = (reason: string): CheckResult => ({ ok: true, evidence: reason, notApplicable: true });
