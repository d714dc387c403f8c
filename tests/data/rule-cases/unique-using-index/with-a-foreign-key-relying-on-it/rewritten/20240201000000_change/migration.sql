-- CreateTable
CREATE TABLE "Profile" ("id" TEXT NOT NULL, "userName" TEXT NOT NULL);
