//! `schemac`: a schema compiler for machine-learning samples.
//!
//! The pipeline is visible in the module names:
//! [`load`] + [`parse`] (pest grammar → [`ast`]) → [`check`] (resolve and validate) +
//! [`layout`] (flatten, offsets, sizes) → [`ir`] → [`emit`] (one module per target,
//! rendering templates from `templates/`). [`diag`] renders every error rustc-style;
//! [`fmt`] prints a schema canonically; [`layout_table`] prints `schemac layout` and
//! [`layout_svg`] draws it; [`builder`] is the
//! `build.rs` API and [`compile`] the front end in one call; [`gencheck`] is `gen --check`;
//! [`diff`] compares two versions of a schema; [`reserved`] lists the names
//! generated code takes for itself (checked by [`check`], refused again by the emitters).

pub mod arrow;
pub mod ast;
pub mod builder;
pub mod check;
pub mod codec;
pub mod compile;
#[cfg(feature = "arrow")]
pub mod convert;
pub mod diag;
pub mod diff;
pub mod emit;
pub mod fmt;
pub mod gencheck;
pub mod ir;
pub mod layout;
pub mod layout_svg;
pub mod layout_table;
pub mod load;
pub mod parse;
pub mod reserved;

pub use builder::{BuildError, Builder};
pub use compile::{compile_file, Compiled, Failure};

/// The generator's version, written into every generated file and checked by the runtime.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
