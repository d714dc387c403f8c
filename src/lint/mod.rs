//! `lint`: every finding of every rule on the target migrations, as a CI gate.
//!
//! The same pipeline as `rewrite` (history replay, rules, plan), so each finding's fix says exactly what
//! `rewrite` would do. Findings are filtered by rule selection and inline suppressions, get their
//! configured severity, and go to one of four formats.

pub mod github;
pub mod json;
pub mod markdown;
pub mod sarif;
use crate::rules::suppress;
pub mod text;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::analyse::{Source, Targets, analyse_each, resolve_targets};
use crate::config::Loaded;
use crate::error::{Error, Result};
use crate::fix::plan::MigrationPlan;
use crate::rules::{self, Applicability, Severity};
use crate::source::discover::{Migration, MigrationsDir, Origin, discover};
use crate::source::split::SplitFile;

/// One finding, located.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnostic {
    pub rule: &'static str,
    pub severity: Severity,
    pub migration: String,
    /// The file, as a path from where migrate-safe runs.
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    /// Where the statement ends.
    pub end_line: usize,
    pub end_column: usize,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    pub fix: Option<Fix>,
    /// The statement's lines, for the code frame.
    #[serde(skip)]
    pub code: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Fix {
    pub applicability: Applicability,
    /// What `rewrite` does.
    pub description: String,
}

/// The whole result, for the formats.
#[derive(Debug, Serialize)]
pub struct LintReport {
    pub directories: Vec<PathBuf>,
    /// Which Prisma each directory was judged for (same order as `directories`).
    pub prisma: Vec<crate::prisma::PrismaTarget>,
    pub migrations_linted: usize,
    pub fail_on: Severity,
    pub diagnostics: Vec<Diagnostic>,
    /// Findings silenced by `-- migrate-safe-ignore:` comments.
    pub suppressed: usize,
    /// Directories that were not the path given, and where they came from (a project root,
    /// prisma.config.ts, package.json).
    #[serde(skip)]
    pub found: Vec<(PathBuf, String)>,
}

impl LintReport {
    pub fn failed(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity >= self.fail_on)
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }

    /// Findings `rewrite` fixes.
    pub fn fixable(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.fix.is_some()).count()
    }

    pub fn by_rule(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for d in &self.diagnostics {
            *counts.entry(d.rule).or_default() += 1;
        }
        counts
    }
}

/// Which rules run, and at which severity.
struct Selection {
    select: Option<Vec<String>>,
    ignore: Vec<String>,
    severity: BTreeMap<String, Severity>,
}

impl Selection {
    fn severity(&self, rule: &str, default: Severity) -> Option<Severity> {
        if self.ignore.iter().any(|r| r == rule) {
            return None;
        }
        if let Some(select) = &self.select
            && !select.iter().any(|r| r == rule)
        {
            return None;
        }
        Some(self.severity.get(rule).copied().unwrap_or(default))
    }
}

/// What `lint` was asked, as plain options (the command line's, or a caller's).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Migrations directories, project roots or `.sql` files.
    pub paths: Vec<PathBuf>,
    /// Folders to lint; empty: the newest (or, with `database_url`, every pending one).
    pub migrations: Vec<String>,
    pub all: bool,
    pub database_url: Option<String>,
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub fail_on: Option<Severity>,
    pub unsafe_fixes: bool,
    pub prisma_version: Option<String>,
    pub config: Option<PathBuf>,
}

