//! The schema known before a migration, from replaying earlier statements: which tables exist and
//! where each was created, their columns' types (for `column-type-rewrite`), which table each index
//! belongs to (for `drop-index-concurrently`) and which tables each one's foreign keys reference, in
//! the order they were added (for `existing-tables-last`'s lock order).

// FxHash: the model hashes a name for every statement of a long history; SipHash's protection against
// crafted keys buys nothing on one's own migration files.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::rc::Rc;

use crate::source::classify::{Fact, TableChange};
use crate::source::names::QualifiedName;

/// Kept small: a 10,000-migration history holds tens of thousands of columns. Type names repeat
/// (`TEXT`, `TIMESTAMP(3)`, ...) and are interned; a table's few columns are a short list, not a map.
#[derive(Debug, Clone, Default)]
struct Table {
    /// The migration that created it (shared by the tables it created).
    created_by: Rc<str>,
    /// Column and normalised type.
    columns: Vec<(Box<str>, Rc<str>)>,
    /// The tables its foreign keys reference (packed), in the order they were added, with the
    /// migration that added each: a writer's foreign-key checks lock them in that order.
    parents: Vec<(Box<str>, Rc<str>)>,
    /// The primary key's columns, when known (a batched backfill walks it).
    primary_key: Vec<Box<str>>,
}

impl Table {
    fn column_mut(&mut self, name: &str) -> Option<&mut (Box<str>, Rc<str>)> {
        self.columns.iter_mut().find(|(c, _)| &**c == name)
    }
}

#[derive(Debug, Clone, Default)]
pub struct SchemaModel {
    tables: HashMap<QualifiedName, Table>,
    /// Index → its table.
    /// Index → its table, each name packed in one string (see [`packed`]): thousands of indexes on a
    /// long history, and this is the model's largest map.
    indexes: HashMap<Box<str>, Box<str>>,
    /// Interned type names.
    types: HashSet<Rc<str>>,
    /// The name of the migration being applied, shared by what it creates.
    migration: Option<Rc<str>>,
}

impl SchemaModel {
    pub fn created_by(&self, table: &QualifiedName) -> Option<&str> {
        self.tables.get(table).map(|t| &*t.created_by)
    }

    /// The table's primary key when it is one known column.
    pub fn single_column_key(&self, table: &QualifiedName) -> Option<&str> {
        match self.tables.get(table)?.primary_key.as_slice() {
            [column] => Some(column),
            _ => None,
        }
    }

    pub fn column_type(&self, table: &QualifiedName, column: &str) -> Option<&str> {
        let table = self.tables.get(table)?;
        table
            .columns
            .iter()
            .find(|(c, _)| &**c == column)
            .map(|(_, t)| &**t)
    }

    fn intern(&mut self, data_type: &str) -> Rc<str> {
        if let Some(known) = self.types.get(data_type) {
            return known.clone();
        }
        let new: Rc<str> = data_type.into();
        self.types.insert(new.clone());
        new
    }

    fn migration_name(&mut self, migration: &str) -> Rc<str> {
        match &self.migration {
            Some(name) if &**name == migration => name.clone(),
            _ => {
                let name: Rc<str> = migration.into();
                self.migration = Some(name.clone());
                name
            }
        }
    }

    pub fn table_of_index(&self, index: &QualifiedName) -> Option<QualifiedName> {
        self.indexes
            .get(&*packed(index))
            .map(|table| unpacked(table))
    }

    /// Apply one statement's effect; `migration` names where it comes from.
    pub fn apply(&mut self, fact: &Fact, migration: &str) {
        match fact {
            Fact::CreateTable {
                table,
                columns,
                primary_key,
            } => {
                let columns = columns
                    .iter()
                    .map(|(name, data_type)| (name.as_str().into(), self.intern(data_type)))
                    .collect();
                let created_by = self.migration_name(migration);
                self.tables.insert(
                    table.clone(),
                    Table {
                        created_by,
                        columns,
                        parents: Vec::new(),
                        primary_key: primary_key.iter().map(|c| c.as_str().into()).collect(),
                    },
                );
            }
            Fact::DropTables { tables } => {
                for table in tables {
                    self.tables.remove(table);
                }
                let dropped: Vec<Box<str>> = tables.iter().map(packed).collect();
                self.indexes.retain(|_, t| !dropped.contains(t));
            }
            Fact::CreateIndex(index) => {
                if let Some(name) = &index.name {
                    self.indexes.insert(packed(name), packed(&index.table));
                }
            }
            Fact::DropIndexes { indexes, .. } => {
                for index in indexes {
                    self.indexes.remove(&*packed(index));
                }
            }
            Fact::RenameIndex { from, to } => {
                if let Some(table) = self.indexes.remove(&*packed(from)) {
                    self.indexes.insert(packed(to), table);
                }
            }
            Fact::AlterTable { table, changes } => {
                let mut current = table.clone();
                for change in changes {
                    if let TableChange::AddForeignKey(fk) = &change.kind {
                        let migration = self.migration_name(migration);
                        if let Some(table) = self.tables.get_mut(&current) {
                            let parent = packed(&fk.referenced_table);
                            if !table.parents.iter().any(|(p, _)| *p == parent) {
                                table.parents.push((parent, migration));
                            }
                        }
                    }
                    self.apply_change(&mut current, &change.kind);
                }
            }
            _ => {}
        }
    }

