import path from 'node:path'
import { defineConfig } from 'prisma/config'

export default defineConfig({
  migrations: {
    path: path.join(__dirname, 'db', 'migrations'),
  },
})
