//! A browser-like API client for tests: it keeps the cookies the server sets (session and
//! trusted device) and sends the last CSRF token it was given, like the web pages do.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::Value;

use crate::TestServer;

/// User agents of two different browsers, as tests present them (device names come from
/// them: "Firefox on Linux", "Chrome on Windows").
pub const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
pub const CHROME: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36";

pub struct Browser {
    client: reqwest::Client,
    base: String,
    cookies: Mutex<BTreeMap<String, String>>,
    csrf: Mutex<Option<String>>,
    user_agent: String,
}

/// A response, read completely.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The CSRF token of the first form on this HTML page.
    pub fn form_csrf(&self) -> String {
        let html = self.body.as_str().expect("an HTML page");
        let start = html
            .find("name=\"csrf\" value=\"")
            .expect("a form with a CSRF field")
            + "name=\"csrf\" value=\"".len();
        html[start..]
            .split('"')
            .next()
            .expect("the value")
            .to_owned()
    }
}

impl Browser {
    /// A new browser with no cookies: a device the server has never seen.
    pub fn new(server: &TestServer, user_agent: &str) -> Self {
        Self {
            client: server.client().clone(),
            base: server.url(""),
            cookies: Mutex::new(BTreeMap::new()),
            csrf: Mutex::new(None),
            user_agent: user_agent.to_owned(),
        }
    }

    /// A new browser whose connections come from `ip` (127.0.0.x).
    pub fn from_address(server: &TestServer, user_agent: &str, ip: std::net::IpAddr) -> Self {
        Self {
            client: server.client_from(ip),
            ..Self::new(server, user_agent)
        }
    }

    /// The same browser (cookies, CSRF token) talking to another server, e.g. a second
    /// instance on the same database behind one load balancer.
    pub fn for_server(&self, server: &TestServer) -> Self {
        Self {
            client: server.client().clone(),
            base: server.url(""),
            cookies: Mutex::new(self.cookies.lock().expect("cookies").clone()),
            csrf: Mutex::new(self.csrf()),
            user_agent: self.user_agent.clone(),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().expect("cookies").get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.cookies
            .lock()
            .expect("cookies")
            .insert(name.to_owned(), value.to_owned());
    }

    pub fn csrf(&self) -> Option<String> {
        self.csrf.lock().expect("csrf").clone()
    }

    /// Sends without the CSRF header (to test that it is required).
    pub fn forget_csrf(&self) {
        *self.csrf.lock().expect("csrf") = None;
    }

    pub fn set_csrf(&self, token: &str) {
        *self.csrf.lock().expect("csrf") = Some(token.to_owned());
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .lock()
            .expect("cookies")
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let mut request = request.header("user-agent", &self.user_agent);
        let cookies = self.cookie_header();
        if !cookies.is_empty() {
            request = request.header("cookie", cookies);
        }
        if let Some(csrf) = self.csrf() {
            request = request.header("x-csrf-token", csrf);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        for set in headers.get_all("set-cookie") {
            let set = set.to_str().expect("ASCII cookie");
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            if let Some((name, value)) = pair.split_once('=') {
                let mut cookies = self.cookies.lock().expect("cookies");
                if attributes.contains("Max-Age=0") {
                    cookies.remove(name);
                } else {
                    cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        let text = response.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if let Some(csrf) = body.get("csrf_token").and_then(Value::as_str) {
            *self.csrf.lock().expect("csrf") = Some(csrf.to_owned());
        }
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(self.client.get(format!("{}{path}", self.base)))
            .await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.send(self.client.post(format!("{}{path}", self.base)).json(body))
            .await
    }

    /// Posts an HTML form (`application/x-www-form-urlencoded`); the CSRF token, where a
    /// form needs one, is a field of the form.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        self.send(
            self.client
                .post(format!("{}{path}", self.base))
                .form(fields),
        )
        .await
    }

    pub async fn post_with_header(&self, path: &str, body: &Value, header: (&str, &str)) -> Answer {
        self.send(
            self.client
                .post(format!("{}{path}", self.base))
                .header(header.0, header.1)
                .json(body),
        )
        .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Answer {
        self.send(self.client.put(format!("{}{path}", self.base)).json(body))
            .await
    }

    /// Any method with a JSON body (e.g. `DELETE` with a reason).
    pub async fn request_json(&self, method: reqwest::Method, path: &str, body: &Value) -> Answer {
        self.send(
            self.client
                .request(method, format!("{}{path}", self.base))
                .json(body),
        )
        .await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Answer {
        self.send(self.client.patch(format!("{}{path}", self.base)).json(body))
            .await
    }

    /// `method` on `path` with one extra header (an empty JSON object as the body of a POST,
    /// PUT or PATCH).
    pub async fn request_with_header(
        &self,
        method: reqwest::Method,
        path: &str,
        header: (&str, &str),
    ) -> Answer {
        let with_body = method == reqwest::Method::POST
            || method == reqwest::Method::PUT
            || method == reqwest::Method::PATCH;
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header(header.0, header.1);
        if with_body {
            request = request.json(&serde_json::json!({}));
        }
        self.send(request).await
    }

    pub async fn get_with_header(&self, path: &str, header: (&str, &str)) -> Answer {
        self.send(
            self.client
                .get(format!("{}{path}", self.base))
                .header(header.0, header.1),
        )
        .await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.send(self.client.delete(format!("{}{path}", self.base)))
            .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Answer {
        self.post(
            "/api/v1/auth/login",
            &serde_json::json!({"email": email, "password": password}),
        )
        .await
    }

    pub async fn verify(&self, method: &str, code: &str) -> Answer {
        self.post(
            "/api/v1/auth/verify",
            &serde_json::json!({"method": method, "code": code}),
        )
        .await
    }
}
