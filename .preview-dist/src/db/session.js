import { MIGRATIONS_DIR } from "../package-root.js";
import { connectPg, resolveDatabase } from "./connection.js";
import { applyMigrations, migrationStatus } from "./migrate.js";
import { createPrisma } from "./prisma.js";
async function migrateIfNeeded(client) {
    const status = await migrationStatus(client, MIGRATIONS_DIR);
    if (status.pending.length > 0)
        await applyMigrations(client, MIGRATIONS_DIR);
}
/** For long-running commands (serve, run) that open their own connections: the database, started and migrated. */
export async function prepareDatabase(project) {
    const target = await resolveDatabase(project);
    const client = await connectPg(target);
    try {
        await migrateIfNeeded(client);
    }
    finally {
        await client.end().catch(() => undefined);
    }
    return target;
}
/**
 * Connects a command to the project's database: starts the embedded server when needed and
 * applies pending migrations (a newer mlops may bring some), so no command ever meets an old
 * schema. Both clients are closed when `fn` settles.
 */
export async function withDatabase(project, fn) {
    const target = await resolveDatabase(project);
    const client = await connectPg(target);
    let prisma;
    try {
        await migrateIfNeeded(client);
        return await fn({ target, client, prisma: () => (prisma ??= createPrisma(target)) });
    }
    finally {
        await client.end().catch(() => undefined);
        if (prisma)
            await (await prisma).$disconnect().catch(() => undefined);
    }
}
//# sourceMappingURL=session.js.map