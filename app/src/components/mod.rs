//! Pieces shared by pages.

pub mod editor;
pub mod flash;
pub mod forms;
pub mod shell;
