//! End to end with the real Prisma CLIs (6.19.3 and 7.10.1, offline kits under tools/) and the npm
//! package as a user installs it.

#[path = "../common/mod.rs"]
mod common;

mod npm_package;
mod prisma6;
mod prisma7;
mod prisma_kit;
