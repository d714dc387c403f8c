//! Connection poolers in transaction mode (PgBouncer, Supabase's and Neon's poolers, RDS Proxy) hand
//! each transaction to whichever server connection is free: session state does not survive between
//! transactions. `deploy` needs a session of its own — Prisma's advisory lock, `SET lock_timeout`, the
//! watch connection's view of its pid — so a pooled URL is recognised before anything is applied.

/// Why `url` looks like a transaction-mode pooler, or `None`. Recognised: `pgbouncer=true` (how Prisma
/// users mark a PgBouncer URL), Supabase's pooler on port 6543 (its transaction mode; 5432 is session
/// mode), Neon's `-pooler` hosts, and RDS Proxy endpoints.
pub fn transaction_pooler(url: &str) -> Option<&'static str> {
    let lower = url.to_ascii_lowercase();
    let (before_query, query) = lower.split_once('?').unwrap_or((lower.as_str(), ""));
    if query.split('&').any(|pair| pair == "pgbouncer=true") {
        return Some("pgbouncer=true: a PgBouncer in transaction mode");
    }
    // scheme://[user[:password]@]host[:port][/database]
    let authority = before_query
        .split_once("://")
        .map_or(before_query, |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = host_port.rsplit_once(':').unwrap_or((host_port, ""));
    if host.ends_with(".pooler.supabase.com") && port == "6543" {
        return Some("Supabase's pooler on port 6543 (transaction mode)");
    }
    if host.contains("-pooler.") && host.ends_with(".neon.tech") {
        return Some("a Neon pooled endpoint (-pooler)");
    }
    if host.contains(".proxy-") && host.ends_with(".rds.amazonaws.com") {
        return Some("an RDS Proxy endpoint");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::transaction_pooler;

    #[test]
    fn pooled_urls_as_prisma_users_write_them_are_recognised() {
        for pooled in [
            "postgresql://u:p@db.example.com:6432/app?pgbouncer=true",
            "postgres://u@h/app?schema=public&PGBOUNCER=true&connection_limit=1",
            "postgresql://postgres.abc:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres",
            "postgresql://u:p@ep-cool-name-123456-pooler.eu-central-1.aws.neon.tech/neondb?sslmode=require",
            "postgresql://u:p@my-proxy.proxy-abcdefghijkl.us-east-1.rds.amazonaws.com:5432/app",
        ] {
            assert!(transaction_pooler(pooled).is_some(), "{pooled}");
        }
        for direct in [
            "postgresql://postgres@127.0.0.1:5432/postgres",
            "postgresql://postgres.abc:pw@aws-0-eu-central-1.pooler.supabase.com:5432/postgres",
            "postgresql://u:p@ep-cool-name-123456.eu-central-1.aws.neon.tech/neondb",
            "postgresql://u:p@db.abc.us-east-1.rds.amazonaws.com:5432/app?pgbouncer=false",
            "host=localhost dbname=app",
        ] {
            assert_eq!(transaction_pooler(direct), None, "{direct}");
        }
    }
}
