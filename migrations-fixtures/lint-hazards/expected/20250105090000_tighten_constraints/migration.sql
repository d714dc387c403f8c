/*
  Warnings:

  - The values [ENTERPRISE] on the enum `Plan` will be removed. If these variants are still used in the database, this will fail.
  - You are about to drop the column `legacyCode` on the `User` table. All the data in the column will be lost.
  - A unique constraint covering the columns `[teamId,code]` on the table `Project` will be added. If there are existing duplicate values, this will fail.
  - A unique constraint covering the columns `[slug]` on the table `Team` will be added. If there are existing duplicate values, this will fail.
  - Made the column `name` on table `User` required. This step will fail if there are existing NULL values in that column.

*/
-- migrate-safe: lock-timeout
SET lock_timeout = '5s';

-- AlterEnum
BEGIN;
CREATE TYPE "Plan_new" AS ENUM ('FREE', 'PRO');
ALTER TABLE "public"."Team" ALTER COLUMN "plan" DROP DEFAULT;
ALTER TABLE "Team" ALTER COLUMN "plan" TYPE "Plan_new" USING ("plan"::text::"Plan_new");
ALTER TYPE "Plan" RENAME TO "Plan_old";
ALTER TYPE "Plan_new" RENAME TO "Plan";
DROP TYPE "public"."Plan_old";
ALTER TABLE "Team" ALTER COLUMN "plan" SET DEFAULT 'FREE';
COMMIT;

-- AlterTable
ALTER TABLE "Invoice" ALTER COLUMN "reference" SET DATA TYPE VARCHAR(100);

-- AlterTable
ALTER TABLE "Project" ADD COLUMN     "publicId" UUID NOT NULL DEFAULT gen_random_uuid(),
ALTER COLUMN "budget" SET DATA TYPE BIGINT;

-- AlterTable
ALTER TABLE "User" DROP COLUMN "legacyCode",
ALTER COLUMN "name" SET NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "Project_teamId_code_key" ON "Project"("teamId", "code");

-- CreateIndex
CREATE UNIQUE INDEX "Team_slug_key" ON "Team"("slug");

-- migrate-safe: lock-timeout ends with the migration
RESET lock_timeout;