    /// The order in which writers lock `tables` (given in the order they appear), from the foreign keys
    /// added before `migration`: a row written to a child table takes its lock there, then its foreign
    /// key checks lock each referenced table in the order the keys were added. `None` when those orders
    /// contradict each other (no order is safe against every writer).
    pub fn writer_lock_order(
        &self,
        tables: &[QualifiedName],
        migration: &str,
    ) -> Option<Vec<QualifiedName>> {
        let wanted: Vec<Box<str>> = tables.iter().map(packed).collect();
        let position = |packed_name: &str| wanted.iter().position(|t| **t == *packed_name);
        let mut edges: Vec<(usize, usize)> = Vec::new();
        for (child, table) in &self.tables {
            let parents: Vec<usize> = table
                .parents
                .iter()
                .filter(|(_, added)| &**added != migration)
                .filter_map(|(p, _)| position(p))
                .collect();
            if parents.is_empty() {
                continue;
            }
            if let Some(c) = tables.iter().position(|t| t == child) {
                edges.extend(parents.iter().filter(|&&p| p != c).map(|&p| (c, p)));
            }
            for (i, &a) in parents.iter().enumerate() {
                edges.extend(
                    parents[i + 1..]
                        .iter()
                        .filter(|&&b| b != a)
                        .map(|&b| (a, b)),
                );
            }
        }
        // Kahn's algorithm, ties broken by first appearance.
        let mut incoming = vec![0usize; tables.len()];
        for &(_, b) in &edges {
            incoming[b] += 1;
        }
        let mut done = vec![false; tables.len()];
        let mut order = Vec::with_capacity(tables.len());
        while order.len() < tables.len() {
            let next = (0..tables.len()).find(|&i| !done[i] && incoming[i] == 0)?;
            done[next] = true;
            order.push(tables[next].clone());
            for &(a, b) in &edges {
                if a == next {
                    incoming[b] -= 1;
                }
            }
        }
        Some(order)
    }

    fn apply_change(&mut self, current: &mut QualifiedName, change: &TableChange) {
        match change {
            TableChange::RenameTo { table: renamed } => {
                if let Some(table) = self.tables.remove(current) {
                    self.tables.insert(renamed.clone(), table);
                }
                let (old, new) = (packed(current), packed(renamed));
                for table in self.indexes.values_mut() {
                    if *table == old {
                        *table = new.clone();
                    }
                }
                *current = renamed.clone();
            }
            TableChange::AddColumn(column) => {
                let data_type = self.intern(&column.data_type);
                if let Some(table) = self.tables.get_mut(current) {
                    match table.column_mut(&column.column) {
                        Some(existing) => existing.1 = data_type,
                        None => table
                            .columns
                            .push((column.column.as_str().into(), data_type)),
                    }
                }
            }
            TableChange::DropColumn { column } => {
                if let Some(table) = self.tables.get_mut(current) {
                    table.columns.retain(|(c, _)| **c != **column);
                    if table.primary_key.iter().any(|c| **c == **column) {
                        table.primary_key.clear();
                    }
                }
            }
            TableChange::RenameColumn { from, to } => {
                if let Some(table) = self.tables.get_mut(current) {
                    if let Some(entry) = table.column_mut(from) {
                        entry.0 = to.as_str().into();
                    }
                    for key in &mut table.primary_key {
                        if **key == **from {
                            *key = to.as_str().into();
                        }
                    }
                }
            }
            TableChange::AddKey {
                primary: true,
                columns: Some(columns),
                ..
            } => {
                if let Some(table) = self.tables.get_mut(current) {
                    table.primary_key = columns.iter().map(|c| c.as_str().into()).collect();
                }
            }
            // Prisma names a primary key `<table>_pkey`; any other dropped constraint whose name says
            // it may be one forgets the key too (a key not known is walked by ctid: the safe side).
            TableChange::DropConstraint { name } if name.ends_with("pkey") => {
                if let Some(table) = self.tables.get_mut(current) {
                    table.primary_key.clear();
                }
            }
            TableChange::AlterColumnType {
                column, data_type, ..
            } => {
                let data_type = self.intern(data_type);
                if let Some(table) = self.tables.get_mut(current) {
                    match table.column_mut(column) {
                        Some(existing) => existing.1 = data_type,
                        None => table.columns.push((column.as_str().into(), data_type)),
                    }
                }
            }
            _ => {}
        }
    }
}

/// `schema` and `name` in one allocation (a NUL cannot occur in a PostgreSQL identifier).
fn packed(name: &QualifiedName) -> Box<str> {
    format!("{}\0{}", name.schema, name.name).into_boxed_str()
}

fn unpacked(packed: &str) -> QualifiedName {
    let (schema, name) = packed.split_once('\0').unwrap_or(("", packed));
    QualifiedName::new(schema, name)
}
