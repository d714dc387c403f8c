-- CreateTable
CREATE TABLE "T" (
    "id" INTEGER NOT NULL,
    "a" INTEGER,
    "it""s" INTEGER,

    CONSTRAINT "T_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "canary" (
    "id" INTEGER NOT NULL,

    CONSTRAINT "canary_pkey" PRIMARY KEY ("id")
);
