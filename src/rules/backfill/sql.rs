//! The SQL of a batched backfill: the trigger that covers the application's writes, its removal, and
//! the lone `DO` block that runs the batches.

use super::{
    BATCH_ATTEMPTS, BATCH_LOCK_WAIT, BATCH_PAUSE_SETTING, BATCH_ROWS, BATCH_ROWS_SETTING, Backfill,
    BatchKey,
};
use crate::prisma::failed::BACKFILL_SETTING;
use crate::source::classify::backfill::BackfillShape;
use crate::source::names::{QualifiedName, quote};

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
             \x20 IF current_setting('{BACKFILL_SETTING}', true) = 'on' THEN{eol}\
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
             \x20       PERFORM set_config('{BACKFILL_SETTING}', 'on', true);{eol}\
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

#[cfg(test)]
mod tests {
    use super::super::{Backfill, BatchKey};

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
