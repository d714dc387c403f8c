import 'dotenv/config'
import { defineConfig, env } from 'prisma/config'

// migrations: { path: 'not/this' }
export default defineConfig({
  schema: 'db/schema.prisma',
  migrations: {
    path: 'db/history',
    seed: 'tsx db/seed.ts',
  },
  datasource: {
    url: env('DATABASE_URL'),
  },
})
