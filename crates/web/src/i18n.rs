//! German and English texts. The catalogues are TOML files compiled into the binary
//! (`locales/*.toml`); a test keeps their keys identical. The language comes from a `lang`
//! cookie, else the browser's `Accept-Language`, else German (the default locale of the
//! practices Termin is made for).

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    De,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "de" => Some(Lang::De),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks the supported language with the highest q-value from an `Accept-Language`
    /// header; ties go to the earlier entry.
    pub fn negotiate(accept_language: &str) -> Option<Self> {
        let mut best: Option<(f32, Lang)> = None;
        for entry in accept_language.split(',') {
            let mut parts = entry.split(';');
            let Some(lang) = parts.next().and_then(Lang::from_tag) else {
                continue;
            };
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, lang)| lang)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let from_cookie = parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|c| c.trim().strip_prefix("lang="))
            .and_then(Lang::from_tag);
        let from_header = || {
            parts
                .headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::negotiate)
        };
        Ok(from_cookie.or_else(from_header).unwrap_or(Lang::De))
    }
}

/// Both catalogues.
#[derive(Debug)]
pub struct I18n {
    de: HashMap<String, String>,
    en: HashMap<String, String>,
}

/// The texts of one language, for a template.
#[derive(Debug, Clone, Copy)]
pub struct Texts<'a> {
    lang: Lang,
    map: &'a HashMap<String, String>,
    fallback: &'a HashMap<String, String>,
}

impl<'a> Texts<'a> {
    /// The text for `key`; English when the language lacks it, the key itself as a last
    /// resort (visible, so a missing text is noticed rather than hidden).
    pub fn get(&self, key: &str) -> &'a str {
        self.map
            .get(key)
            .or_else(|| self.fallback.get(key))
            .map_or_else(|| missing(key), String::as_str)
    }

    pub fn lang(&self) -> &'static str {
        self.lang.code()
    }
}

/// Missing keys are a programming error that the catalogue test catches; at run time the
/// page still renders, with a visible marker.
fn missing(key: &str) -> &'static str {
    tracing::warn!(key, "missing translation");
    "[missing text]"
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) {
    for (key, value) in table {
        let full = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(inner) => flatten(&full, inner, out),
            toml::Value::String(text) => {
                out.insert(full, text.clone());
            }
            other => {
                out.insert(full, other.to_string());
            }
        }
    }
}

fn parse_catalogue(source: &str) -> Result<HashMap<String, String>, toml::de::Error> {
    let table: toml::Table = toml::from_str(source)?;
    let mut out = HashMap::new();
    flatten("", &table, &mut out);
    Ok(out)
}

const DE: &str = include_str!("../locales/de.toml");
const EN: &str = include_str!("../locales/en.toml");

impl I18n {
    /// The catalogues compiled into the binary. They are static data, not configuration.
    pub fn global() -> &'static I18n {
        static CATALOGUES: OnceLock<I18n> = OnceLock::new();
        CATALOGUES.get_or_init(|| I18n {
            // A broken catalogue fails the catalogue test long before it ships; an empty
            // map here would still render pages (with visible markers).
            de: parse_catalogue(DE).unwrap_or_default(),
            en: parse_catalogue(EN).unwrap_or_default(),
        })
    }

    pub fn texts(&self, lang: Lang) -> Texts<'_> {
        Texts {
            lang,
            map: match lang {
                Lang::De => &self.de,
                Lang::En => &self.en,
            },
            fallback: &self.en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogues_parse_and_have_the_same_keys() {
        let de = parse_catalogue(DE).unwrap();
        let en = parse_catalogue(EN).unwrap();
        let mut de_keys: Vec<_> = de.keys().collect();
        let mut en_keys: Vec<_> = en.keys().collect();
        de_keys.sort();
        en_keys.sort();
        assert_eq!(de_keys, en_keys);
        assert!(de.len() > 10);
    }

    #[test]
    fn accept_language_prefers_the_highest_q() {
        assert_eq!(Lang::negotiate("en-US,en;q=0.9,de;q=0.8"), Some(Lang::En));
        assert_eq!(Lang::negotiate("fr-FR, de;q=0.7, en;q=0.5"), Some(Lang::De));
        assert_eq!(Lang::negotiate("en;q=0.5, de-AT"), Some(Lang::De));
        assert_eq!(Lang::negotiate("fr, it"), None);
        assert_eq!(Lang::negotiate("de;q=0"), None);
    }

    #[test]
    fn german_text_differs_from_english() {
        let i18n = I18n::global();
        assert_eq!(i18n.texts(Lang::De).get("setup.title"), "Praxis einrichten");
        assert_eq!(
            i18n.texts(Lang::En).get("setup.title"),
            "Set up your practice"
        );
    }
}
