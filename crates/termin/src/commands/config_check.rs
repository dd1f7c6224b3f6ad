//! `termin config check`: print the effective configuration, secrets redacted.

use super::Failure;
use crate::config::Settings;

pub fn run(settings: &Settings) -> Result<(), Failure> {
    print!("{}", settings.render_redacted());
    for warning in settings.warnings() {
        eprintln!("warning: {warning}");
    }
    Ok(())
}
