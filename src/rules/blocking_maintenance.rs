//! `blocking-maintenance`: maintenance commands that lock a whole table for their whole run.
//!
//! **What**: `VACUUM FULL`, `CLUSTER`, `REINDEX` without CONCURRENTLY.
//!
//! **Why**: VACUUM FULL and CLUSTER rewrite the table under ACCESS EXCLUSIVE (no reads, no writes);
//! REINDEX blocks writes (and reads that use the index) for the whole rebuild. None belongs in a
//! migration that runs against a live database (VACUUM cannot even run inside Prisma's transaction).
//!
//! **Safe alternative**: `REINDEX .. CONCURRENTLY` alone in a migration; for bloat, pg_repack or
//! pg_squeeze outside the migrations.

use super::{Action, Finding, Rule, Severity, StatementContext};
use crate::source::classify::{Fact, Maintenance};

pub const RULE: Rule = Rule {
    id: "blocking-maintenance",
    severity: Severity::Error,
    summary: "VACUUM FULL, CLUSTER and non-concurrent REINDEX lock whole tables",
    fix: None,
};

pub fn check(context: &StatementContext) -> Option<Finding> {
    let Fact::Maintenance(what) = &context.statement.fact else {
        return None;
    };
    let (message, help) = match what {
        Maintenance::VacuumFull => (
            "VACUUM FULL rewrites the table under ACCESS EXCLUSIVE: no reads or writes until it ends",
            "remove it; reclaim space online with pg_repack or pg_squeeze, outside the migrations",
        ),
        Maintenance::Cluster => (
            "CLUSTER rewrites the table under ACCESS EXCLUSIVE: no reads or writes until it ends",
            "remove it; reorder online with pg_repack, outside the migrations",
        ),
        Maintenance::Reindex {
            concurrently: false,
        } => (
            "REINDEX blocks writes to the table for the whole rebuild",
            "REINDEX .. CONCURRENTLY, alone in a migration of its own",
        ),
        Maintenance::Reindex { concurrently: true } => return None,
    };
    Some(
        context
            .finding(&RULE, message.to_string(), Action::LeaveAlone)
            .with_help(help),
    )
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::testing::check;

    #[test]
    fn vacuum_full() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"VACUUM FULL "Post";
"#
        ));
    }

    #[test]
    fn reindex_and_cluster() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"REINDEX TABLE "Post";
CLUSTER "Post" USING "Post_pkey";
"#
        ));
    }

    #[test]
    fn concurrent_reindex() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"REINDEX TABLE CONCURRENTLY "Post";
"#
        ));
    }

    #[test]
    fn plain_vacuum() {
        insta::assert_snapshot!(check(
            &RULE,
            r#"VACUUM "Post";
"#
        ));
    }
}
