//! The demo over HTTPS, HTTP/2 and HTTP/1.1 on one port, with compression: hyper-util's
//! auto builder behind rustls (the `ring` provider), a self-signed certificate made at
//! start with rcgen unless files are given.
//!
//! ```text
//! cargo run --example https --features hyper,tokio,json,compression
//! curl -k --compressed -N https://127.0.0.1:8443/events
//! ```
//!
//! Open https://127.0.0.1:8443/ (accept the self-signed certificate), or
//! https://127.0.0.1:8443/many?n=12 for twelve `EventSource`s on one page: over HTTP/2
//! they share one connection; over HTTP/1.1 a browser opens at most six connections per
//! origin, so the other six wait.
//!
//! Environment:
//! - `SSE_HTTPS_ADDR` (default `127.0.0.1:8443`; `127.0.0.1:0` picks a free port). The first
//!   line on stdout is `listening on https://ADDR/`.
//! - `SSE_TLS_CERT` and `SSE_TLS_KEY`: PEM files of the certificate chain and its key;
//!   without them a self-signed certificate for `localhost` and `127.0.0.1` is made.
//! - `SSE_HTTP1_ONLY=1`: offer only `http/1.1` in ALPN and serve only HTTP/1.1.
//! - `SSE_COMPRESSION=off`: never compress (otherwise negotiated from `Accept-Encoding`).
//!
//! Routes: `/` the demo page, `/events` its stream (`?limit=N` rounds; resumes from
//! `Last-Event-ID`), `/many?n=N` a page with N streams, `/paced?run=R&count=N` a stream
//! whose event K leaves only once `/ack?run=R&n=K-1` said the client has event K-1 (the
//! test that compression holds nothing back), `/paced.html?run=R&count=N` a page that
//! acknowledges each event as it arrives. Each stream prints `stream opened: PATH (VERSION,
//! ENCODING)` and `stream ended: PATH REPORT`.

mod routes;

use std::{sync::Arc, time::Duration};

use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::conn::auto,
};
use rustls::pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
use sse_pump::WriteTimeout;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("SSE_HTTPS_ADDR").unwrap_or_else(|_| "127.0.0.1:8443".into());
    let http1_only = std::env::var("SSE_HTTP1_ONLY").is_ok_and(|v| v == "1");
    let compress = std::env::var("SSE_COMPRESSION").map_or(true, |v| v != "off");
    let acceptor = TlsAcceptor::from(Arc::new(tls_config(http1_only)?));
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on https://{}/", listener.local_addr()?);
    let app = Arc::new(routes::App::new(compress));
    loop {
        let (tcp, _) = listener.accept().await?;
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            // A client that stops reading loses its connection after 10 seconds.
            let tcp = WriteTimeout::new(tcp, Duration::from_secs(10));
            let tls = match acceptor.accept(tcp).await {
                Ok(tls) => tls,
                Err(e) => return eprintln!("TLS handshake: {e}"),
            };
            let mut builder = auto::Builder::new(TokioExecutor::new());
            if http1_only {
                builder = builder.http1_only();
            }
            let service = hyper::service::service_fn(move |request| {
                let app = app.clone();
                async move { app.handle(request).await }
            });
            let served = builder.serve_connection(TokioIo::new(tls), service);
            if let Err(e) = served.await {
                eprintln!("connection ended: {e}");
            }
        });
    }
}

/// rustls with the `ring` provider, the certificate from `SSE_TLS_CERT` / `SSE_TLS_KEY` or
/// a fresh self-signed one, and ALPN: `h2` first unless HTTP/1.1 only.
fn tls_config(http1_only: bool) -> Result<rustls::ServerConfig, Box<dyn std::error::Error>> {
    let (chain, key) = match (std::env::var("SSE_TLS_CERT"), std::env::var("SSE_TLS_KEY")) {
        (Ok(cert), Ok(key)) => (
            CertificateDer::pem_file_iter(cert)?.collect::<Result<Vec<_>, _>>()?,
            PrivateKeyDer::from_pem_file(key)?,
        ),
        _ => self_signed()?,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = match http1_only {
        true => vec![b"http/1.1".to_vec()],
        false => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
    };
    Ok(config)
}

type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// A self-signed certificate for `localhost` and `127.0.0.1`, made now.
fn self_signed() -> Result<Identity, Box<dyn std::error::Error>> {
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let certified = rcgen::generate_simple_self_signed(names)?;
    let key = PrivateKeyDer::try_from(certified.signing_key.serialize_der())?;
    Ok((vec![certified.cert.der().clone()], key))
}
