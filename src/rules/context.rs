//! What a rule sees: one statement with what is known where it runs.

use std::cell::OnceCell;

use rustc_hash::FxHashSet as HashSet;

use super::{Action, Finding, Rule, RuleOptions};
use crate::model::SchemaModel;
use crate::prisma::{ApplyModel, FileRun, split7};
use crate::source::classify::{Change, DataChangeKind, Fact, Statement, TableChange};
use crate::source::lex::Tok;
use crate::source::names::QualifiedName;

/// A statement with what is known where it runs.
pub struct StatementContext<'a> {
    pub index: usize,
    pub statement: &'a Statement,
    /// The text the statement's byte ranges are in: the file's, or for a statement inside a `DO`
    /// block, the statement's own.
    pub text: &'a str,
    /// A statement inside a `DO` block (whose compile has already judged its syntax).
    pub inside_do_block: bool,
    /// Statements after this one in the same migration.
    pub later: &'a [Statement],
    /// Inside an explicit `BEGIN; ... COMMIT;` block.
    pub in_transaction_block: bool,
    /// Tables created earlier in the same migration (under their current names).
    pub new_tables: &'a HashSet<QualifiedName>,
    /// Tables known before this statement.
    pub model: &'a SchemaModel,
    /// Enum types created earlier in the same migration.
    pub new_enums: &'a HashSet<QualifiedName>,
    /// Statements before this one in the same migration.
    pub earlier: &'a [Statement],
    pub options: &'a RuleOptions,
    /// The file, and how Prisma runs it.
    pub file: &'a FileContext<'a>,
}

