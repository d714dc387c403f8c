//! Which bulk data changes of a file run in batches (`data-backfill`'s fix), and the SQL that runs
//! them: a trigger that keeps the application's writes in line while the batches run, and a lone `DO`
//! block that commits after each batch.
//!
//! Decided once per file, before the rules run: the failure order of other fixes depends on it (a
//! batched backfill is meant to commit batch by batch, so it does not hold back a later VALIDATE).

use crate::model::SchemaModel;
use crate::prisma::failed::BACKFILL_MARK;
use crate::source::classify::backfill::{BackfillShape, read_backfill};
use crate::source::classify::{DataChangeKind, Fact, Statement, TableChange};
use crate::source::names::{QualifiedName, quote};

/// Rows per batch: a batch's row locks last a few milliseconds at this size on a narrow table, and
/// the per-batch cost (a commit, an index probe) stays a small share of the work. A session setting
/// (`migrate_safe.batch_rows`, which `deploy --batch-size` sets) overrides it.
pub const BATCH_ROWS: u64 = 1000;
/// Session settings the DO block reads: rows per batch, and seconds of pause after each batch
/// (`deploy --batch-size`, `--batch-pause`; `ALTER ROLE .. SET` for `prisma migrate deploy`).
pub const BATCH_ROWS_SETTING: &str = "migrate_safe.batch_rows";
pub const BATCH_PAUSE_SETTING: &str = "migrate_safe.batch_pause";
/// How long a batch may wait for a row lock an application transaction holds before it lets go and
/// tries again: well below `deadlock_timeout` (1 s by default), so in a cycle the batch gives way,
/// never the application's transaction.
pub const BATCH_LOCK_WAIT: &str = "100ms";
/// Attempts of one batch that found its rows locked, before the backfill stops (and can be rerun).
pub const BATCH_ATTEMPTS: u32 = 50;

/// A data change that runs in batches.
#[derive(Debug, Clone, PartialEq)]
pub struct Backfill {
    pub statement: usize,
    pub line: usize,
    pub shape: BackfillShape,
    pub key: BatchKey,
    /// A trigger applies the change to rows the application writes until the batches are done
    /// (not for a DELETE: a row written meanwhile is one written after the original DELETE).
    pub trigger: bool,
    /// The trigger takes the statement's place in the migration (an UPDATE); else the fix that made
    /// this backfill places it.
    pub replaces_statement: bool,
}

/// What the batches walk.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchKey {
    /// A one-column primary key (folded name): ranges of it.
    Column(String),
    /// No primary key known: ranges of pages (`ctid`), a TID range scan since PostgreSQL 14.
    Ctid,
}

/// Each data change of the file on a table that existed before it: batched, or why not.
pub fn decide(
    sql: &str,
    statements: &[Statement],
    model: &SchemaModel,
) -> Vec<(usize, Result<Backfill, String>)> {
    if !statements
        .iter()
        .any(|s| matches!(s.fact, Fact::DataChange { .. }))
    {
        return Vec::new();
    }
    // Which data changes are candidates (and which sit in a BEGIN block), in file order.
    let mut candidates = Vec::new();
    let mut new_tables: Vec<&QualifiedName> = Vec::new();
    let mut in_block = false;
    for (index, statement) in statements.iter().enumerate() {
        match &statement.fact {
            Fact::CreateTable { table, .. } => new_tables.push(table),
            Fact::Begin => in_block = true,
            Fact::Commit => in_block = false,
            Fact::DataChange { table, change } if !new_tables.contains(&table) => {
                candidates.push((index, *change, table, in_block));
            }
            _ => {}
        }
    }
    // Decided from the end: a later backfill that is batched too keeps its order after this one.
    let mut decided: Vec<(usize, Result<Backfill, String>)> = Vec::new();
    for &(index, change, table, in_block) in candidates.iter().rev() {
        let decision = if in_block {
            Err("it sits inside an explicit BEGIN ... COMMIT block".to_string())
        } else {
            one(sql, statements, index, change, table, model, &decided)
        };
        decided.push((index, decision));
    }
    decided.reverse();
    decided
}

