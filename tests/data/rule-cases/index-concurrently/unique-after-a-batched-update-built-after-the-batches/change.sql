UPDATE "User" SET "name" = NULL;
CREATE UNIQUE INDEX "User_name_key" ON "User"("name");