impl StatementContext<'_> {
    /// A table nobody else can see yet. Tables not known at all (created outside the history, or by a
    /// statement the parser could not read) count as existing: the safe assumption.
    pub fn is_new_table(&self, table: &QualifiedName) -> bool {
        self.new_tables.contains(table)
    }

    /// Where a pre-existing table comes from, for messages.
    pub fn describe_existing(&self, table: &QualifiedName) -> String {
        match self.model.created_by(table) {
            Some(migration) => format!("existing table {table} (created in {migration})"),
            None => format!(
                "existing table {table} (not created by any earlier migration: assumed to exist)"
            ),
        }
    }

    /// A hazard of `rule`, with what `rewrite` does about it.
    pub fn finding(&self, rule: &Rule, message: String, action: Action) -> Finding {
        Finding {
            rule: rule.id,
            severity: Some(rule.severity),
            statement: self.index,
            line: self.statement.line,
            column: self.statement.column,
            message,
            help: None,
            action,
        }
    }

    /// Not a hazard: why `rewrite` leaves a statement the rule looked at alone.
    pub fn explain(&self, rule: &Rule, message: String) -> Finding {
        Finding {
            severity: None,
            ..self.finding(rule, message, Action::LeaveAlone)
        }
    }

    /// A later statement of this migration that drops or renames `table`, drops, renames or retypes
    /// one of `columns` (any column when they are not known: an expression, a predicate), or drops
    /// `constraint`: a fix that finishes in a later migration would find them gone (a dropped column
    /// takes its indexes and constraints with it).
    pub fn undone_later(
        &self,
        table: &QualifiedName,
        columns: Option<&[String]>,
        constraint: Option<&str>,
    ) -> Option<&Statement> {
        // Only the statements that can undo anything are looked at (a list made once per file): a file
        // of 100k index builds would otherwise cost 100k² comparisons.
        let undoers = self.file.undoers();
        let from = undoers.partition_point(|&i| i <= self.index);
        undoers[from..]
            .iter()
            .map(|&i| &self.file.statements[i])
            .find(|s| match &s.fact {
                Fact::DropTables { tables } => tables.contains(table),
                Fact::AlterTable { table: t, changes } if t == table => {
                    changes.iter().any(|c| match &c.kind {
                        TableChange::RenameTo { .. } => true,
                        TableChange::DropColumn { column: c }
                        | TableChange::RenameColumn { from: c, .. }
                        | TableChange::AlterColumnType { column: c, .. } => {
                            columns.is_none_or(|columns| columns.contains(c))
                        }
                        TableChange::DropConstraint { name } => constraint == Some(name.as_str()),
                        _ => false,
                    })
                }
                _ => false,
            })
    }

    /// The statements of this migration that destroy or rename something (DROP TABLE / COLUMN / TYPE,
    /// RENAME, TRUNCATE, an UPDATE or DELETE), as `(statement, line, what)`. Staying in the edited
    /// migration, one commits before the folders a fix adds: a later step of the fix that fails on
    /// existing data (VALIDATE, a UNIQUE build) would then leave it committed, where Prisma would have
    /// rolled it back with the whole file. Such fixes step aside instead (failure order).
    fn destructive_in_migration(&self) -> impl Iterator<Item = (usize, usize, &'static str)> + '_ {
        // Where the file is one transaction (Prisma <= 7.3, or 7.4+ falling back), the original would
        // have rolled back every statement; statement by statement, only those from this one on (the
        // earlier ones stay committed when this one fails in the original too).
        let one_transaction = self.file.models.contains(&ApplyModel::OneQuery)
            || self.file.run(ApplyModel::PerStatement).is_one_query();
        let first = if one_transaction { 0 } else { self.index };
        let destructive = self.file.destructive();
        let from = destructive.partition_point(|d| d.0 < first);
        destructive[from..].iter().copied()
    }

    /// Why a fix whose later step can fail on data must step aside, for each statement that makes it
    /// (`None`: one in a folder an earlier rewrite of this migration wrote, which runs before any folder
    /// a fix adds now). The planner decides for a UNIQUE build: a statement it moves after the builds
    /// no longer counts.
    pub fn failure_order_blockers(&self, later_step: &str) -> Vec<(Option<usize>, String)> {
        self.failure_order_reasons(later_step).collect()
    }

    /// The reason a fix whose later step can fail on data steps aside, when it must (the first of
    /// [`Self::failure_order_blockers`]).
    pub fn failure_order_conflict(&self, later_step: &str) -> Option<String> {
        self.failure_order_reasons(later_step)
            .next()
            .map(|(_, why)| why)
    }

    /// [`Self::failure_order_blockers`], worded only as they are asked for.
    fn failure_order_reasons<'s>(
        &'s self,
        later_step: &'s str,
    ) -> impl Iterator<Item = (Option<usize>, String)> + 's {
        let consequence = move || {
            format!(
                "commits before {later_step} could fail on existing rows, which Prisma would have rolled back with the whole file"
            )
        };
        let in_file = self.destructive_in_migration().map(move |(statement, line, what)| {
            (Some(statement), format!(
                "left alone: the {what} at line {line} stays in this migration and {}; put the {what} in a migration of its own after this one, then rewrite",
                consequence()
            ))
        });
        let written_before = self.file.rewritten_before.iter().map(move |earlier| {
            let what = earlier.what;
            (None, format!(
                "left alone: the {what} in {} (line {}), written by an earlier rewrite of this migration, {}; put the {what} in a migration of its own after those folders, then rewrite",
                earlier.folder, earlier.line, consequence()
            ))
        });
        in_file.chain(written_before)
    }

    /// The statement's table and operations when it is an `ALTER TABLE` of a table that existed before
    /// the migration: what most rules look at.
    pub fn altered_existing_table(&self) -> Option<(&QualifiedName, &[Change])> {
        match &self.statement.fact {
            Fact::AlterTable { table, changes } if self.is_existing_table(table) => {
                Some((table, changes))
            }
            _ => None,
        }
    }

    /// What `each` finds in each operation of an `ALTER TABLE` on a table that existed before the
    /// migration (nothing for any other statement): the opening most table rules share.
    pub fn findings_per_change<'s>(
        &'s self,
        each: impl FnMut(&'s QualifiedName, &'s Change) -> Option<Finding>,
    ) -> Vec<Finding> {
        let mut each = each;
        match &self.statement.fact {
            Fact::AlterTable { table, changes } if self.is_existing_table(table) => changes
                .iter()
                .filter_map(|change| each(table, change))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether `table` existed before this migration (the tables whose locks matter).
    pub fn is_existing_table(&self, table: &QualifiedName) -> bool {
        !self.is_new_table(table)
    }
}

/// What a statement of the file `sql` destroys or renames (DROP TABLE / COLUMN / TYPE / SCHEMA, RENAME,
/// TRUNCATE, an UPDATE or DELETE), by keyword; statements the reader does not model are judged by their
/// first line.
pub fn destroys(statement: &Statement, sql: &str) -> Option<&'static str> {
    match &statement.fact {
        Fact::DropTables { .. } => Some("DROP TABLE"),
        Fact::Truncate { .. } => Some("TRUNCATE"),
        Fact::DataChange { change, .. } if *change != DataChangeKind::InsertSelect => {
            Some(change.keyword())
        }
        Fact::AlterTable { changes, .. } => changes.iter().find_map(|c| match c.kind {
            TableChange::DropColumn { .. } => Some("DROP COLUMN"),
            TableChange::RenameColumn { .. } => Some("RENAME COLUMN"),
            TableChange::RenameTo { .. } => Some("RENAME TO"),
            _ => None,
        }),
        Fact::Other | Fact::Unanalysed { .. } => {
            let text = line_excerpt(sql, statement.line).to_ascii_uppercase();
            // Rows added are not destroyed: an INSERT is not counted. Nor is the `DROP TYPE "X_old"`
            // that ends Prisma's enum recreation: the type was replaced, and a retry of the block after
            // a later failure recreates it the same way.
            if text.starts_with("DROP TYPE") && text.contains("_OLD\"") {
                return None;
            }
            ["DROP TYPE", "DROP SCHEMA"]
                .into_iter()
                .find(|keyword| text.starts_with(keyword))
        }
        _ => None,
    }
}

