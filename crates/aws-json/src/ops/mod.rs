//! One module per area; one function per operation: parse and validate the
//! request shape, call the service, build the response shape.

pub mod account;
pub mod auth;
pub mod auth_events;
pub mod auth_factors;
pub mod client_records;
pub mod clients;
pub mod derived_token;
pub mod devices;
pub mod domains;
pub mod groups;
pub mod identities;
pub mod import_jobs;
pub mod mfa;
pub mod pool_records;
pub mod pools;
pub mod regional;
pub mod resource_servers;
pub mod sessions;
pub mod user_sessions;
pub mod users;
pub mod webauthn;
