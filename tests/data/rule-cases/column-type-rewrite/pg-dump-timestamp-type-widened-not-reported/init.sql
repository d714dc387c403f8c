CREATE TABLE "Event" ("id" TEXT NOT NULL, "at" timestamp(3) without time zone);
