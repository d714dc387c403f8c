//! The schema known before a migration, from replaying earlier statements: which tables exist and
//! where each was created, their columns' types (for `column-type-rewrite`) and which table each index
//! belongs to (for `drop-index-concurrently`).

use std::collections::HashMap;

use crate::source::classify::{Fact, TableChange};
use crate::source::names::QualifiedName;

#[derive(Debug, Clone, Default)]
struct Table {
    /// The migration that created it.
    created_by: String,
    /// Column → normalised type.
    columns: HashMap<String, String>,
}

#[derive(Debug, Clone, Default)]
pub struct SchemaModel {
    tables: HashMap<QualifiedName, Table>,
    /// Index → its table.
    indexes: HashMap<QualifiedName, QualifiedName>,
}

impl SchemaModel {
    pub fn created_by(&self, table: &QualifiedName) -> Option<&str> {
        self.tables.get(table).map(|t| t.created_by.as_str())
    }

    pub fn column_type(&self, table: &QualifiedName, column: &str) -> Option<&str> {
        self.tables
            .get(table)?
            .columns
            .get(column)
            .map(String::as_str)
    }

    pub fn table_of_index(&self, index: &QualifiedName) -> Option<&QualifiedName> {
        self.indexes.get(index)
    }

    /// Apply one statement's effect; `migration` names where it comes from.
    pub fn apply(&mut self, fact: &Fact, migration: &str) {
        match fact {
            Fact::CreateTable { table, columns } => {
                self.tables.insert(
                    table.clone(),
                    Table {
                        created_by: migration.to_string(),
                        columns: columns.iter().cloned().collect(),
                    },
                );
            }
            Fact::DropTables { tables } => {
                for table in tables {
                    self.tables.remove(table);
                }
                self.indexes.retain(|_, t| !tables.contains(t));
            }
            Fact::CreateIndex(index) => {
                if let Some(name) = &index.name {
                    self.indexes.insert(name.clone(), index.table.clone());
                }
            }
            Fact::DropIndexes { indexes, .. } => {
                for index in indexes {
                    self.indexes.remove(index);
                }
            }
            Fact::RenameIndex { from, to } => {
                if let Some(table) = self.indexes.remove(from) {
                    self.indexes.insert(to.clone(), table);
                }
            }
            Fact::AlterTable { table, changes } => {
                let mut current = table.clone();
                for change in changes {
                    self.apply_change(&mut current, &change.kind);
                }
            }
            _ => {}
        }
    }

    fn apply_change(&mut self, current: &mut QualifiedName, change: &TableChange) {
        match change {
            TableChange::RenameTo { table: renamed } => {
                if let Some(table) = self.tables.remove(current) {
                    self.tables.insert(renamed.clone(), table);
                }
                for (index, table) in self.indexes.iter_mut() {
                    if table == current {
                        *table = renamed.clone();
                    }
                    let _ = index;
                }
                *current = renamed.clone();
            }
            TableChange::AddColumn(column) => {
                if let Some(table) = self.tables.get_mut(current) {
                    table
                        .columns
                        .insert(column.column.clone(), column.data_type.clone());
                }
            }
            TableChange::DropColumn { column } => {
                if let Some(table) = self.tables.get_mut(current) {
                    table.columns.remove(column);
                }
            }
            TableChange::RenameColumn { from, to } => {
                if let Some(table) = self.tables.get_mut(current)
                    && let Some(data_type) = table.columns.remove(from)
                {
                    table.columns.insert(to.clone(), data_type);
                }
            }
            TableChange::AlterColumnType {
                column, data_type, ..
            } => {
                if let Some(table) = self.tables.get_mut(current) {
                    table.columns.insert(column.clone(), data_type.clone());
                }
            }
            _ => {}
        }
    }
}
