//! The guided lab: `Create function` (step 1: where it runs), the wizard (`/labs/:id`, steps 2–9,
//! each with the lab's purpose and expected outcome, each confirmed as a real action in the cloud)
//! and the Labs page (my runs; for admins, every learner's, refreshed live).
//!
//! One file per page or step: `create`, `wizard`, then `function` (2), `code` (3 and 4), `url` (5),
//! `call` (6), `logs` (7), `validate` (8), `cleanup` (9, and every function page's Cleanup
//! section), `board` (the Labs page); `common` holds what the steps share.

mod board;
mod call;
mod cleanup;
mod code;
mod common;
mod create;
mod function;
mod logs;
mod url;
mod validate;
mod wizard;

pub use board::LabsPage;
pub use cleanup::FunctionCleanup;
pub use create::CreatePage;
pub use wizard::LabPage;