fn one(
    sql: &str,
    statements: &[Statement],
    index: usize,
    change: DataChangeKind,
    table: &QualifiedName,
    model: &SchemaModel,
    later_decided: &[(usize, Result<Backfill, String>)],
) -> Result<Backfill, String> {
    let statement = &statements[index];
    if change == DataChangeKind::InsertSelect {
        return Err("an INSERT .. SELECT adds rows; migrate-safe batches UPDATE and DELETE".into());
    }
    let shape = read_backfill(&sql[statement.bytes.clone()])?;
    let key = match model.single_column_key(table) {
        Some(column) => BatchKey::Column(column.to_string()),
        None if shape.delete => {
            return Err(format!(
                "no one-column primary key of {table} is known, and a DELETE walked by pages could miss a row the application moves to a page already done"
            ));
        }
        None => BatchKey::Ctid,
    };
    let batched_later = |at: usize| {
        later_decided
            .iter()
            .find(|(i, _)| *i == at)
            .and_then(|(_, d)| d.as_ref().ok())
    };
    if let Some(why) = later_conflict(sql, statements, index, &shape, batched_later) {
        return Err(why);
    }
    Ok(Backfill {
        statement: index,
        line: statement.line,
        trigger: !shape.delete,
        replaces_statement: true,
        shape,
        key,
    })
}

/// A later statement of the file whose result depends on running before or after the backfill: the
/// batches run after the migration (and its index builds), so it would run first.
fn later_conflict<'b>(
    sql: &str,
    statements: &[Statement],
    index: usize,
    shape: &BackfillShape,
    batched_later: impl Fn(usize) -> Option<&'b Backfill>,
) -> Option<String> {
    let table = &shape.table;
    for (at, statement) in statements.iter().enumerate().skip(index + 1) {
        // A later backfill batched too runs after this one, in order; of the same table, only when
        // neither reads or sets what the other sets (their triggers both act on rows written meanwhile).
        if let Some(later) = batched_later(at)
            && (later.shape.table != *table || independent(shape, &later.shape))
        {
            continue;
        }
        let tables: Vec<&QualifiedName> = match &statement.fact {
            Fact::AlterTable { table: t, changes } if t == table => {
                // What gives the same result before or after the batches (a NOT NULL check is the
                // NOT VALID check of its fix, validated after them: checked by the planner).
                let harmless = changes.iter().all(|c| {
                    matches!(
                        c.kind,
                        TableChange::SetNotNull { .. }
                            | TableChange::AddCheck {
                                not_valid: true,
                                ..
                            }
                            | TableChange::AddForeignKey(_)
                            | TableChange::AddColumn(_)
                    )
                });
                if harmless {
                    continue;
                }
                vec![t]
            }
            // A UNIQUE index on the table is built after the batches when its build moves to a folder
            // of its own (checked by the planner).
            Fact::CreateIndex(_) | Fact::CreateTable { .. } | Fact::CreateEnum { .. } => continue,
            Fact::SetLockTimeout { .. } | Fact::RenameIndex { .. } => continue,
            // Another table's new constraint, column or key changes none of the rows the backfill
            // reads.
            Fact::AlterTable { changes, .. }
                if changes.iter().all(|c| {
                    matches!(
                        c.kind,
                        TableChange::AddForeignKey(_)
                            | TableChange::AddCheck { .. }
                            | TableChange::AddColumn(_)
                            | TableChange::SetNotNull { .. }
                            | TableChange::AddKey { .. }
                            | TableChange::ValidateConstraint { .. }
                    )
                }) =>
            {
                continue;
            }
            Fact::AlterTable { table, .. } => vec![table],
            Fact::DropTables { tables } | Fact::Truncate { tables } => tables.iter().collect(),
            Fact::DataChange { table, .. } => vec![table],
            _ => Vec::new(),
        };
        let names_it: bool = if tables.is_empty() {
            // Not modelled: any name the backfill uses, anywhere in it.
            let text = sql[statement.bytes.clone()].to_lowercase();
            shape
                .names
                .iter()
                .any(|n| contains_word(&text, &n.to_lowercase()))
        } else {
            tables.iter().any(|t| shape.names.contains(&t.name))
                || contains_word(&sql[statement.bytes.clone()], &table.name)
        };
        if names_it {
            return Some(format!(
                "line {} uses {} (or a table the backfill reads) later in this migration; batched, the backfill would run after that statement instead of before it",
                statement.line,
                quote(&table.name)
            ));
        }
    }
    None
}

