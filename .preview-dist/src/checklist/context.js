import pg from "pg";
import { resolveDatabase } from "../db/connection.js";
import { generateRows } from "../data/synthetic.js";
/**
 * What the checks share: the project, one small connection pool, the server's URL, and
 * memoised facts (a fact several checks need, such as the server's /health answer, is fetched
 * once per checklist run).
 */
export class CheckContext {
    project;
    url;
    apiKey;
    pool;
    target;
    memos = new Map();
    constructor(project, 
    /** The prediction server to check, without a trailing slash. */
    url, apiKey) {
        this.project = project;
        this.url = url;
        this.apiKey = apiKey;
    }
    database() {
        // A checklist reports a stopped database; it never starts one.
        this.target ??= resolveDatabase(this.project, { start: false });
        return this.target;
    }
    async query(sql, params = []) {
        if (!this.pool) {
            const target = await this.database();
            this.pool = new pg.Pool({ connectionString: target.url, max: 4, connectionTimeoutMillis: 3000, application_name: "mlops checklist" });
            this.pool.on("error", () => undefined);
        }
        return (await this.pool.query(sql, params)).rows;
    }
    memo(key, compute) {
        if (!this.memos.has(key))
            this.memos.set(key, compute());
        return this.memos.get(key);
    }
    async http(path, init = {}) {
        const started = performance.now();
        const response = await fetch(`${this.url}${path}`, { ...init, signal: AbortSignal.timeout(5000) });
        const text = await response.text();
        let body = text;
        try {
            body = JSON.parse(text);
        }
        catch {
            // Not JSON (the metrics text, the docs page).
        }
        return { status: response.status, body, ms: performance.now() - started };
    }
    /** The server's /health answer, or the reason it did not answer. */
    health() {
        return this.memo("health", () => this.http("/health").catch((error) => ({ error: unreachable(this.url, error) })));
    }
    /** A row that passes validation: the newest stored example's features, else a synthetic one. */
    sampleRow() {
        return this.memo("sample-row", async () => {
            const rows = await this.query("SELECT features FROM examples ORDER BY created_at DESC LIMIT 1").catch(() => []);
            if (rows[0])
                return rows[0].features;
            const [row] = [...generateRows(this.project.config, { rows: 1, seed: 1, drift: 0, unlabeledFraction: 0 })];
            const features = { ...row };
            delete features[this.project.config.label.name];
            return features;
        });
    }
    /** One POST /predict with a valid row. */
    prediction() {
        return this.memo("prediction", async () => {
            const row = await this.sampleRow();
            return this.http("/predict", this.predictInit(row)).catch((error) => ({ error: unreachable(this.url, error) }));
        });
    }
    predictInit(row) {
        const headers = { "content-type": "application/json" };
        if (this.apiKey)
            headers["x-api-key"] = this.apiKey;
        return { method: "POST", headers, body: JSON.stringify({ features: row, request_id: "mlops-checklist" }) };
    }
    async close() {
        await this.pool?.end().catch(() => undefined);
    }
}
export function unreachable(url, error) {
    const cause = error.cause?.code;
    const reason = cause ?? (error.name === "TimeoutError" ? "timed out" : error.message);
    return `no server answers at ${url} (${reason}): start it with \`mlops serve\` or pass --url`;
}
export const pass = (evidence) => ({ ok: true, evidence });
export const fail = (evidence) => ({ ok: false, evidence });
//# sourceMappingURL=context.js.map