//! The hyper modes: sse-pump's body on tokio and on smol, and axum's `Sse` on the same
//! hyper connection settings.

use std::{
    convert::Infallible,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use futures_lite::StreamExt;
use http::{Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{Either, Full};
use hyper::{server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use sse_pump::{Event, FuturesIo, Sender, Source, Sse, SseResponse, WriteTimeout};

use crate::{
    capacity, pump_capacity,
    stats::{self, event_text, Live, Route},
    Args, Mode, WRITE_TIMEOUT,
};

/// A body counted in `/stats` while it exists.
struct Counted<B> {
    body: B,
    _live: Live,
}

impl<B: Body + Unpin> Body for Counted<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

type Reply<B> = Response<Either<Counted<B>, Full<Bytes>>>;

fn counted<B>(response: Response<B>) -> Reply<B> {
    response.map(|body| {
        Either::Left(Counted {
            body,
            _live: Live::new(&stats::STREAMS),
        })
    })
}

fn plain<B>(status: StatusCode, text: String) -> Reply<B> {
    let mut response = Response::new(Either::Right(Full::new(Bytes::from(text))));
    *response.status_mut() = status;
    response
}

fn builder(args: &Args) -> http1::Builder {
    let mut builder = http1::Builder::new();
    if let Some(size) = args.max_buf_size {
        builder.max_buf_size(size);
    }
    if let Some(writev) = args.writev {
        builder.writev(writev);
    }
    if let Some(half_close) = args.half_close {
        builder.half_close(half_close);
    }
    builder
}

/// The producer of `/events?n=N`: N events as fast as the channel takes them.
async fn produce(tx: Sender, n: u64, live: Live) -> Result<(), &'static str> {
    let _live = live;
    stats::produce_events(&tx, n, crate::batch()).await
}

/// The producer of `/idle`: holds its sender until the client goes away.
async fn idle(tx: Sender, live: Live) -> Result<(), &'static str> {
    let _live = live;
    tx.closed().await;
    Ok(())
}

/// The response of sse-pump's hyper adapter, its producer spawned by `spawn`.
fn sse_pump_reply<S, F>(request: &Request<hyper::body::Incoming>, spawn: F) -> Reply<SseBodyOf<S>>
where
    S: Source,
    F: FnOnce(Route) -> Option<S>,
{
    match stats::route(&request.uri().to_string()) {
        Route::Stats => plain(StatusCode::OK, stats::report()),
        route => match spawn(route) {
            Some(source) => {
                let sse = Sse::new(source).keep_alive(crate::keep_alive());
                counted(SseResponse::new(sse).version(request.version()).build())
            }
            None => plain(StatusCode::NOT_FOUND, "not found\n".into()),
        },
    }
}

type SseBodyOf<S> = sse_pump::SseBody<S>;

fn tokio_reply(
    request: Request<hyper::body::Incoming>,
) -> Reply<SseBodyOf<sse_pump::Spawned<sse_pump::adapters::tokio::Task>>> {
    use sse_pump::adapters::tokio::spawn;
    sse_pump_reply(&request, |route| {
        let live = Live::new(&stats::PRODUCERS);
        match route {
            Route::Events(n) => Some(spawn(pump_capacity(&route), move |tx| produce(tx, n, live))),
            Route::Idle => Some(spawn(pump_capacity(&route), move |tx| idle(tx, live))),
            _ => None,
        }
    })
}

fn smol_reply(
    request: Request<hyper::body::Incoming>,
) -> Reply<SseBodyOf<sse_pump::Spawned<sse_pump::adapters::smol::Task>>> {
    use sse_pump::adapters::smol::spawn;
    sse_pump_reply(&request, |route| {
        let live = Live::new(&stats::PRODUCERS);
        match route {
            Route::Events(n) => Some(spawn(pump_capacity(&route), move |tx| produce(tx, n, live))),
            Route::Idle => Some(spawn(pump_capacity(&route), move |tx| idle(tx, live))),
            _ => None,
        }
    })
}

/// axum's own `Sse` over the same kind of channel and producer task.
fn axum_reply(request: Request<hyper::body::Incoming>) -> Reply<axum::body::Body> {
    use axum::response::{
        sse::{Event as AxumEvent, KeepAlive as AxumKeepAlive, Sse as AxumSse},
        IntoResponse,
    };
    let route = stats::route(&request.uri().to_string());
    if let Route::Stats | Route::NotFound = route {
        return match route {
            Route::Stats => plain(StatusCode::OK, stats::report()),
            _ => plain(StatusCode::NOT_FOUND, "not found\n".into()),
        };
    }
    let (tx, rx) = async_channel::bounded::<AxumEvent>(capacity(&route));
    let live = Live::new(&stats::PRODUCERS);
    tokio::spawn(async move {
        let _live = live;
        match route {
            Route::Events(n) => {
                for seq in 0..n {
                    let event = AxumEvent::default().data(event_text(seq));
                    if tx.send(event).await.is_err() {
                        break;
                    }
                }
            }
            _ => tx.closed().await,
        }
    });
    let events = rx.map(Ok::<_, Infallible>);
    counted(
        AxumSse::new(events)
            .keep_alive(AxumKeepAlive::new())
            .into_response(),
    )
}

/// axum's `Sse` fed the usual way: a producer task over a tokio `mpsc` channel.
fn axum_mpsc_reply(request: Request<hyper::body::Incoming>) -> Reply<axum::body::Body> {
    use axum::response::{
        sse::{Event as AxumEvent, KeepAlive as AxumKeepAlive, Sse as AxumSse},
        IntoResponse,
    };
    let route = stats::route(&request.uri().to_string());
    let n = match route {
        Route::Events(n) => n,
        Route::Stats => return plain(StatusCode::OK, stats::report()),
        _ => return plain(StatusCode::NOT_FOUND, "not found\n".into()),
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<AxumEvent>(capacity(&route));
    let live = Live::new(&stats::PRODUCERS);
    tokio::spawn(async move {
        let _live = live;
        for seq in 0..n {
            if tx
                .send(AxumEvent::default().data(event_text(seq)))
                .await
                .is_err()
            {
                break;
            }
        }
    });
    let events = futures_lite::stream::unfold(rx, |mut rx| async move {
        let event = rx.recv().await?;
        Some((Ok::<_, Infallible>(event), rx))
    });
    counted(
        AxumSse::new(events)
            .keep_alive(AxumKeepAlive::new())
            .into_response(),
    )
}

/// sse-pump's body fed by an iterator: the same events with no task and no channel.
fn iter_reply(request: Request<hyper::body::Incoming>) -> Reply<SseBodyOf<impl Source>> {
    let route = stats::route(&request.uri().to_string());
    let n = match route {
        Route::Events(n) => n,
        Route::Stats => return plain(StatusCode::OK, stats::report()),
        _ => return plain(StatusCode::NOT_FOUND, "not found\n".into()),
    };
    let events = futures_lite::stream::iter(0..n).map(|seq| Event::new().data(event_text(seq)));
    let sse = Sse::from_stream(events).keep_alive(crate::keep_alive());
    counted(SseResponse::new(sse).version(request.version()).build())
}

pub async fn serve_tokio(listener: tokio::net::TcpListener, args: &Args) -> std::io::Result<()> {
    let builder = builder(args);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let conn = Live::new(&stats::CONNS);
        let io = WriteTimeout::new(TokioIo::new(stream), WRITE_TIMEOUT);
        macro_rules! serve {
            ($reply:expr) => {{
                let service = service_fn(|r| async move { Ok::<_, Infallible>($reply(r)) });
                let serving = builder.serve_connection(io, service);
                tokio::spawn(async move {
                    let _conn = conn;
                    let _ = serving.await;
                });
            }};
        }
        match args.mode {
            Mode::AxumSse => serve!(axum_reply),
            Mode::AxumMpsc => serve!(axum_mpsc_reply),
            Mode::HyperIter => serve!(iter_reply),
            _ => serve!(tokio_reply),
        }
    }
}

pub async fn serve_smol(listener: smol::net::TcpListener, args: &Args) -> std::io::Result<()> {
    let builder = builder(args);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let conn = Live::new(&stats::CONNS);
        let io = WriteTimeout::new(FuturesIo::new(stream), WRITE_TIMEOUT);
        let service = service_fn(|r| async move { Ok::<_, Infallible>(smol_reply(r)) });
        let serving = builder.serve_connection(io, service);
        smol::spawn(async move {
            let _conn = conn;
            let _ = serving.await;
        })
        .detach();
    }
}
