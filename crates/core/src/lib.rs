//! The domain core of cognate: user pools, app clients, users, sign-in
//! flows and challenges, and what goes into tokens. It knows nothing of
//! HTTP, JSON wire shapes or SQL; storage, time, password hashing and
//! message delivery come in through traits and values.

pub mod audit;
pub mod clock;
pub mod compromised;
pub mod counters;
pub mod delivery;
pub mod error;
pub mod geoip;
pub mod hashing;
pub mod model;
pub mod password_policy;
pub mod ratelimit;
pub mod schema;
pub mod service;
pub mod store;
pub mod tokens;
pub mod triggers;
pub mod verify;

pub use error::{Error, ErrorKind, Result, StoreError};
pub use service::pools::valid_pool_id;
pub use service::{ServiceConfig, UserPools};
