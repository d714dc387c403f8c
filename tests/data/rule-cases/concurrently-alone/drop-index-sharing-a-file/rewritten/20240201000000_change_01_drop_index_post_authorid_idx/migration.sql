-- migrate-safe: from migration "20240201000000_change": drops "Post_authorId_idx" without blocking reads or writes (must stay alone in this file)
DROP INDEX CONCURRENTLY "Post_authorId_idx";