/// A statement that destroys something in a folder an earlier rewrite of the migration wrote: it runs
/// before any folder a fix would add now.
#[derive(Debug, Clone)]
pub struct RewrittenBefore {
    pub folder: String,
    pub line: usize,
    pub what: &'static str,
}

/// The whole file a statement is in, with how the selected Prisma versions run it.
pub struct FileContext<'a> {
    pub sql: &'a str,
    pub statements: &'a [Statement],
    /// The apply models judged under (both when the Prisma version is unknown).
    pub models: &'a [ApplyModel],
    /// The first destructive statement of the folders an earlier rewrite of this migration wrote.
    pub rewritten_before: Option<RewrittenBefore>,
    /// The file's tokens when the fast path read it: the 7.4+ split is then made from them.
    pub fast_tokens: Option<&'a [Tok]>,
    /// Each data change on an existing table: run in batches, or why not ([`super::backfill`]).
    pub backfills: Vec<(usize, Result<super::backfill::Backfill, String>)>,
    per_statement: OnceCell<FileRun>,
    /// Indices of the statements that can undo what an earlier one made (see `undone_later`).
    undoers: OnceCell<Vec<usize>>,
    /// `(statement, line, what)` of each statement that destroys or renames something.
    destructive: OnceCell<Vec<(usize, usize, &'static str)>>,
    /// Which statements use each table and each index name (see `touching`).
    uses: OnceCell<Uses>,
    first_filler: OnceCell<Option<usize>>,
}

/// The statements of a file by what they use, for a drop that must know which statements depend on
/// its index: made once per file, so each drop costs what it finds, not the file's length.
#[derive(Default)]
struct Uses {
    tables: rustc_hash::FxHashMap<QualifiedName, Vec<usize>>,
    indexes: rustc_hash::FxHashMap<QualifiedName, Vec<usize>>,
    /// Statements whose effects are not known: they may use anything.
    anything: Vec<usize>,
}

impl<'a> FileContext<'a> {
    pub fn new(sql: &'a str, statements: &'a [Statement], models: &'a [ApplyModel]) -> Self {
        FileContext {
            sql,
            statements,
            models,
            rewritten_before: None,
            fast_tokens: None,
            backfills: Vec::new(),
            per_statement: OnceCell::new(),
            undoers: OnceCell::new(),
            destructive: OnceCell::new(),
            uses: OnceCell::new(),
            first_filler: OnceCell::new(),
        }
    }

    /// The first statement that may fill a table with rows (a data change, or a statement the
    /// reader does not model).
    pub fn first_filler(&self) -> Option<usize> {
        *self.first_filler.get_or_init(|| {
            self.statements.iter().position(|s| {
                matches!(
                    s.fact,
                    Fact::Other | Fact::Unanalysed { .. } | Fact::DataChange { .. }
                )
            })
        })
    }

