//! For the snapshot tests beside each rule: a history and a migration in, what [`check_migration`]
//! finds in the migration (default options) out, as short stable text.

use std::fmt::Write as _;

use serde_json::Value;

use super::{Action, Finding, Rule, RuleOptions, check_migration};
use crate::model::SchemaModel;
use crate::source::classify::{Statement, classify};
use crate::source::names::QualifiedName;
use crate::source::split::{SplitFile, split};

/// A `Role` enum, a `User` and a `Post` table, as `prisma migrate dev` creates them.
pub const HISTORY: &str = r#"-- CreateEnum
CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN', 'GUEST');

-- CreateTable
CREATE TABLE "User" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT,
    "role" "Role" NOT NULL DEFAULT 'USER',

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Post" (
    "id" SERIAL NOT NULL,
    "title" VARCHAR(100) NOT NULL,
    "published" BOOLEAN NOT NULL DEFAULT false,
    "authorId" INTEGER,

    CONSTRAINT "Post_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
"#;

/// `sql` split and classified as the pipeline does it.
fn read(sql: &str) -> (SplitFile, Vec<Statement>) {
    let split = split(sql).expect("the test's SQL tokenizes");
    let statements = classify(&split, sql);
    (split, statements)
}

/// The findings of every rule (default options) on the migration `sql`, after `history` (the
/// migration `20240101000000_init`), as `analyse` runs them.
pub fn findings(history: &str, sql: &str) -> Vec<Finding> {
    let mut model = SchemaModel::default();
    for statement in read(history).1 {
        model.apply(&statement.fact, "20240101000000_init");
    }
    let (split, statements) = read(sql);
    let (name, options) = ("20240201000000_change", RuleOptions::default());
    let tokens = split.fast.then_some(split.tokens.as_slice());
    check_migration(name, sql, &statements, &mut model, &options, None, tokens)
}

/// What `rule` finds in the migration `sql` after [`HISTORY`], rendered, and which other rules spoke.
pub fn check(rule: &Rule, sql: &str) -> String {
    let (own, others): (Vec<Finding>, Vec<Finding>) = findings(HISTORY, sql)
        .into_iter()
        .partition(|f| f.rule == rule.id);
    let mut out = render(sql, &own);
    if !others.is_empty() {
        let others: Vec<String> = (others.iter())
            .map(|f| {
                let severity = f.severity.map_or("explanation", |s| s.as_str());
                format!("{} ({severity}) {}:{}", f.rule, f.line, f.column)
            })
            .collect();
        let _ = writeln!(out, "other rules: {}", others.join(", "));
    }
    out
}

/// One block per finding: `severity[rule] line:column`, then its message, help and action.
pub fn render(sql: &str, findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "no findings\n".to_string();
    }
    let mut out = String::new();
    for f in findings {
        let severity = f.severity.map_or("explanation", |s| s.as_str());
        let _ = writeln!(out, "{severity}[{}] {}:{}", f.rule, f.line, f.column);
        let message = Some(f.message.as_str()).filter(|m| !m.is_empty());
        let _ = writeln!(out, "  message: {}", message.unwrap_or("(empty)"));
        if let Some(help) = &f.help {
            let _ = writeln!(out, "  help: {help}");
        }
        let _ = writeln!(out, "  action: {}\n", describe(sql, &f.action));
    }
    out
}

/// An action as `lint --format json` shows it (its name, then its serialized fields by name), with the
/// statements whose staying in the migration keeps its fix from applying.
fn describe(sql: &str, action: &Action) -> String {
    let Ok(Value::Object(fields)) = serde_json::to_value(action) else {
        unreachable!("an action serializes to an object");
    };
    let mut out: Vec<String> = (fields.iter())
        .map(|(key, value)| match value {
            Value::String(name) if key == "action" => name.clone(),
            value => format!("{key} {}", plain(value)),
        })
        .collect();
    let kept = match action {
        Action::BuildIndexConcurrently { failure_order, .. } => failure_order,
        Action::UniqueViaIndex { failure_order, .. } => failure_order,
        Action::DropIndexConcurrently { unless_kept, .. } => unless_kept,
        _ => return out.join(", "),
    };
    let lines: Vec<usize> = read(sql).1.iter().map(|s| s.line).collect();
    for statement in kept.iter().map(|k| k.statement) {
        let line = statement.map_or("an earlier rewrite".into(), |s| {
            format!("line {}", lines[s])
        });
        out.push(format!("stays in place while {line} stays"));
    }
    out.join(", ")
}

/// A serialized value without JSON's noise: a name as SQL writes it, a list in brackets.
fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(plain).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(name) => match (name.get("schema"), name.get("name")) {
            (Some(Value::String(schema)), Some(Value::String(name))) => {
                QualifiedName::new(schema, name).to_string()
            }
            _ => value.to_string(),
        },
        other => other.to_string(),
    }
}
