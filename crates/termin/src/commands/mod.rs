//! The commands of the `termin` binary. Each returns a [`Failure`] that `main` turns into
//! one sentence on stderr and the contract's exit code.

mod audit;
mod backup;
mod config_check;
mod migrate;
mod operator;
mod serve;
mod setup;

use crate::cli::{AuditAction, BackupAction, Cli, Command, ConfigAction, NetworkAction};
use crate::config::{self, Settings};

/// A failed command: exit code 2 for bad usage or configuration, 1 for anything else.
#[derive(Debug)]
pub struct Failure {
    pub exit_code: u8,
    pub message: String,
}

impl Failure {
    pub fn usage(message: impl std::fmt::Display) -> Self {
        Self {
            exit_code: 2,
            message: message.to_string(),
        }
    }

    pub fn other(message: impl std::fmt::Display) -> Self {
        Self {
            exit_code: 1,
            message: message.to_string(),
        }
    }
}

/// Reads and checks the configuration for `cli`.
pub fn settings(cli: &Cli) -> Result<Settings, Failure> {
    config::load(cli.global.config.as_deref(), &cli.global.overrides())
        .and_then(config::RawConfig::validate)
        .map_err(Failure::usage)
}

pub async fn run(cli: Cli) -> Result<(), Failure> {
    let settings = settings(&cli)?;
    crate::logging::init(settings.log_format, &settings.log_level);
    match cli.command {
        Command::Serve => serve::run(settings).await,
        Command::Migrate => migrate::run(settings).await,
        Command::Setup(args) => setup::run(settings, args).await,
        Command::Audit {
            action: AuditAction::Verify { org },
        } => audit::verify(settings, org.as_deref()).await,
        Command::Network {
            action: NetworkAction::Clear { org },
        } => operator::clear_network_rule(settings, &org).await,
        Command::Unblock { source } => operator::unblock(settings, &source).await,
        Command::Unlock { email } => operator::unlock(settings, &email).await,
        Command::Backup {
            action: BackupAction::Run,
        } => backup::run(settings).await,
        Command::Backup {
            action: BackupAction::Key,
        } => backup::key(settings).await,
        Command::Backup {
            action: BackupAction::List { json },
        } => backup::list(settings, json).await,
        Command::Backup {
            action: BackupAction::Verify { identity },
        } => backup::verify(settings, identity.as_deref()).await,
        Command::Restore(args) => backup::restore(settings, args).await,
        Command::Config {
            action: ConfigAction::Check,
        } => config_check::run(&settings),
    }
}