    /// The statements of the file (in order) that use `table` or the index `index` by name, or whose
    /// effects are unknown.
    pub fn touching(&self, table: &QualifiedName, index: &QualifiedName) -> Vec<usize> {
        let uses = self.uses.get_or_init(|| {
            let mut uses = Uses::default();
            for (i, statement) in self.statements.iter().enumerate() {
                match super::drop_index_concurrently::uses(&statement.fact) {
                    Some((tables, indexes)) => {
                        for table in tables {
                            uses.tables.entry(table.clone()).or_default().push(i);
                        }
                        for index in indexes {
                            uses.indexes.entry(index.clone()).or_default().push(i);
                        }
                    }
                    None => uses.anything.push(i),
                }
            }
            uses
        });
        let mut found: Vec<usize> = (uses.tables.get(table).into_iter().flatten())
            .chain(uses.indexes.get(index).into_iter().flatten())
            .chain(&uses.anything)
            .copied()
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    /// The statements that drop or rename a table, or drop, rename or retype a column, or drop a
    /// constraint, in file order.
    fn undoers(&self) -> &[usize] {
        self.undoers.get_or_init(|| {
            self.statements
                .iter()
                .enumerate()
                .filter(|(_, s)| match &s.fact {
                    Fact::DropTables { .. } => true,
                    Fact::AlterTable { changes, .. } => changes.iter().any(|c| {
                        matches!(
                            c.kind,
                            TableChange::RenameTo { .. }
                                | TableChange::DropColumn { .. }
                                | TableChange::RenameColumn { .. }
                                | TableChange::AlterColumnType { .. }
                                | TableChange::DropConstraint { .. }
                        )
                    }),
                    _ => false,
                })
                .map(|(i, _)| i)
                .collect()
        })
    }

    /// Every statement of the file that destroys or renames something ([`destroys`]), in file order.
    /// A backfill that runs in batches is not one: it is meant to commit batch by batch, after the
    /// migration and before any validation (a rerun finishes it).
    fn destructive(&self) -> &[(usize, usize, &'static str)] {
        self.destructive.get_or_init(|| {
            self.statements
                .iter()
                .enumerate()
                .filter(|(i, _)| self.batched(*i).is_none())
                .filter_map(|(i, s)| Some((i, s.line, destroys(s, self.sql)?)))
                .collect()
        })
    }

    /// The batched backfill statement `index` becomes, if it is one.
    pub fn batched(&self, index: usize) -> Option<&super::backfill::Backfill> {
        self.backfill(index)?.as_ref().ok()
    }

    /// What was decided for the data change `index`: batched, or why not.
    pub fn backfill(&self, index: usize) -> Option<&Result<super::backfill::Backfill, String>> {
        self.backfills
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, decision)| decision)
    }

    /// How `model` runs the file; the Prisma 7.4+ split is parsed once, and only when asked. A file
    /// of one statement runs the same either way: it is not parsed (sqlparser 0.61's parse is most of
    /// a lint's time on a long history).
    pub fn run(&self, model: ApplyModel) -> &FileRun {
        static ONE_QUERY: FileRun = FileRun::OneQuery;
        match model {
            ApplyModel::OneQuery => &ONE_QUERY,
            ApplyModel::PerStatement if !Self::needs_split7(self.models, self.statements) => {
                &ONE_QUERY
            }
            ApplyModel::PerStatement => self.per_statement.get_or_init(|| match self.fast_tokens {
                Some(tokens) => split7::split_with_tokens(self.sql, tokens).into(),
                None => model.run(self.sql),
            }),
        }
    }

    /// Whether [`FileContext::run`] under 7.4+ needs sqlparser 0.61's parse of a file: judged under
    /// that model, with more than one statement.
    pub fn needs_split7(models: &[ApplyModel], statements: &[Statement]) -> bool {
        models.contains(&ApplyModel::PerStatement) && statements.len() > 1
    }

    /// The first line of code at `line` (1-based), shortened, for messages.
    pub fn line_text(&self, line: usize) -> String {
        line_excerpt(self.sql, line)
    }
}

/// The first line of code at `line` (1-based) of `sql`, shortened.
fn line_excerpt(sql: &str, line: usize) -> String {
    crate::prisma::apply::excerpt(sql.lines().nth(line.saturating_sub(1)).unwrap_or(""))
}
