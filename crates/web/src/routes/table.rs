//! Routes with their access declared beside them: every route says whether it is public,
//! for any signed-in user (their own data), or for staff holding a permission. The router
//! is built from this table, so no route can exist without a declaration, and a test
//! (`crates/termin/tests/access.rs`) walks the table and checks each route behaves as
//! declared. Handlers of staff routes take `Require<P>` (see `crate::access`).

use axum::Router;
use axum::routing::MethodRouter;
use termin_domain::rights::Permission;

use crate::AppState;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: sign-in, set-up and e-mailed links, health, assets.
    Public,
    /// A sign-in in progress or done (the second step, resending a code, signing out).
    Login,
    /// Any signed-in user, for their own account.
    SignedIn,
    /// Staff of the acting practice holding this permission.
    Staff(Permission),
}

/// An HTTP method a route may be declared for on its own (when one path's methods need
/// different permissions, e.g. reading and creating appointments).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Verb {
    pub fn method(self) -> axum::http::Method {
        match self {
            Verb::Get => axum::http::Method::GET,
            Verb::Post => axum::http::Method::POST,
            Verb::Put => axum::http::Method::PUT,
            Verb::Patch => axum::http::Method::PATCH,
            Verb::Delete => axum::http::Method::DELETE,
        }
    }
}

/// A route as declared: its path pattern, the one method it covers (`None`: all the
/// methods its router has) and who may call it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declared {
    pub path: &'static str,
    pub only: Option<Verb>,
    pub access: Access,
}

/// The router under construction and what each route declared.
pub struct Routes {
    router: Router<AppState>,
    declared: Vec<Declared>,
}

impl Default for Routes {
    fn default() -> Self {
        Self::new()
    }
}

impl Routes {
    pub fn new() -> Self {
        Self {
            router: Router::new(),
            declared: Vec::new(),
        }
    }

    pub fn route(
        mut self,
        path: &'static str,
        access: Access,
        methods: MethodRouter<AppState>,
    ) -> Self {
        self.router = self.router.route(path, methods);
        self.declared.push(Declared {
            path,
            only: None,
            access,
        });
        self
    }

    /// One method of a path, with its own access (axum merges the methods of one path).
    pub fn method(
        mut self,
        verb: Verb,
        path: &'static str,
        access: Access,
        handler: MethodRouter<AppState>,
    ) -> Self {
        self.router = self.router.route(path, handler);
        self.declared.push(Declared {
            path,
            only: Some(verb),
            access,
        });
        self
    }

    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.declared.extend(other.declared);
        self
    }

    pub fn declared(&self) -> &[Declared] {
        &self.declared
    }

    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}