/// Two UPDATEs of one table that neither read nor set a column the other sets.
fn independent(first: &BackfillShape, second: &BackfillShape) -> bool {
    if first.delete || second.delete {
        return false;
    }
    let sets = |shape: &BackfillShape| -> Vec<String> {
        shape.assignments.iter().map(|a| a.column.clone()).collect()
    };
    !sets(first).iter().any(|c| second.names.contains(c))
        && !sets(second).iter().any(|c| first.names.contains(c))
}

/// `word` in `text` with no identifier character on either side.
fn contains_word(text: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

impl Backfill {
    /// The fill of a column just added without its volatile default: `SET c = <default> WHERE c IS
    /// NULL` in batches, a trigger giving rows the application writes meanwhile the same.
    pub fn fill_new_column(
        statement: usize,
        line: usize,
        table: &QualifiedName,
        column: &str,
        default: &str,
        key: BatchKey,
    ) -> Backfill {
        let target = quote(column);
        Backfill {
            statement,
            line,
            shape: BackfillShape {
                table: table.clone(),
                delete: false,
                relation: table.to_string(),
                alias: None,
                assignments: vec![crate::source::classify::backfill::Assignment {
                    column: column.to_string(),
                    target: target.clone(),
                    value: default.to_string(),
                }],
                from: None,
                condition: Some(format!("{target} IS NULL")),
                names: vec![table.name.clone(), column.to_string()],
            },
            key,
            trigger: true,
            replaces_statement: false,
        }
    }

    /// The trigger's and its function's name (the line keeps two backfills of one file apart).
    pub fn trigger_name(&self) -> String {
        let mut table: String = self.shape.table.name.chars().take(30).collect();
        table.retain(|c| c != '"');
        // Zero-padded: PostgreSQL fires a table's triggers in name order, which is then file order.
        format!("migrate_safe_backfill_{table}_{:06}", self.line)
    }

    /// The function's name, in the table's schema when the statement names it.
    fn function(&self) -> String {
        let name = quote(&self.trigger_name());
        if self.shape.relation.contains('.') {
            format!("{}.{name}", quote(&self.shape.table.schema))
        } else {
            name
        }
    }

    fn dollar_tag(&self) -> String {
        let mut tag = "$migrate_safe$".to_string();
        let mut n = 0;
        while self.shape_text_contains(&tag) {
            n += 1;
            tag = format!("$migrate_safe_{n}$");
        }
        tag
    }

    fn shape_text_contains(&self, tag: &str) -> bool {
        let s = &self.shape;
        s.assignments.iter().any(|a| a.value.contains(tag))
            || s.from.as_deref().is_some_and(|f| f.contains(tag))
            || s.condition.as_deref().is_some_and(|c| c.contains(tag))
    }

    /// Statements installing the trigger, for the migration's own file (no `;` after the last: the
    /// original's stays). `None` for a DELETE: a row the application writes during the batches is one
    /// written after the original's DELETE.
    pub fn trigger_install(&self, eol: &str) -> Option<String> {
        if !self.trigger {
            return None;
        }
        let s = &self.shape;
        let tag = self.dollar_tag();
        let mut declare = String::new();
        let mut assign = String::new();
        let values: Vec<&str> = s.assignments.iter().map(|a| a.value.as_str()).collect();
        let targets: Vec<String> = (1..=s.assignments.len())
            .map(|n| format!("value_{n}"))
            .collect();
        for (n, a) in s.assignments.iter().enumerate() {
            declare.push_str(&format!(
                "  value_{} {}.{}%TYPE;{eol}",
                n + 1,
                s.relation,
                a.target
            ));
            assign.push_str(&format!("    NEW.{} := value_{};{eol}", a.target, n + 1));
        }
        let derived = match &s.alias {
            Some(alias) => alias.clone(),
            None => quote(&s.table.name),
        };
        let from = s
            .from
            .as_deref()
            .map_or_else(String::new, |f| format!(", {f}"));
        let condition = s
            .condition
            .as_deref()
            .map_or_else(String::new, |c| format!(" WHERE {c}"));
        let name = quote(&self.trigger_name());
        Some(format!(
            "-- migrate-safe: until the batched backfill of line {line} is done, a row the application writes gets the{eol}\
             -- same change, so none escapes it (the batches skip this trigger).{eol}\
             CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS {tag}{eol}\
             DECLARE{eol}{declare}\
             BEGIN{eol}\
             \x20 IF current_setting('migrate_safe.backfill', true) = 'on' THEN{eol}\
             \x20   RETURN NEW;{eol}\
             \x20 END IF;{eol}\
             \x20 SELECT {values} INTO {targets} FROM (SELECT (NEW).*) AS {derived}{from}{condition} LIMIT 1;{eol}\
             \x20 IF FOUND THEN{eol}{assign}\
             \x20 END IF;{eol}\
             \x20 RETURN NEW;{eol}\
             END{eol}\
             {tag};{eol}\
             DROP TRIGGER IF EXISTS {name} ON {relation};{eol}\
             CREATE TRIGGER {name} BEFORE INSERT OR UPDATE ON {relation}{eol}\
             \x20   FOR EACH ROW EXECUTE FUNCTION {function}()",
            line = self.line,
            function = self.function(),
            values = values.join(", "),
            targets = targets.join(", "),
            relation = s.relation,
        ))
    }

    /// Statements removing the trigger (each with its `;`), when there is one.
    pub fn trigger_drop(&self, eol: &str) -> Option<String> {
        self.trigger.then(|| {
            format!(
                "DROP TRIGGER IF EXISTS {} ON {};{eol}DROP FUNCTION IF EXISTS {}();{eol}",
                quote(&self.trigger_name()),
                self.shape.relation,
                self.function()
            )
        })
    }

    /// The lone `DO` block that runs the change in batches, committing after each (valid because a
    /// one-statement query runs outside a transaction block: this must stay alone in its file). Each
    /// batch skips rows already changed, so a rerun after a failure finishes the rest. With
    /// `drop_trigger`, the trigger goes once the batches are done.
    pub fn batches(&self, drop_trigger: bool, eol: &str) -> String {
        let s = &self.shape;
        let tag = self.dollar_tag();
        let q = s.qualifier();
        let relation = &s.relation;
        let table_as = match &s.alias {
            Some(alias) => format!("{relation} AS {alias}"),
            None => relation.clone(),
        };
        let mut filter: Vec<String> = Vec::new();
        let literal = relation.replace('\'', "''");
        let (declare, first, next, range, unit) = match &self.key {
            BatchKey::Column(column) => {
                let column = quote(column);
                (
                    format!(
                        "  batch_start {relation}.{column}%TYPE;{eol}  batch_end {relation}.{column}%TYPE;{eol}  batch_rows bigint;{eol}"
                    ),
                    format!(
                        "  SELECT greatest(reltuples, 0)::bigint INTO estimate FROM pg_class WHERE oid = '{literal}'::regclass;{eol}\
                         \x20 SELECT min({column}) INTO batch_start FROM {relation};{eol}"
                    ),
                    format!(
                        "    SELECT max(batch_key), count(*) INTO batch_end, batch_rows FROM (SELECT {column} AS batch_key FROM {relation} WHERE {column} >= batch_start ORDER BY {column} LIMIT batch_size) AS batch;{eol}\
                         \x20   walked := walked + batch_rows;{eol}"
                    ),
                    (
                        format!("{q}.{column} >= batch_start AND {q}.{column} <= batch_end"),
                        format!(
                            "    SELECT min({column}) INTO batch_start FROM {relation} WHERE {column} > batch_end;{eol}"
                        ),
                    ),
                    "rows",
                )
            }
            BatchKey::Ctid => (
                format!(
                    "  pages bigint;{eol}  batch_pages bigint;{eol}  batch_start bigint := 0;{eol}  batch_end bigint;{eol}"
                ),
                format!(
                    "  pages := pg_relation_size('{literal}'::regclass) / current_setting('block_size')::bigint;{eol}\
                         \x20 SELECT greatest(1, batch_size / CASE WHEN relpages > 0 AND reltuples > 0 THEN ceil(reltuples / relpages) ELSE 100 END)::bigint{eol}\
                         \x20   INTO batch_pages FROM pg_class WHERE oid = '{literal}'::regclass;{eol}\
                         \x20 estimate := pages;{eol}\
                         \x20 IF batch_start >= pages THEN{eol}    batch_start := NULL;{eol}  END IF;{eol}"
                ),
                format!(
                    "    batch_end := batch_start + batch_pages;{eol}    walked := least(batch_end, pages);{eol}"
                ),
                (
                    format!(
                        "{q}.ctid >= format('(%s,0)', batch_start)::tid AND {q}.ctid < format('(%s,0)', batch_end)::tid"
                    ),
                    format!(
                        "    batch_start := CASE WHEN batch_end < pages THEN batch_end END;{eol}"
                    ),
                ),
                "pages",
            ),
        };
        // Read by deploy for its progress (`deploy::backfill`): keep the wording.
        let table = s.table.to_string().replace('\'', "''").replace('%', "%%");
        let (range_condition, advance) = range;
        filter.push(range_condition);
        if let Some(condition) = &s.condition {
            filter.push(format!("({condition})"));
        }
        let change = if s.delete {
            let using = s
                .from
                .as_deref()
                .map_or_else(String::new, |f| format!(" USING {f}"));
            format!("DELETE FROM {table_as}{using}")
        } else {
            let sets: Vec<String> = s
                .assignments
                .iter()
                .map(|a| format!("{} = {}", a.target, a.value))
                .collect();
            let columns: Vec<String> = s
                .assignments
                .iter()
                .map(|a| format!("{q}.{}", a.target))
                .collect();
            let values: Vec<String> = s
                .assignments
                .iter()
                .map(|a| format!("({})", a.value))
                .collect();
            filter.push(if columns.len() == 1 {
                format!("{} IS DISTINCT FROM {}", columns[0], values[0])
            } else {
                format!(
                    "({}) IS DISTINCT FROM ({})",
                    columns.join(", "),
                    values.join(", ")
                )
            });
            let from = s
                .from
                .as_deref()
                .map_or_else(String::new, |f| format!(" FROM {f}"));
            format!("UPDATE {table_as} SET {}{from}", sets.join(", "))
        };
        let drop = match self.trigger_drop(eol).filter(|_| drop_trigger) {
            Some(drop) => {
                let body: String = drop.lines().map(|l| format!("  {l}{eol}")).collect();
                format!("  -- Done: the trigger's work is over.{eol}{body}")
            }
            None => String::new(),
        };
        format!(
            "DO {tag}{eol}\
             DECLARE{eol}{declare}\
             \x20 changed bigint;{eol}\
             \x20 done bigint := 0;{eol}\
             \x20 walked bigint := 0;{eol}\
             \x20 estimate bigint;{eol}\
             \x20 batch_size bigint := coalesce(nullif(current_setting('{BATCH_ROWS_SETTING}', true), '')::bigint, {BATCH_ROWS});{eol}\
             \x20 batch_pause float8 := coalesce(nullif(current_setting('{BATCH_PAUSE_SETTING}', true), '')::float8, 0);{eol}\
             \x20 attempt int;{eol}\
             BEGIN{eol}\
             {first}\
             \x20 WHILE batch_start IS NOT NULL LOOP{eol}\
             {next}\
             \x20   attempt := 1;{eol}\
             \x20   LOOP{eol}\
             \x20     BEGIN{eol}\
             \x20       PERFORM set_config('lock_timeout', '{BATCH_LOCK_WAIT}', true);{eol}\
             \x20       PERFORM {BACKFILL_MARK};{eol}\
             \x20       {change}{eol}\
             \x20       WHERE {filter};{eol}\
             \x20       GET DIAGNOSTICS changed = ROW_COUNT;{eol}\
             \x20       EXIT;{eol}\
             \x20     EXCEPTION WHEN lock_not_available THEN{eol}\
             \x20       -- An application transaction holds some of these rows: let it finish, try again.{eol}\
             \x20       IF attempt >= {BATCH_ATTEMPTS} THEN{eol}\
             \x20         RAISE;{eol}\
             \x20       END IF;{eol}\
             \x20       attempt := attempt + 1;{eol}\
             \x20       PERFORM pg_sleep(least(0.01 * attempt, 0.5));{eol}\
             \x20     END;{eol}\
             \x20   END LOOP;{eol}\
             \x20   COMMIT;{eol}\
             \x20   done := done + changed;{eol}\
             \x20   IF batch_pause > 0 THEN{eol}\
             \x20     PERFORM pg_sleep(batch_pause);{eol}\
             \x20   END IF;{eol}\
             \x20   RAISE NOTICE 'migrate-safe backfill of line {line} on {table}: % of ~% {unit} walked, % changed', walked, estimate, done;{eol}\
             {advance}\
             \x20 END LOOP;{eol}\
             {drop}\
             END{eol}\
             {tag};{eol}",
            filter = filter.join(" AND "),
            line = self.line,
        )
    }
}

/// What a batch's notice says: `(walked, estimate, unit, changed)`.
pub type NoticeFigures = (u64, u64, String, u64);

/// The notice each batch raises, read (`deploy` shows it, `check` times the batches by it).
pub fn parse_notice(notice: &str) -> Option<NoticeFigures> {
    notice_parts(notice).map(|(_, figures)| figures)
}

/// The table the notice names, as written, and its figures.
pub fn notice_parts(notice: &str) -> Option<(&str, NoticeFigures)> {
    let rest = notice.strip_prefix("migrate-safe backfill of line ")?;
    let (head, figures) = rest.rsplit_once(": ")?;
    let (_, table) = head.split_once(" on ")?;
    let words: Vec<&str> = figures.split_whitespace().collect();
    match words.as_slice() {
        [walked, "of", estimate, unit, "walked,", changed, "changed"] => Some((
            table,
            (
                walked.parse().ok()?,
                estimate.trim_start_matches('~').parse().ok()?,
                unit.to_string(),
                changed.parse().ok()?,
            ),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{Backfill, BatchKey, notice_parts, parse_notice};

    #[test]
    fn reads_the_notice_the_batches_raise() {
        assert_eq!(
            parse_notice(
                "migrate-safe backfill of line 4 on \"Post\": 3000 of ~350000 rows walked, 2995 changed"
            ),
            Some((3000, 350_000, "rows".to_string(), 2995))
        );
        assert_eq!(
            notice_parts("migrate-safe backfill of line 12 on public.\"a: b\": 40 of ~400 pages walked, 0 changed").map(|(t, f)| (t, f.0)),
            Some(("public.\"a: b\"", 40))
        );
        assert_eq!(parse_notice("trigger \"x\" does not exist, skipping"), None);
    }
    use crate::source::classify::backfill::read_backfill;

    fn backfill(sql: &str, key: BatchKey) -> Backfill {
        Backfill {
            statement: 0,
            line: 4,
            shape: read_backfill(sql).unwrap(),
            key,
            trigger: true,
            replaces_statement: true,
        }
    }

    #[test]
    fn an_update_by_primary_key() {
        let b = backfill(
            r#"UPDATE "Post" SET "slug" = 'post-' || "id" WHERE "slug" IS NULL"#,
            BatchKey::Column("id".into()),
        );
        insta::assert_snapshot!(format!(
            "{}\n;\n{}{}",
            b.trigger_install("\n").unwrap(),
            b.batches(true, "\n"),
            b.trigger_drop("\n").unwrap()
        ));
    }

    #[test]
    fn an_update_with_other_tables_by_pages() {
        let b = backfill(
            r#"UPDATE accounts a SET updated_at = a.created_at FROM users u WHERE u.id = a.user_id"#,
            BatchKey::Ctid,
        );
        insta::assert_snapshot!(b.batches(false, "\n"));
    }
}
