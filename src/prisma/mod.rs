//! Prisma's behaviour, in one place: which Prisma a project runs (`version`), how that Prisma sends a
//! `migration.sql` to PostgreSQL (`model`, with the statement split Prisma 7.4+ makes in `split7`),
//! applying a file exactly so with `_prisma_migrations` kept like Prisma's (`apply`, `bookkeeping`),
//! reading that table back (`history`), and the order Prisma applies folders in (`order`).
//!
//! The rest of the code asks here "how would this Prisma run this file?" instead of assuming one way.

pub mod apply;
pub mod bookkeeping;
pub mod failed;
pub mod history;
pub mod model;
pub mod order;
pub mod split7;
pub mod version;

pub use model::{ApplyModel, FileRun};
pub use version::{PrismaTarget, VersionSource};
