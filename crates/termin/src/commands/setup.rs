//! `termin setup`: create a practice and its owner from the server's shell. Having a shell
//! on the server is the authority here, so no set-up link is needed.

use std::io::BufRead;
use std::sync::Arc;

use termin_domain::setup::NewPracticeInput;
use termin_domain::{DomainError, SystemClock};

use super::Failure;
use crate::app::{open_store, services};
use crate::cli::SetupArgs;
use crate::config::Settings;

fn read_password() -> Result<String, Failure> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| {
        Failure::usage(format!("cannot read the password from standard input: {e}"))
    })?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        return Err(Failure::usage("no password on standard input"));
    }
    Ok(password.to_owned())
}

/// Turns a use-case error into one sentence naming what to fix.
fn describe(err: DomainError) -> Failure {
    match err {
        DomainError::Invalid(fields) => {
            let parts: Vec<String> = fields
                .iter()
                .map(|(field, msgs)| format!("--{} {}", field.replace('_', "-"), msgs.join(", ")))
                .collect();
            Failure::usage(format!("invalid input: {}", parts.join("; ")))
        }
        DomainError::PasswordPolicy { violations } => {
            let rules: Vec<&str> = violations.iter().map(|v| v.describe()).collect();
            Failure::usage(format!("the password {}", rules.join(", ")))
        }
        DomainError::Conflict { message, .. } => Failure::other(message),
        DomainError::Internal(cause) => Failure::other(format!("internal error: {cause}")),
        other => Failure::other(other),
    }
}

pub async fn run(settings: Settings, args: SetupArgs) -> Result<(), Failure> {
    let password = read_password()?;
    let (store, _) = open_store(&settings).await.map_err(Failure::other)?;
    let services = services(store.clone(), Arc::new(SystemClock));
    let created = services
        .create_practice_as_operator(NewPracticeInput {
            org_name: &args.org_name,
            time_zone: args.time_zone.as_deref(),
            owner_email: &args.owner_email,
            owner_phone: &args.owner_phone,
            password: &password,
        })
        .await
        .map_err(describe);
    store.close().await;
    println!("{}", created?.slug);
    Ok(())
}
