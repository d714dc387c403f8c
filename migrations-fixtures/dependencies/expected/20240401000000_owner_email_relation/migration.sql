-- AlterTable
ALTER TABLE "Team" ADD COLUMN     "ownerEmail" TEXT;
