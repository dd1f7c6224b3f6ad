//! What every step of the booking page shows around its form: the practice, the step
//! ("Schritt 2 von 5"), the link to the other language, and the page's message in a live
//! region. Also the language itself: the switch link's `?lang=de|en` wins and is kept in
//! the `lang` cookie that [`Lang`] reads on the next request; otherwise the cookie or the
//! browser's `Accept-Language` decides.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use termin_domain::DomainError;

use crate::error::PageError;
use crate::i18n::{I18n, Lang, Texts};

/// The steps before the booked appointment.
const STEPS: u8 = 5;

/// `?lang=` of the switch link.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct LangParam {
    lang: String,
}

/// The language of one page.
#[derive(Debug, Clone, Copy)]
pub(super) struct PageLang {
    pub lang: Lang,
    /// Chosen by the switch link: remembered in the cookie.
    chosen: bool,
}

impl PageLang {
    pub fn new(negotiated: Lang, param: &LangParam) -> Self {
        let chosen = match param.lang.trim() {
            "de" => Some(Lang::De),
            "en" => Some(Lang::En),
            _ => None,
        };
        Self {
            lang: chosen.unwrap_or(negotiated),
            chosen: chosen.is_some(),
        }
    }

    /// The language of a form's answer (the switch link lives on the pages only).
    pub fn of(lang: Lang) -> Self {
        Self {
            lang,
            chosen: false,
        }
    }

    pub fn texts(self) -> Texts<'static> {
        I18n::global().texts(self.lang)
    }

    pub fn fail(self) -> impl Fn(DomainError) -> PageError {
        move |err| PageError {
            lang: self.lang,
            err,
        }
    }

    /// Renders `page` with `status`, remembering a language the patient chose.
    pub fn render(
        self,
        status: StatusCode,
        page: &impl askama::Template,
    ) -> Result<Response, PageError> {
        let mut response = crate::render::html_with_status(self.lang, status, page)?;
        if self.chosen {
            let cookie = format!(
                "lang={}; Path=/; Max-Age=31536000; Secure; HttpOnly; SameSite=Lax",
                self.lang.code()
            );
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
        }
        Ok(response)
    }

    pub fn page(self, page: &impl askama::Template) -> Result<Response, PageError> {
        self.render(StatusCode::OK, page)
    }
}

/// The link to the same page in the other language.
#[derive(Debug)]
pub(super) struct Switch {
    pub href: String,
    pub lang: &'static str,
}

/// The frame of a step.
#[derive(Debug)]
pub(super) struct Frame {
    pub practice: String,
    /// The step's heading (`<h1>`), also the page title.
    pub heading: String,
    /// "Schritt 2 von 5"; none once booked.
    pub progress: Option<String>,
    /// The same page in the other language.
    pub switch: Option<Switch>,
    /// What went wrong (announced at once).
    pub alert: Option<String>,
    /// Something to know (announced politely).
    pub notice: Option<String>,
    /// Whether a form on the page was refused (the title says so).
    pub refused: bool,
}

impl Frame {
    /// The frame of step `step` (0: the booked appointment) with heading `heading_key`; on
    /// a page reached by a link (`here`, without `lang`), the language switch.
    pub fn new(
        lang: PageLang,
        practice: &str,
        step: u8,
        heading_key: &str,
        here: Option<&str>,
    ) -> Self {
        let t = lang.texts();
        let other = match lang.lang {
            Lang::De => Lang::En,
            Lang::En => Lang::De,
        };
        Self {
            practice: practice.to_owned(),
            heading: t.get(heading_key).to_owned(),
            progress: (step > 0).then(|| {
                t.get("booking.step")
                    .replacen("{}", &step.to_string(), 1)
                    .replacen("{}", &STEPS.to_string(), 1)
            }),
            switch: here.map(|here| {
                let joint = if here.contains('?') { '&' } else { '?' };
                Switch {
                    href: format!("{here}{joint}lang={}", other.code()),
                    lang: other.code(),
                }
            }),
            alert: None,
            notice: None,
            refused: false,
        }
    }

    pub fn alert(mut self, message: Option<String>) -> Self {
        self.alert = message;
        self
    }

    pub fn notice(mut self, message: Option<String>) -> Self {
        self.notice = message;
        self
    }

    pub fn refused(mut self, refused: bool) -> Self {
        self.refused = refused;
        self
    }
}

/// Whether `status` is the one of a refused form.
pub(super) fn refused_status(refused: bool) -> StatusCode {
    if refused {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    }
}

/// After a form that was done: the browser goes on to `url` (a reload then does not send
/// it again).
pub(super) fn go_to(url: &str) -> Response {
    axum::response::Redirect::to(url).into_response()
}
