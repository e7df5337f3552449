//! actix-web 4 serving the demo's counter at `GET /events`, through `Sse::into_stream()`:
//! keep-alive pings, a send timeout, resume by `Last-Event-ID`.
//!
//! ```text
//! cargo run -p sse-pump-frameworks --bin actix
//! curl -N http://127.0.0.1:8000/events
//! ```
//!
//! `SSE_ADDR` sets the address; the other settings are in the package's documentation.

use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use sse_pump::{channel, Sse};
use sse_pump_frameworks::{counter, first_id, limit, say, Settings};

async fn events(request: HttpRequest, settings: web::Data<Settings>) -> HttpResponse {
    let last_event_id = request.headers().get("last-event-id");
    let first = first_id(last_event_id.map(|id| id.as_bytes()));
    let (tx, rx) = channel(16);
    let frames = Sse::new(rx)
        .keep_alive(settings.keep_alive.clone())
        .send_timeout(settings.send_timeout)
        .retry(Duration::from_secs(1))
        .into_stream();
    // The producer runs on the worker's runtime; it stops when the stream is dropped.
    let limit = limit(request.query_string());
    actix_web::rt::spawn(counter(tx, first, limit, settings.tick, frames.report()));
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-store"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(frames)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let settings = web::Data::new(Settings::from_env()?);
    let addr = settings.addr.clone();
    let app = move || {
        let events = web::get().to(events);
        App::new()
            .app_data(settings.clone())
            .route("/events", events)
    };
    let server = HttpServer::new(app).bind(addr)?;
    say(format_args!("listening on http://{}/", server.addrs()[0]));
    server.run().await
}
