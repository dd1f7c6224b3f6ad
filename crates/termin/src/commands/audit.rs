//! `termin audit verify [--org SLUG]`: checks every practice's audit hash chain. Exit 0
//! when all are intact; 1 naming the first broken entry of each broken chain.

use std::sync::Arc;

use termin_domain::SystemClock;

use super::Failure;
use crate::app::{open_store, services};
use crate::config::Settings;

pub async fn verify(settings: Settings, org: Option<&str>) -> Result<(), Failure> {
    let (store, _) = open_store(&settings).await.map_err(Failure::other)?;
    let services = services(store.clone(), Arc::new(SystemClock));
    let reports = services.verify_audit(org).await;
    store.close().await;
    let reports = reports.map_err(|err| match err {
        termin_domain::DomainError::Invalid(_) => {
            Failure::usage(format!("no practice {}", org.unwrap_or_default()))
        }
        other => Failure::other(other),
    })?;
    let mut broken = Vec::new();
    for report in reports {
        match report.result {
            Ok(count) => println!("{}: intact ({count} entries)", report.slug),
            Err(first) => broken.push(format!("practice {}: {first}", report.slug)),
        }
    }
    if broken.is_empty() {
        Ok(())
    } else {
        Err(Failure::other(format!(
            "the audit log is broken: {}",
            broken.join("; ")
        )))
    }
}
