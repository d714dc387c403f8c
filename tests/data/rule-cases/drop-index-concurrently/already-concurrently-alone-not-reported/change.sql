-- DropIndex
DROP INDEX CONCURRENTLY "Post_authorId_idx";
