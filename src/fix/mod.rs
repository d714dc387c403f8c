//! From findings to files: byte edits, the plan of new migration folders, the atomic write.
pub mod edit;
pub mod plan;
