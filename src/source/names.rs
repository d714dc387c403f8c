//! Object names as PostgreSQL resolves them: unquoted identifiers fold to lower case, quoted ones keep
//! their spelling, and an unqualified name lives in `public` (the schema Prisma's default search_path uses).

use std::fmt::{self, Write as _};

use serde::Serialize;
use sqlparser::ast::{Ident, ObjectName, ObjectNamePart};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct QualifiedName {
    pub schema: String,
    pub name: String,
}

pub const DEFAULT_SCHEMA: &str = "public";

impl QualifiedName {
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        QualifiedName {
            schema: schema.into(),
            name: name.into(),
        }
    }

    /// From a parsed name; `None` for names with more than two parts (database-qualified).
    pub fn from_object_name(name: &ObjectName) -> Option<Self> {
        let parts: Vec<String> = name
            .0
            .iter()
            .map(|part| match part {
                ObjectNamePart::Identifier(ident) => Some(fold(ident)),
                _ => None,
            })
            .collect::<Option<_>>()?;
        match parts.as_slice() {
            [name] => Some(Self::new(DEFAULT_SCHEMA, name.clone())),
            [schema, name] => Some(Self::new(schema.clone(), name.clone())),
            _ => None,
        }
    }

    /// A name in the same schema as `self` (indexes live in their table's schema; renames stay put).
    pub fn sibling(&self, name: impl Into<String>) -> Self {
        Self::new(self.schema.clone(), name)
    }
}

/// PostgreSQL's identifier folding.
pub fn fold(ident: &Ident) -> String {
    folded(&ident.value, ident.quote_style.is_some())
}

/// Unquoted identifiers fold to lower case; quoted ones keep their spelling.
fn folded(value: &str, quoted: bool) -> String {
    if quoted {
        value.to_string()
    } else {
        value.to_lowercase()
    }
}

impl fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.schema != DEFAULT_SCHEMA {
            write_quoted(f, &self.schema)?;
            f.write_char('.')?;
        }
        write_quoted(f, &self.name)
    }
}

/// Quote an identifier the way Prisma writes them.
pub fn quote(identifier: &str) -> String {
    let mut quoted = String::with_capacity(identifier.len() + 2);
    // Writing to a String cannot fail.
    let _ = write_quoted(&mut quoted, identifier);
    quoted
}

fn write_quoted(out: &mut impl fmt::Write, identifier: &str) -> fmt::Result {
    out.write_char('"')?;
    for (i, part) in identifier.split('"').enumerate() {
        if i > 0 {
            out.write_str("\"\"")?;
        }
        out.write_str(part)?;
    }
    out.write_char('"')
}
