//! The schema known before a migration: which tables exist and where each was created, from replaying
//! earlier statements. (Indexes need no model: a dependant names a moved index within its migration.)

use std::collections::HashMap;

use crate::source::classify::{Fact, TableChange};
use crate::source::names::QualifiedName;

#[derive(Debug, Clone, Default)]
pub struct SchemaModel {
    /// Table → the migration that created it.
    tables: HashMap<QualifiedName, String>,
}

impl SchemaModel {
    pub fn created_by(&self, table: &QualifiedName) -> Option<&str> {
        self.tables.get(table).map(String::as_str)
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
                }
            }
            Fact::AlterTable { table, changes } => {
                let mut current = table.clone();
                for change in changes {
                    if let TableChange::RenameTo { table: renamed } = &change.kind {
                        if let Some(created_by) = self.tables.remove(&current) {
                            self.tables.insert(renamed.clone(), created_by);
                        }
                        current = renamed.clone();
                    }
                }
            }
            _ => {}
        }
    }
}
