/** Quotes a table or column name for SQL text (COPY and DDL cannot take names as parameters). */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Prisma's migration history table: mlops writes it the way `prisma migrate deploy` does (migrate.ts). */
export const MIGRATIONS_TABLE = "_prisma_migrations";
