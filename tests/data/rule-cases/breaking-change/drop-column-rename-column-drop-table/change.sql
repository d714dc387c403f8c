-- AlterTable
ALTER TABLE "User" DROP COLUMN "name",
RENAME COLUMN "email" TO "mail";

-- DropTable
DROP TABLE "Post";
