//! The catalog: every function the console knows, with owner, team, lifecycle, environment and
//! tags, kept beside what the cloud reports. Reconciliation (`sync`) lists a connection's
//! functions through the AWS SDK and records shadows (in the cloud, not imported), ghosts (in the
//! catalog, gone from the cloud) and drift (the cloud's `lambdaport:*` tags disagree with the
//! catalog).
//!
//! One file per concern: `tags` (the metadata tags), `sync`, `search`, `records` (created,
//! imported, archived; one function's detail), `access` (who may read or change it), `metadata`
//! (owner, team, lifecycle, environment, tags; transfer), `live` (the cloud's configuration now,
//! revealing variables, configuration changes). Callers use the items re-exported here.

mod access;
mod live;
mod metadata;
mod records;
mod search;
mod sync;
mod tags;

pub use access::*;
pub use live::*;
pub use metadata::*;
pub use records::*;
pub use search::*;
pub use sync::*;
pub use tags::*;
