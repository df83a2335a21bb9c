import { defineConfig } from 'drizzle-kit';

// drizzle-kit only drafts SQL from the table declarations (`npx drizzle-kit generate`); the draft is
// then reviewed and filed under schema/migrations/<release>/ where our own runner applies it.
export default defineConfig({
  dialect: 'mysql',
  schema: './schema/tables/index.ts',
  out: './.local/drizzle-drafts',
  breakpoints: true,
});
