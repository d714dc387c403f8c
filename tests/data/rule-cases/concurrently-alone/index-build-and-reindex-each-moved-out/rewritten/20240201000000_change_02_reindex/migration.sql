-- migrate-safe: from migration "20240201000000_change": runs a CONCURRENTLY statement outside a transaction (must stay alone in this file)
REINDEX INDEX CONCURRENTLY "User_email_key";
