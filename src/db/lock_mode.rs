//! PostgreSQL's table lock modes: their names (as SQL writes them and as `pg_locks` shows them) and
//! the documentation's conflict table. `check` reads them from `pg_locks`; `deploy` asks for them
//! with `LOCK TABLE` and looks for sessions holding conflicting ones.

use serde::Serialize;

/// PostgreSQL's table lock modes, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LockMode {
    AccessShare,
    RowShare,
    RowExclusive,
    ShareUpdateExclusive,
    Share,
    ShareRowExclusive,
    Exclusive,
    AccessExclusive,
}

impl LockMode {
    pub const ALL: [LockMode; 8] = [
        LockMode::AccessShare,
        LockMode::RowShare,
        LockMode::RowExclusive,
        LockMode::ShareUpdateExclusive,
        LockMode::Share,
        LockMode::ShareRowExclusive,
        LockMode::Exclusive,
        LockMode::AccessExclusive,
    ];

    /// As `LOCK TABLE .. IN <mode> MODE` writes it (and the planner's texts).
    pub fn name(self) -> &'static str {
        match self {
            LockMode::AccessShare => "ACCESS SHARE",
            LockMode::RowShare => "ROW SHARE",
            LockMode::RowExclusive => "ROW EXCLUSIVE",
            LockMode::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            LockMode::Share => "SHARE",
            LockMode::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            LockMode::Exclusive => "EXCLUSIVE",
            LockMode::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }

    /// From `ACCESS EXCLUSIVE` (the planner) or `AccessExclusiveLock` (`pg_locks.mode`).
    pub fn parse(text: &str) -> Option<Self> {
        let squeezed: String = text
            .trim_end_matches("Lock")
            .chars()
            .filter(|c| c.is_ascii_alphabetic())
            .collect::<String>()
            .to_ascii_uppercase();
        Self::ALL
            .into_iter()
            .find(|m| m.name().replace(' ', "") == squeezed)
    }

    /// PostgreSQL's conflict table ("Conflicting Lock Modes" in the documentation).
    pub fn conflicts_with(self, other: LockMode) -> bool {
        use LockMode::*;
        let (a, b) = if self <= other {
            (self, other)
        } else {
            (other, self)
        };
        match a {
            AccessShare => b == AccessExclusive,
            RowShare => b >= Exclusive,
            RowExclusive => b >= Share,
            ShareUpdateExclusive => b >= ShareUpdateExclusive,
            Share => b == RowExclusive || b == ShareUpdateExclusive || b >= ShareRowExclusive,
            ShareRowExclusive => b >= RowExclusive,
            Exclusive => b >= RowShare,
            AccessExclusive => true,
        }
    }

    /// Whether holding it stops writers (INSERT, UPDATE, DELETE take ROW EXCLUSIVE).
    pub fn blocks_writes(self) -> bool {
        self.conflicts_with(LockMode::RowExclusive)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_conflict_table_is_postgresqls() {
        use LockMode::*;
        // Rows of the documentation's table: the modes each one conflicts with.
        let expected: [(LockMode, &[LockMode]); 8] = [
            (AccessShare, &[AccessExclusive]),
            (RowShare, &[Exclusive, AccessExclusive]),
            (
                RowExclusive,
                &[Share, ShareRowExclusive, Exclusive, AccessExclusive],
            ),
            (
                ShareUpdateExclusive,
                &[
                    ShareUpdateExclusive,
                    Share,
                    ShareRowExclusive,
                    Exclusive,
                    AccessExclusive,
                ],
            ),
            (
                Share,
                &[
                    RowExclusive,
                    ShareUpdateExclusive,
                    ShareRowExclusive,
                    Exclusive,
                    AccessExclusive,
                ],
            ),
            (
                ShareRowExclusive,
                &[
                    RowExclusive,
                    ShareUpdateExclusive,
                    Share,
                    ShareRowExclusive,
                    Exclusive,
                    AccessExclusive,
                ],
            ),
            (
                Exclusive,
                &[
                    RowShare,
                    RowExclusive,
                    ShareUpdateExclusive,
                    Share,
                    ShareRowExclusive,
                    Exclusive,
                    AccessExclusive,
                ],
            ),
            (AccessExclusive, &LockMode::ALL),
        ];
        for (mode, conflicts) in expected {
            for other in LockMode::ALL {
                assert_eq!(
                    mode.conflicts_with(other),
                    conflicts.contains(&other),
                    "{mode:?} vs {other:?}"
                );
            }
        }
        assert!(!RowShare.blocks_writes() && Share.blocks_writes());
        assert_eq!(
            LockMode::parse("AccessExclusiveLock"),
            Some(AccessExclusive)
        );
        assert_eq!(
            LockMode::parse("SHARE ROW EXCLUSIVE"),
            Some(ShareRowExclusive)
        );
        assert_eq!(LockMode::parse("ShareLock"), Some(Share));
    }
}
