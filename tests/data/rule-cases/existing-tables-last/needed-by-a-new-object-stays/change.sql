-- AlterTable
ALTER TABLE "User" ADD COLUMN "number" SERIAL;

-- CreateTable
CREATE TABLE "Ticket" (
    "id" INTEGER NOT NULL DEFAULT nextval('"User_number_seq"'),

    CONSTRAINT "Ticket_pkey" PRIMARY KEY ("id")
);
