UPDATE ONLY "public"."Post" SET "title" = 'x';
