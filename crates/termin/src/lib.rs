//! The `termin` program: configuration, TLS, start-up and the command line. The web layer,
//! use cases, domain rules and storage live in their own crates (see docs/ARCHITECTURE.md).

pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod connections;
pub mod logging;
pub mod tls;

pub use app::{App, StartupError, StartupInfo};
pub use config::{RawConfig, Settings};
