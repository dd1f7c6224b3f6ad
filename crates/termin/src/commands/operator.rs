//! `termin unblock` and `termin unlock`: the operator's hand on the sign-in guards (S8).
//! A shell on the server is the authority here; practices' administrators lift only what
//! concerns their own members, through the protection page.

use std::sync::Arc;

use termin_domain::SystemClock;

use super::Failure;
use crate::app::{open_store, services};
use crate::config::Settings;

pub async fn unblock(settings: Settings, source: &str) -> Result<(), Failure> {
    let (store, _) = open_store(&settings).await.map_err(Failure::other)?;
    let services = services(store.clone(), Arc::new(SystemClock));
    let lifted = services
        .operator_unblock(source)
        .await
        .map_err(Failure::other);
    store.close().await;
    if lifted? {
        println!("the sign-in block of {source} is lifted");
        Ok(())
    } else {
        Err(Failure::other(format!("{source} is not blocked")))
    }
}

pub async fn clear_network_rule(settings: Settings, slug: &str) -> Result<(), Failure> {
    let (store, _) = open_store(&settings).await.map_err(Failure::other)?;
    let services = services(store.clone(), Arc::new(SystemClock));
    let cleared = services
        .operator_clear_network_rule(slug)
        .await
        .map_err(Failure::other);
    store.close().await;
    if cleared? {
        println!("the network rule of {slug} is lifted: staff may work from anywhere");
        Ok(())
    } else {
        Err(Failure::usage(format!("no practice {slug}")))
    }
}

pub async fn unlock(settings: Settings, email: &str) -> Result<(), Failure> {
    let (store, _) = open_store(&settings).await.map_err(Failure::other)?;
    let services = services(store.clone(), Arc::new(SystemClock));
    let unlocked = services
        .operator_unlock(email)
        .await
        .map_err(Failure::other);
    store.close().await;
    if unlocked? {
        println!("the account is unlocked");
        Ok(())
    } else {
        Err(Failure::other("no such account is locked"))
    }
}
