UPDATE "User" SET "name" = "name" || '!';
CREATE UNIQUE INDEX "User_name_key" ON "User"("name");
