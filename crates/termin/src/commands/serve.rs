//! `termin serve`: run the HTTPS server until SIGTERM or SIGINT.

use std::sync::Arc;

use termin_domain::SystemClock;

use super::Failure;

/// Prints a line on stdout; a closed stdout (`termin serve | head`) must not stop the
/// server, so write errors are ignored instead of panicking like `println!`.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}
use crate::app::{App, StartupInfo};
use crate::config::Settings;

pub async fn run(settings: Settings) -> Result<(), Failure> {
    // Listen for signals before anything else, so that a SIGTERM during start-up already
    // means "stop gracefully" rather than the default "die".
    let shutdown = shutdown_signal().map_err(Failure::other)?;
    let settings_warnings = settings.warnings();
    let app = App::build(settings, Arc::new(SystemClock))
        .await
        .map_err(Failure::other)?;
    print_banner(app.info());
    for warning in settings_warnings {
        say!("WARNING: {warning}");
        tracing::warn!(warning, "weak configuration");
    }
    tracing::info!(
        https = %app.info().https_addr,
        database = %app.info().database,
        schema_version = app.info().migrations.schema_version,
        "termin is serving"
    );
    app.run_until(shutdown).await.map_err(Failure::other)
}

/// What the operator needs at start: where to connect, which certificate to expect, and
/// (first run only) the set-up link. Printed on stdout, not into the logs.
fn print_banner(info: &StartupInfo) {
    say!(
        "Termin listens on https://{} ({})",
        info.https_addr,
        info.public_origin
    );
    if let Some(addr) = info.redirect_addr {
        say!("Plain HTTP on http://{addr} only redirects to HTTPS.");
    }
    let cert = &info.certificate;
    if cert.self_signed {
        say!(
            "TLS certificate: self-signed for localhost, 127.0.0.1 and ::1{} ({}).",
            if cert.created_now {
                ", created now"
            } else {
                ""
            },
            cert.cert_path.display()
        );
        say!("  Configure tls.cert and tls.key to serve your own certificate on a network.");
    } else {
        say!("TLS certificate: {}", cert.cert_path.display());
    }
    say!("  SHA-256 fingerprint: {}", cert.fingerprint_sha256);
    say!(
        "Database: {} (schema version {})",
        info.database,
        info.migrations.schema_version
    );
    let channels = [
        ("E-mail", &info.email_delivery, "[smtp]"),
        ("SMS", &info.sms_delivery, "[sms]"),
    ];
    for (channel, delivery, section) in channels {
        if delivery.file {
            say!(
                "{channel}: NOT SENT, written to {} — configure {section} to send",
                delivery.description
            );
        } else {
            say!("{channel}: {}", delivery.description);
        }
    }
    if let Some(link) = &info.setup_link {
        say!();
        say!(
            "No practice exists yet. Create the first one within one hour with this one-time link:"
        );
        say!("  {link}");
        say!("(or run `termin setup --help` on this server)");
    }
}

/// A future that completes on SIGTERM or SIGINT (Ctrl-C); the handlers are installed now.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}
