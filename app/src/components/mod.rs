//! Pieces shared by pages.

pub mod flash;
pub mod shell;
