//! Pieces shared by pages.

pub mod draft;
pub mod editor;
pub mod events;
pub mod exceptions;
pub mod flash;
pub mod forms;
pub mod shell;
