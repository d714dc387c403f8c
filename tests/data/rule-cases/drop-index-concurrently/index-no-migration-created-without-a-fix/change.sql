-- DropIndex
DROP INDEX "Legacy_idx";
