import { defineConfig } from 'prisma/config'

export default defineConfig({
  schema: "database/schema.prisma",
})
