import { MIGRATIONS_DIR } from "../package-root.js";
import { redactUrl } from "../redact.js";
import { connectPg, resolveDatabase, validateDatabaseUrl } from "./connection.js";
import { embeddedStatus } from "./embedded.js";
import { migrationStatus } from "./migrate.js";
/**
 * What `mlops db status` shows. It never starts anything: an embedded server that is down is
 * reported as such, and only a running (or external) server is queried.
 */
export async function databaseStatus(project) {
    const external = process.env.DATABASE_URL?.trim();
    let target;
    let server;
    if (external) {
        validateDatabaseUrl(external);
        target = { url: external, display: redactUrl(external), embedded: false };
        server = { running: true, pid: null, port: Number(new URL(external).port || 5432), dataDir: null, logFile: null };
    }
    else {
        const status = embeddedStatus(project.root);
        server = { running: status.running, pid: status.pid ?? null, port: status.port ?? null, dataDir: status.dataDir, logFile: status.logFile };
        if (status.running)
            target = await resolveDatabase(project, { start: false });
    }
    const base = { mode: external ? "external" : "embedded", url: target?.display ?? null, server };
    if (target === undefined)
        return { ...base, reachable: false, error: null, migrations: null, sizeBytes: null };
    try {
        const client = await connectPg(target, 3000);
        try {
            const size = await client.query("SELECT pg_database_size(current_database())::text AS size");
            return {
                ...base,
                reachable: true,
                error: null,
                migrations: await migrationStatus(client, MIGRATIONS_DIR),
                sizeBytes: Number(size.rows[0]?.size ?? 0),
            };
        }
        finally {
            await client.end();
        }
    }
    catch (error) {
        return { ...base, reachable: false, error: error.message, migrations: null, sizeBytes: null };
    }
}
//# sourceMappingURL=status.js.map