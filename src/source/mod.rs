//! Reading migrations: discovery, lossless splitting, classification.
pub mod classify;
pub mod discover;
pub mod names;
pub mod order;
pub mod split;
