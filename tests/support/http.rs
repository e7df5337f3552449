//! HTTP/1.1 over loopback with hyper, on whichever runtime the caller runs in: tokio if
//! there is one, else smol (through `sse_pump::FuturesIo`).

use std::{convert::Infallible, future::Future, net::SocketAddr, pin::Pin};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Empty;
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use sse_pump::FuturesIo;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A connection hyper can use.
pub trait Io: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static {}
impl<T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static> Io for T {}

fn on_tokio() -> bool {
    tokio::runtime::Handle::try_current().is_ok()
}

/// A listener on 127.0.0.1, port chosen by the system.
pub enum Listener {
    Tokio(tokio::net::TcpListener),
    Smol(smol::net::TcpListener),
}

impl Listener {
    pub async fn bind() -> Self {
        let addr = "127.0.0.1:0";
        if on_tokio() {
            Listener::Tokio(tokio::net::TcpListener::bind(addr).await.unwrap())
        } else {
            Listener::Smol(smol::net::TcpListener::bind(addr).await.unwrap())
        }
    }

    pub fn addr(&self) -> SocketAddr {
        match self {
            Listener::Tokio(l) => l.local_addr().unwrap(),
            Listener::Smol(l) => l.local_addr().unwrap(),
        }
    }

    /// Accepts a connection, first handing its socket to `tap` (to set socket options).
    pub async fn accept_with(&self, tap: impl FnOnce(std::os::fd::BorrowedFd<'_>)) -> Box<dyn Io> {
        use std::os::fd::AsFd;
        match self {
            Listener::Tokio(l) => {
                let stream = l.accept().await.unwrap().0;
                tap(stream.as_fd());
                Box::new(TokioIo::new(stream))
            }
            Listener::Smol(l) => {
                let stream = l.accept().await.unwrap().0;
                tap(stream.as_fd());
                Box::new(FuturesIo::new(stream))
            }
        }
    }

    pub async fn accept(&self) -> Box<dyn Io> {
        match self {
            Listener::Tokio(l) => Box::new(TokioIo::new(l.accept().await.unwrap().0)),
            Listener::Smol(l) => Box::new(FuturesIo::new(l.accept().await.unwrap().0)),
        }
    }
}

/// A client connection to `addr`.
pub async fn connect(addr: SocketAddr) -> Box<dyn Io> {
    if on_tokio() {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        Box::new(TokioIo::new(stream))
    } else {
        let stream = smol::net::TcpStream::connect(addr).await.unwrap();
        Box::new(FuturesIo::new(stream))
    }
}

/// Sends `request` on a new connection to `addr`; the connection lives in a task.
pub async fn fetch(addr: SocketAddr, request: Request<()>) -> Result<Response<Incoming>, BoxError> {
    let (mut sender, conn) = hyper::client::conn::http1::handshake(connect(addr).await).await?;
    super::detach(async move {
        let _ = conn.await;
    });
    let request = request.map(|()| Empty::<Bytes>::new());
    Ok(sender.send_request(request).await?)
}

/// Serves one connection with `handler`, in a task; the returned future says how the
/// connection ended (on smol, dropping it ends the connection).
pub fn serve<B, F>(
    io: impl Io,
    handler: F,
) -> Pin<Box<dyn Future<Output = Result<(), hyper::Error>> + Send>>
where
    F: Fn(Request<Incoming>) -> Response<B> + Send + Sync + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let service = service_fn(move |request| {
        let response = handler(request);
        async move { Ok::<_, Infallible>(response) }
    });
    super::spawn(http1::Builder::new().serve_connection(io, service))
}
