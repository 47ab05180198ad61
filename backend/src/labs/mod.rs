//! The guided lab (the tutorial's section 10) as lab runs: each confirmed step is a real action in
//! the cloud, recorded with the resources it created in the ledger.
//!
//! A step that creates something runs in three parts: `begin` (one transaction: the run is marked
//! pending at that step and a `creating` ledger row is written for every resource about to exist),
//! the cloud calls, and `finish` (one transaction: the rows become `present`, the step is recorded,
//! the audit event written). A failure in between rolls back what was created; a crash in between
//! leaves the pending mark and the `creating` rows, which `recover` reconciles with the cloud.
//!
//! One file per part: the vocabulary (`model`), the SDK helpers (`cloud`), runs in the database
//! (`runs`), the step protocol (`ledger`), a resource in the cloud (`resources`), then the steps in
//! order — `function` (2), `code` (3 and 4), `url` (5), `doctor` (6), `logs` (7), `validate` (8),
//! `cleanup` (9 and the sweeper); the instructor's `board`; the governance `rules` each step
//! that creates or changes something must pass; and `create`, the one-page Create form, which is
//! steps 2 to 5 at once. Callers use the items re-exported here.

pub mod access;
mod board;
mod cleanup;
mod cloud;
mod code;
mod create;
mod doctor;
mod function;
mod ledger;
mod logs;
mod model;
mod resources;
mod rules;
mod runs;
mod url;
mod validate;

pub use board::*;
pub use cleanup::*;
pub use cloud::lab_code;
pub use code::*;
pub use create::*;
pub use doctor::*;
pub use function::*;
pub use ledger::*;
pub use logs::*;
pub use model::*;
pub use rules::form_field;
pub use runs::*;
pub use url::*;
pub use validate::*;

pub use crate::urls::policy::public_statements;
