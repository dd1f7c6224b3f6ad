//! The command line of API-CONTRACT.md.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{FlagOverrides, HttpOverrides, TlsOverrides};

#[derive(Debug, Parser)]
#[command(
    name = "termin",
    version,
    about = "Termin: secure practice calendar and online booking"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command understands; they override the file and the environment.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// TOML configuration file.
    #[arg(long, global = true, env = "TERMIN_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory for the database, certificate and outbox [default: ./termin-data].
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// HTTPS listen address [default: 127.0.0.1:8443].
    #[arg(long, global = true, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// sqlite://PATH (default: <data-dir>/termin.db) or postgres://USER@HOST/DB.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// The https:// address users reach Termin at, for links.
    #[arg(long, global = true, value_name = "URL")]
    pub public_url: Option<String>,
    /// PEM certificate chain (leaf first); with --tls-key.
    #[arg(long, global = true, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of the certificate.
    #[arg(long, global = true, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Also listen for plain HTTP here, only to redirect to HTTPS.
    #[arg(long, global = true, value_name = "ADDR:PORT")]
    pub http_redirect_listen: Option<String>,
}

impl GlobalArgs {
    pub fn overrides(&self) -> FlagOverrides {
        FlagOverrides {
            data_dir: self.data_dir.clone(),
            listen: self.listen.clone(),
            database_url: self.database_url.clone(),
            public_url: self.public_url.clone(),
            tls: TlsOverrides {
                cert: self.tls_cert.clone(),
                key: self.tls_key.clone(),
            },
            http: HttpOverrides {
                redirect_listen: self.http_redirect_listen.clone(),
            },
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (HTTPS).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Create a practice and its owner without the browser; prints the practice's slug.
    Setup(SetupArgs),
    /// Lift the sign-in block of an address or network (e.g. 203.0.113.7 or 203.0.113.0/24)
    /// for every practice.
    Unblock {
        /// The address or network, as the administrators' view shows it.
        source: String,
    },
    /// Unlock an account locked after failed sign-ins, by its e-mail address.
    Unlock { email: String },
    /// Practice-network rules.
    Network {
        #[command(subcommand)]
        action: NetworkAction,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Encrypted backups to the configured targets.
    Backup {
        #[command(subcommand)]
        action: BackupAction,
    },
    /// Restore a backup into the configured (or given) database.
    Restore(RestoreArgs),
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
}

#[derive(Debug, Args)]
pub struct SetupArgs {
    #[arg(long)]
    pub org_name: String,
    #[arg(long)]
    pub owner_email: String,
    /// Mobile number in international (E.164) form, e.g. +4915123456789.
    #[arg(long)]
    pub owner_phone: String,
    /// The practice's time zone [default: Europe/Berlin].
    #[arg(long)]
    pub time_zone: Option<String>,
    /// Read the owner's password from the first line of standard input.
    #[arg(long, required = true)]
    pub password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum NetworkAction {
    /// Lift a practice's network rule (when it shuts out everybody).
    Clear {
        /// The practice's slug.
        #[arg(long)]
        org: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Check every practice's hash chain; exit 0 when intact, 1 naming the first broken entry.
    Verify {
        /// Only this practice (its slug).
        #[arg(long)]
        org: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print the effective configuration (secrets redacted); exit 2 when invalid.
    Check,
}

#[derive(Debug, Subcommand)]
pub enum BackupAction {
    /// Make a backup to every configured target now; prints its id. Exit 1 if any target
    /// failed.
    Run,
    /// List the complete backups of every target.
    List {
        /// As JSON: `[{"target","id","created_at","bytes","verified"}]`.
        #[arg(long)]
        json: bool,
    },
    /// Print the public key this installation signs its backups with (made on first use):
    /// note it with the identity, and name it in backup.signing_keys.
    Key,
    /// Check the newest backup of each target: download it and compare its hash; with
    /// --identity also restore it into a scratch database and compare its rows.
    Verify {
        /// The age identity file (keep it offline; needed for the full restore test).
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The target to restore from (its name in the configuration).
    #[arg(long)]
    pub target: String,
    /// The backup's id, as `termin backup list` shows it.
    #[arg(long)]
    pub backup: String,
    /// The age identity file that decrypts the backup.
    #[arg(long, value_name = "FILE")]
    pub identity: PathBuf,
    /// Replace the data of a database that is not empty.
    #[arg(long)]
    pub force: bool,
    /// Also accept backups signed by this public key (as `termin backup key` printed it).
    #[arg(long, value_name = "KEY")]
    pub signing_key: Vec<String>,
}
