//! The landing page.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use crate::AppState;
use crate::error::PageError;
use crate::i18n::{I18n, Lang, Texts};

#[derive(Template)]
#[template(path = "home.html")]
struct Home<'a> {
    t: Texts<'a>,
    set_up: bool,
}

pub async fn page(State(state): State<AppState>, lang: Lang) -> Result<Response, PageError> {
    let set_up = state
        .services
        .practice_exists()
        .await
        .map_err(|err| PageError { lang, err })?;
    let page = Home {
        t: I18n::global().texts(lang),
        set_up,
    };
    crate::render::html(lang, &page)
}
