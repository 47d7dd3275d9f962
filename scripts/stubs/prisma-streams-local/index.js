// See package.json: only `prisma dev` (a local Prisma Postgres server) imports this module.
export async function startLocalDurableStreamsServer() {
  throw new Error(
    "`prisma dev` is not available in the mlops repository: it needs Node 22 and mlops uses its own embedded PostgreSQL (`mlops db start`).",
  );
}
