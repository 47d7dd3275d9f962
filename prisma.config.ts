import { defineConfig } from "prisma/config";

// `env("DATABASE_URL")` would throw when the variable is unset (as it is with the embedded
// database), so read it directly: only Prisma's own migrate/studio commands need it.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "" },
});
