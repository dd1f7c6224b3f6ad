//! Connection limits (S12): at most so many open connections in all and per client address.
//! A connection over either cap is closed at once, before the TLS handshake costs anything.
//! The header-read timeout, header size and first-request timeout are set on the HTTP
//! builder in `app.rs`.

use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum_server::accept::Accept;
use termin_web::limits::{PerSource, SourcePlace};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The connection-level limits in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    /// Time allowed for a request's headers to arrive (slowloris).
    pub header_read_timeout: Duration,
    /// Time allowed from connecting to the first request (TLS handshake included).
    pub first_request_timeout: Duration,
    pub max_header_bytes: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: 4096,
            max_connections_per_ip: 256,
            header_read_timeout: Duration::from_secs(10),
            first_request_timeout: Duration::from_secs(15),
            max_header_bytes: 32 * 1024,
        }
    }
}

/// Counts open connections in all and per address (IPv6 by its /64); a connection gives
/// its place back when dropped.
#[derive(Debug, Clone)]
pub struct LimitedAcceptor {
    total: Arc<Semaphore>,
    per_source: PerSource,
}

impl LimitedAcceptor {
    pub fn new(limits: &ConnectionLimits) -> Self {
        Self {
            total: Arc::new(Semaphore::new(limits.max_connections.max(1))),
            per_source: PerSource::new(limits.max_connections_per_ip),
        }
    }

    /// A place for one more connection from `ip`, or `None` when a cap is reached.
    fn admit(&self, ip: IpAddr) -> Option<Place> {
        let permit = self.total.clone().try_acquire_owned().ok()?;
        let source = self.per_source.take(ip)?;
        Some(Place {
            _permit: permit,
            _source: source,
        })
    }
}

/// One connection's place under the caps.
#[derive(Debug)]
struct Place {
    _permit: OwnedSemaphorePermit,
    _source: SourcePlace,
}

/// A stream that holds its connection's place until it is dropped.
#[derive(Debug)]
pub struct Counted<S> {
    inner: S,
    _place: Place,
}

impl<S> Accept<TcpStream, S> for LimitedAcceptor {
    type Stream = Counted<TcpStream>;
    type Service = S;
    type Future = std::future::Ready<io::Result<(Self::Stream, Self::Service)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let place = stream
            .peer_addr()
            .ok()
            .and_then(|peer| self.admit(peer.ip()));
        std::future::ready(match place {
            Some(place) => Ok((
                Counted {
                    inner: stream,
                    _place: place,
                },
                service,
            )),
            None => {
                tracing::debug!("connection refused: connection limit reached");
                Err(io::Error::other("connection limit reached"))
            }
        })
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_capped_per_address_and_in_all_and_given_back() {
        let acceptor = LimitedAcceptor::new(&ConnectionLimits {
            max_connections: 3,
            max_connections_per_ip: 2,
            ..ConnectionLimits::default()
        });
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let b: IpAddr = "127.0.0.3".parse().unwrap();
        let a1 = acceptor.admit(a).unwrap();
        let _a2 = acceptor.admit(a).unwrap();
        assert!(acceptor.admit(a).is_none(), "third from one address");
        let _b1 = acceptor.admit(b).unwrap();
        assert!(acceptor.admit(b).is_none(), "fourth in all");
        drop(a1);
        assert!(
            acceptor.admit(b).is_some(),
            "a closed connection frees its place"
        );
    }
}
