import type { DatabaseTarget } from "./connection.js";
import type { PrismaClient } from "../generated/prisma/client.js";

export type { PrismaClient };

/**
 * The one Prisma client of a process, over node-postgres through the driver adapter. Loaded
 * lazily: importing the client costs a few hundred milliseconds that --help must not pay.
 * Callers close it with `$disconnect()` in a finally block.
 */
export async function createPrisma(target: DatabaseTarget): Promise<PrismaClient> {
  const [{ PrismaClient: Client }, { PrismaPg }] = await Promise.all([import("../generated/prisma/client.js"), import("@prisma/adapter-pg")]);
  return new Client({ adapter: new PrismaPg({ connectionString: target.url, application_name: "mlops" }) });
}
