//! Small helpers for pages whose forms repeat fields (checkbox lists) and so arrive as
//! name-value pairs, and for ids in paths.

use termin_domain::{DomainError, FieldErrors};

/// `?done=<action>` on the page a form action redirects back to, for its notice.
#[derive(Debug, serde::Deserialize)]
pub struct Done {
    pub done: Option<String>,
}

/// The first value of field `name`, or "".
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// Every value of field `name` (ticked checkboxes), in form order.
pub fn values(fields: &[(String, String)], name: &str) -> Vec<String> {
    fields
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .collect()
}

/// All field messages in one sentence for a form's alert.
pub fn messages(errors: &FieldErrors) -> String {
    errors
        .iter()
        .flat_map(|(_, messages)| messages.iter().cloned())
        .collect::<Vec<_>>()
        .join("; ")
}

/// An id from a path: one that does not parse is simply not found.
pub fn path_id<T: std::str::FromStr>(raw: &str) -> Result<T, DomainError> {
    raw.parse().map_err(|_| DomainError::NotFound)
}
