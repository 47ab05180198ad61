//! One module per screen.

pub mod admin;
pub mod audit;
pub mod catalog;
pub mod connections;
pub mod cost;
pub mod create;
pub mod dashboard;
pub mod function;
pub mod governance;
pub mod labs;
pub mod not_found;
pub mod orphans;
pub mod profile;
pub mod signin;
pub mod violations;
