//! The schema known before a migration: which tables and indexes exist, from replaying earlier statements.

use std::collections::HashMap;

use crate::source::classify::{Fact, TableChange};
use crate::source::names::QualifiedName;

#[derive(Debug, Clone, Default)]
pub struct SchemaModel {
    /// Table → the migration that created it.
    tables: HashMap<QualifiedName, String>,
    /// Index name → its table.
    indexes: HashMap<QualifiedName, QualifiedName>,
}

impl SchemaModel {
    pub fn has_table(&self, table: &QualifiedName) -> bool {
        self.tables.contains_key(table)
    }

    pub fn created_by(&self, table: &QualifiedName) -> Option<&str> {
        self.tables.get(table).map(String::as_str)
    }

    pub fn table_of_index(&self, index: &QualifiedName) -> Option<&QualifiedName> {
        self.indexes.get(index)
    }

    /// Apply one statement's effect; `migration` names where it comes from.
    pub fn apply(&mut self, fact: &Fact, migration: &str) {
        match fact {
            Fact::CreateTable { table } => {
                self.tables.insert(table.clone(), migration.to_string());
            }
            Fact::DropTables { tables } => {
                for table in tables {
                    self.tables.remove(table);
                    self.indexes.retain(|_, on| on != table);
                }
            }
            Fact::AlterTable { table, changes } => {
                let mut current = table.clone();
                for change in changes {
                    if let TableChange::RenameTo { table: renamed } = change {
                        self.rename_table(&current, renamed);
                        current = renamed.clone();
                    }
                }
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
            Fact::Begin | Fact::Commit | Fact::Other | Fact::Unanalysed { .. } => {}
        }
    }

    fn rename_table(&mut self, from: &QualifiedName, to: &QualifiedName) {
        if let Some(created_by) = self.tables.remove(from) {
            self.tables.insert(to.clone(), created_by);
        }
        for table in self.indexes.values_mut() {
            if table == from {
                *table = to.clone();
            }
        }
    }
}
