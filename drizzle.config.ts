/**
 * drizzle-kit configuration for the application database (helfy_app).
 * `helfy migrate create <name>` (src/db/postgres/migrate.ts) runs `drizzle-kit generate` with
 * this file; migrations are applied by helfy's own runner, which records them in drizzle's
 * `drizzle.__drizzle_migrations` table so drizzle-kit and drizzle-orm read the same history.
 */
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './templates/api/src/db/schema.ts',
  out: './migrations/postgres',
  migrations: { table: '__drizzle_migrations', schema: 'drizzle' },
  strict: true,
  verbose: true,
});
