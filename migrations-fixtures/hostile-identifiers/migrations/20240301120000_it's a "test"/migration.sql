-- Written by hand: identifiers that must not break out of the comments, file names or SQL a rewrite writes.

-- AlterTable
ALTER TABLE "T" ADD COLUMN "b" INTEGER;

-- CreateIndex
CREATE INDEX "evil
DROP TABLE canary;
--" ON "T"("a");

-- CreateIndex
CREATE INDEX "it""s_idx" ON "T"("it""s");
