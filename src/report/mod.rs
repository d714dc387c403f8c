//! Reporters: the same facts for people (text) and machines (JSON).

pub mod json;
pub mod text;

use serde::Serialize;

use crate::check::verify::Verification;
use crate::fix::plan::MigrationPlan;
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
    /// `--verify`: the server used and each migration's proof.
    pub verification: Option<(&'a str, &'a [Verification])>,
}

impl Report<'_> {
    pub fn needs_rewrite(&self) -> bool {
        self.changed > 0
    }
}

/// Plans are printed as they are made, so a long history is never held in memory whole.
pub trait Sink {
    fn begin(&mut self, dir: &MigrationsDir, mode: Mode, targets: usize) -> std::io::Result<()>;
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
        diffs.push(unified_diff(
            "",
            &new.sql,
            "/dev/null",
            &format!("b/{}/migration.sql", new.name),
        ));
    }
    diffs
}

/// A report written to stdout: `| head` closing the pipe is not an error worth a message.
pub fn stdout(result: std::io::Result<()>) -> crate::error::Result<()> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|e| crate::error::Error::io("<stdout>", e)),
    }
}