/// Lint what `asked` names: every finding, with its fix, in one report.
pub fn lint(asked: &Options) -> Result<LintReport> {
    for id in asked.select.iter().chain(&asked.ignore) {
        if rules::rule(id).is_none() {
            return Err(Error::Usage(format!(
                "unknown rule \"{id}\" (known: {}; `migrate-safe rules` lists them)",
                crate::config::known_rules()
            )));
        }
    }
    let paths = if asked.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        asked.paths.clone()
    };
    let mut report = LintReport {
        directories: Vec::new(),
        prisma: Vec::new(),
        migrations_linted: 0,
        fail_on: Severity::Warning,
        diagnostics: Vec::new(),
        suppressed: 0,
        found: Vec::new(),
    };
    for input in group_inputs(&paths)? {
        let config = Loaded::find(asked.config.as_deref(), input.config_start())?;
        let mut options = config.rule_options();
        options.unsafe_fixes |= asked.unsafe_fixes;
        let prisma_flag = asked.prisma_version.as_deref();
        let selection = Selection {
            select: if asked.select.is_empty() {
                config.config.select.clone()
            } else {
                Some(asked.select.clone())
            },
            ignore: config
                .config
                .ignore
                .iter()
                .chain(&asked.ignore)
                .cloned()
                .collect(),
            severity: config.config.severity.clone(),
        };
        report.fail_on = asked
            .fail_on
            .or(config.config.fail_on)
            .unwrap_or(Severity::Warning);
        let loose = matches!(input, Input::Loose(_));
        let (dir, targets) = match input {
            Input::Dir { dir, names } => {
                let targets = if names.is_empty() {
                    Targets::from_flags(asked.all, &asked.migrations)
                } else {
                    Targets::Named(names)
                };
                let mut target_names = lint_targets(&dir, &targets)?;
                // A database picks the pending migrations when no folder is named.
                if let (Some(url), Targets::Newest) = (&asked.database_url, &targets) {
                    target_names =
                        crate::analyse::pending_targets(&dir, url, &targets, target_names)?;
                }
                (dir, target_names)
            }
            Input::Loose(dir) => {
                let names = dir.migrations.iter().map(|m| m.name.clone()).collect();
                (dir, names)
            }
        };
        let target = config.prisma_target(prisma_flag, &dir.path)?;
        options.apply_models = target.models.clone();
        report.directories.push(dir.path.clone());
        if let Some(origin) = dir.origin() {
            report.found.push((dir.path.clone(), origin));
        }
        report.prisma.push(target);
        analyse_each(
            &dir,
            &targets,
            &options,
            config.folder_naming(),
            |plan, source| {
                report.migrations_linted += 1;
                collect(&plan, source, &selection, loose, &mut report);
                Ok(())
            },
        )?;
    }
    Ok(report)
}

/// `rewrite`'s targets, except that naming a baseline or a folder migrate-safe wrote is not an error:
/// such a folder is skipped with a note (a baseline describes a database that exists; a generated
/// folder's findings belong to the migration it came from).
fn lint_targets(dir: &MigrationsDir, targets: &Targets) -> Result<Vec<String>> {
    let Targets::Named(names) = targets else {
        return resolve_targets(dir, targets);
    };
    let mut kept = Vec::new();
    for name in names {
        match dir.get(name).map(|m| m.origin) {
            Some(Origin::Baseline) => eprintln!(
                "note: {name} is a baseline (0_* folder): it describes a database that already exists, so it is not linted"
            ),
            Some(Origin::Generated) => eprintln!(
                "note: {name} was written by migrate-safe: its statements are the fixes of the migration it came from, so it is not linted"
            ),
            _ => kept.push(name.clone()),
        }
    }
    resolve_targets(dir, &Targets::Named(kept))
}

/// Turn a plan's outcomes into diagnostics.
fn collect(
    plan: &MigrationPlan,
    source: &Source,
    selection: &Selection,
    loose: bool,
    report: &mut LintReport,
) {
    let migration = source.migration;
    let hazards: Vec<_> = plan
        .outcomes
        .iter()
        .filter_map(|o| Some((o, o.finding.severity?)))
        .collect();
    // Suppression comments are checked even in a migration without findings (cheaply: only when the
    // text has one).
    // What the analysis set aside for `-- migrate-safe-ignore:` counts as suppressed where selected.
    report.suppressed += plan
        .suppressed
        .iter()
        .filter(|f| {
            f.severity
                .is_some_and(|default| selection.severity(f.rule, default).is_some())
        })
        .count();
    if hazards.is_empty() && !migration.sql.contains(suppress::DIRECTIVE) {
        return;
    }
    let (split, statements) = (source.split, source.statements);
    let suppressions = suppress::Suppressions::read(&migration.sql, split, statements);
    let lines = Lines::new(&migration.sql);
    let mut diagnostics = suppression_problems(&suppressions, migration, &lines);
    for (outcome, default) in hazards {
        let finding = &outcome.finding;
        let Some(severity) = selection.severity(finding.rule, default) else {
            continue;
        };
        if suppressions.silences(finding.statement, finding.rule) {
            report.suppressed += 1;
            continue;
        }
        let statement = &statements[finding.statement];
        let (end_line, end_column) = statement_end(split, &migration.sql, statement.piece);
        let fix = outcome.resolution.as_ref().map(|description| Fix {
            applicability: rules::rule(finding.rule)
                .and_then(|r| r.fix)
                .unwrap_or(Applicability::Safe),
            // A file outside a migrations directory has no folders to add: say what would happen.
            description: if loose {
                "fixes this once the file is a migration.sql in a Prisma migrations directory"
                    .to_string()
            } else {
                description.clone()
            },
        });
        diagnostics.push(Diagnostic {
            rule: finding.rule,
            severity,
            migration: plan.migration.clone(),
            file: migration.sql_path(),
            line: finding.line,
            column: finding.column,
            end_line,
            end_column,
            message: finding.message.clone(),
            help: finding.help.clone(),
            fix,
            code: lines.code(finding.line, end_line),
        });
    }
    // In the file's order, as a reader goes through it.
    diagnostics.sort_by_key(|d| (d.line, d.column));
    report.diagnostics.extend(diagnostics);
}

