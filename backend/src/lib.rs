//! Server-only domain and data for the console. Nothing here is compiled for the browser: the `app`
//! crate reaches it only under its `ssr` feature, which keeps sqlx out of the wasm build.

pub mod accounts;
pub mod audit;
pub mod catalog;
pub mod cloud;
pub mod code;
pub mod connections;
pub mod db;
pub mod error;
pub mod governance;
pub mod input;
pub mod labs;
pub mod leases;
pub mod logs;
pub mod monitor;
pub mod permissions;
pub mod request;
pub mod seed;
pub mod settings;
pub mod teams;
pub mod testing;
pub mod throttle;
pub mod tokens;
pub mod urls;
pub mod versions;

pub use error::{Error, Result};
pub use sqlx::PgPool;
