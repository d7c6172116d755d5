//! Storage backends for cognate. Each implements `cognate_core::store::Store`
//! and applies its own versioned migrations (`migrations/<engine>/NNNN_*.sql`)
//! when opened.

mod common;
pub mod postgres;
pub mod sqlite;

pub use postgres::PostgresStore;
pub use sqlite::{Durability, SqliteStore};
