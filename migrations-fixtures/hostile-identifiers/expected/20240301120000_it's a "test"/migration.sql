-- Written by hand: identifiers that must not break out of the comments, file names or SQL a rewrite writes.

-- AlterTable
ALTER TABLE "T" ADD COLUMN "b" INTEGER;