fn statement_end(split: &SplitFile, text: &str, piece: usize) -> (usize, usize) {
    let piece = &split.pieces[piece];
    split
        .significant_tokens(text, piece)
        .last()
        .map_or((0, 0), |t| t.end())
}

/// A file's lines, found once: findings quote them for their code frames.
pub(super) struct Lines<'a> {
    text: &'a str,
    /// Byte offset where each line starts.
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Lines {
            text,
            starts: crate::source::line_starts(text),
        }
    }

    /// The lines `from..=to` (1-based), without their line breaks.
    pub(super) fn code(&self, from: usize, to: usize) -> Vec<String> {
        let from = from.max(1);
        (from..=to.max(from))
            .map_while(|line| {
                let start = *self.starts.get(line - 1)?;
                // As `str::lines`: no empty line after the last line break.
                if start >= self.text.len() {
                    return None;
                }
                let end = self
                    .starts
                    .get(line)
                    .map_or(self.text.len(), |&next| next - 1);
                let text = &self.text[start..end.max(start)];
                Some(text.trim_end_matches('\r').to_string())
            })
            .collect()
    }
}

/// What the command line names: migrations directories (with the migrations picked by file), or
/// loose .sql files linted on their own.
enum Input {
    Dir {
        dir: MigrationsDir,
        names: Vec<String>,
    },
    Loose(MigrationsDir),
}

impl Input {
    fn config_start(&self) -> &Path {
        match self {
            Input::Dir { dir, .. } | Input::Loose(dir) => &dir.path,
        }
    }
}

fn group_inputs(paths: &[PathBuf]) -> Result<Vec<Input>> {
    let mut inputs: Vec<Input> = Vec::new();
    for path in paths {
        let metadata = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if metadata.is_dir() {
            inputs.push(Input::Dir {
                dir: discover(path)?,
                names: Vec::new(),
            });
            continue;
        }
        // `<migrations>/<name>/migration.sql`: lint it against the history before it.
        let folder = path.parent().filter(|p| !p.as_os_str().is_empty());
        let in_migrations = folder.and_then(|folder| {
            let root = folder
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let name = folder.file_name()?.to_str()?.to_string();
            let dir = discover(root).ok()?;
            dir.get(&name).is_some().then_some((dir, name))
        });
        match in_migrations {
            Some((dir, name)) => {
                if let Some(Input::Dir { dir: known, names }) = inputs
                    .iter_mut()
                    .find(|i| matches!(i, Input::Dir { dir: d, .. } if d.path == dir.path))
                {
                    let _ = known;
                    names.push(name);
                } else {
                    inputs.push(Input::Dir {
                        dir,
                        names: vec![name],
                    });
                }
            }
            None => inputs.push(Input::Loose(loose_file(path)?)),
        }
    }
    Ok(inputs)
}

/// A .sql file outside a migrations directory: linted alone, every table it does not create counts as
/// existing.
fn loose_file(path: &Path) -> Result<MigrationsDir> {
    let sql = crate::store::file::read_sql(path)?;
    Ok(MigrationsDir {
        path: path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
        found_inside: None,
        found_by: None,
        migrations: vec![Migration::loose(path, sql)],
    })
}

/// Directives that were not obeyed, as warnings.
fn suppression_problems(
    suppressions: &suppress::Suppressions,
    migration: &Migration,
    lines: &Lines,
) -> Vec<Diagnostic> {
    suppressions
        .problems
        .iter()
        .map(|(line, column, message)| Diagnostic {
            rule: "suppression",
            severity: Severity::Warning,
            migration: migration.name.clone(),
            file: migration.sql_path(),
            line: *line,
            column: *column,
            end_line: *line,
            end_column: *column,
            message: message.clone(),
            help: Some(format!("-- {} <rule-id> <reason>", suppress::DIRECTIVE)),
            fix: None,
            code: lines.code(*line, *line),
        })
        .collect()
}
