//! Reporters: the same facts for people (text) and machines (JSON).

pub mod json;
pub mod text;

use serde::Serialize;

use crate::fix::plan::MigrationPlan;
use crate::prove::Verification;
use crate::source::discover::MigrationsDir;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Write,
    DryRun,
    Check,
}

/// What is known once every plan has been streamed out.
pub struct Report<'a> {
    pub dir: &'a MigrationsDir,
    /// How many migrations need a rewrite, and how many new folders that makes.
    pub changed: usize,
    pub new_folders: usize,
    /// Hazards `rewrite` has no fix for (warnings and errors left as they are).
    pub hazards_left: usize,
    /// How many migrations were analysed.
    pub targets: usize,
    pub mode: Mode,
    /// Files were written.
    pub written: bool,
    /// The proof: the server used and each migration's result.
    pub verification: Option<(&'a str, &'a [Verification])>,
    /// Whether the rewrite was proven, and if not, why.
    pub proof: &'a Proof,
}

/// Whether a rewrite was proven (`proof` in the JSON report, by `status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Proof {
    /// Nothing to prove: nothing to rewrite, `--check`, or a dry run not asked to prove.
    NotRun { why: String },
    /// `--no-verify` or MIGRATE_SAFE_NO_VERIFY=1.
    Skipped { why: String },
    /// Original and rewrite build the same catalog, under every apply model.
    Proven { server: String },
    /// The proof ran and found a difference or a failure: nothing was written.
    Failed { server: String },
    /// No proof could be made (no scratch server; the history would not apply there): written
    /// anyway unless a proof was required.
    NotProven { why: String, how: String },
}

impl Report<'_> {
    pub fn needs_rewrite(&self) -> bool {
        self.changed > 0
    }
}

/// Plans are printed as they are made, so a long history is never held in memory whole.
pub trait Sink {
    fn begin(
        &mut self,
        dir: &MigrationsDir,
        prisma: &crate::prisma::PrismaTarget,
        mode: Mode,
        targets: usize,
    ) -> std::io::Result<()>;
    fn plan(&mut self, plan: &MigrationPlan) -> std::io::Result<()>;
    fn finish(&mut self, report: &Report) -> std::io::Result<()>;
}

/// A unified diff of one file, `a/` and `b/` paths relative to the migrations directory.
pub fn unified_diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(old_name, new_name)
        .to_string()
}

/// The diffs a plan makes: the edited original, then each new file.
pub fn plan_diffs(plan: &MigrationPlan) -> Vec<String> {
    let mut diffs = Vec::new();
    if plan.edits_original {
        let path = format!("{}/migration.sql", plan.migration);
        diffs.push(unified_diff(
            &plan.original_sql,
            &plan.rewritten_sql,
            &format!("a/{path}"),
            &format!("b/{path}"),
        ));
    }
    for new in &plan.new_migrations {
        diffs.push(new_file_diff(
            &new.sql,
            &format!("b/{}/migration.sql", new.name),
        ));
    }
    diffs
}

/// The unified diff of a new file, written directly: every line added, nothing to compare (what
/// `unified_diff("", new, "/dev/null", name)` prints, for a file that ends with a newline; `similar`
/// otherwise).
fn new_file_diff(new: &str, new_name: &str) -> String {
    if new.is_empty() || !new.ends_with('\n') {
        return unified_diff("", new, "/dev/null", new_name);
    }
    let lines = new.split_inclusive('\n').count();
    let mut diff = String::with_capacity(new.len() + lines + 64);
    // Unified diff omits a count of one.
    let range = if lines == 1 {
        "1".to_string()
    } else {
        format!("1,{lines}")
    };
    diff.push_str(&format!(
        "--- /dev/null\n+++ {new_name}\n@@ -0,0 +{range} @@\n"
    ));
    for line in new.split_inclusive('\n') {
        diff.push('+');
        diff.push_str(line);
    }
    diff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_diff_is_what_similar_prints() {
        for text in [
            "-- a\nCREATE INDEX CONCURRENTLY x ON t (c);\n",
            "one\n",
            "a\r\nb\r\n",
            "x\n\n\ny\n",
            "no newline at the end",
            "",
        ] {
            assert_eq!(
                new_file_diff(text, "b/f/migration.sql"),
                unified_diff("", text, "/dev/null", "b/f/migration.sql"),
                "{text:?}"
            );
        }
    }
}
