-- migrate-safe: lock-timeout
SET lock_timeout = '5s';

-- CreateTable
CREATE TABLE "Note" (
    "id" TEXT NOT NULL,

    CONSTRAINT "Note_pkey" PRIMARY KEY ("id")
);

-- AlterTable
ALTER TABLE "User" ADD COLUMN "bio" TEXT;

-- migrate-safe: lock-timeout ends with the migration
RESET lock_timeout;
