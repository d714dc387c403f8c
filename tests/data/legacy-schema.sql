-- A database that predates its Prisma migrations: enums, composite keys, partial and GIN indexes,
-- foreign keys with ON DELETE rules, a view, a trigger function.
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE TYPE "Role" AS ENUM ('OWNER', 'ADMIN', 'MEMBER');
CREATE TABLE "Account" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "email" TEXT NOT NULL,
    "deletedAt" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Account_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "Account_email_live_key" ON "Account"("email") WHERE "deletedAt" IS NULL;
CREATE TABLE "Workspace" (
    "id" SERIAL NOT NULL,
    "name" VARCHAR(120) NOT NULL,
    "settings" JSONB NOT NULL DEFAULT '{}',
    CONSTRAINT "Workspace_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "Workspace_settings_idx" ON "Workspace" USING GIN ("settings" jsonb_path_ops);
CREATE TABLE "Membership" (
    "accountId" UUID NOT NULL,
    "workspaceId" INTEGER NOT NULL,
    "role" "Role" NOT NULL DEFAULT 'MEMBER',
    CONSTRAINT "Membership_pkey" PRIMARY KEY ("accountId", "workspaceId"),
    CONSTRAINT "Membership_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Membership_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE VIEW "ActiveAccount" AS SELECT "id", "email" FROM "Account" WHERE "deletedAt" IS NULL;
CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW."updatedAt" := now();
    RETURN NEW;
END;
$$;
CREATE TRIGGER "Account_touch" BEFORE UPDATE ON "Account" FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
INSERT INTO "Account" ("email") VALUES ('a@example.com'), ('b@example.com');
