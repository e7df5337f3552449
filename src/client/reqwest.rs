//! A ready-made [`Fetch`] over a `reqwest::Client` (feature `reqwest`).

use std::{future::Future, pin::Pin};

use crate::client::Fetch;

/// A [`Fetch`] that sends with a `reqwest::Client`, for [`EventSource`](crate::client::EventSource)
/// and the one-shot [`post`](crate::client::post) / [`request`](crate::client::request).
/// The request body is any `Into<reqwest::Body>` (`Bytes`, `String`, `Vec<u8>`); the
/// response body is `reqwest::Body`. reqwest's own timeouts, TLS and proxies apply.
///
/// # Examples
///
/// ```no_run
/// use futures_lite::StreamExt;
/// # #[allow(dead_code)]
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let fetch = sse_pump::client::reqwest::Reqwest::new(reqwest::Client::new());
/// let mut events = sse_pump::client::post(&fetch, "http://127.0.0.1:8000/v1/chat")
///     .bearer_auth("sk-test")
///     .body(r#"{"stream":true}"#)
///     .send()
///     .await?;
/// while let Some(event) = events.next().await {
///     println!("{}", event?.data);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Reqwest {
    client: reqwest::Client,
}

impl Reqwest {
    /// Sends with `client` (a `reqwest::Client` is cheap to clone: share one).
    ///
    /// # Examples
    ///
    /// ```
    /// let fetch = sse_pump::client::reqwest::Reqwest::new(reqwest::Client::new());
    /// # drop(fetch);
    /// ```
    pub fn new(client: reqwest::Client) -> Self {
        Reqwest { client }
    }
}

/// The response future of [`Reqwest`].
type Pending =
    Pin<Box<dyn Future<Output = Result<http::Response<reqwest::Body>, reqwest::Error>> + Send>>;

impl<Q: Into<reqwest::Body>> Fetch<Q> for Reqwest {
    type Body = reqwest::Body;
    type Error = reqwest::Error;
    type Future = Pending;

    fn fetch(&mut self, request: http::Request<Q>) -> Pending {
        <&Reqwest as Fetch<Q>>::fetch(&mut &*self, request)
    }
}

impl<Q: Into<reqwest::Body>> Fetch<Q> for &Reqwest {
    type Body = reqwest::Body;
    type Error = reqwest::Error;
    type Future = Pending;

    fn fetch(&mut self, request: http::Request<Q>) -> Pending {
        let client = self.client.clone();
        // Converted here: the request body type need not be `Send`.
        let request = reqwest::Request::try_from(request);
        Box::pin(async move {
            let response = client.execute(request?).await?;
            Ok(http::Response::from(response))
        })
    }
}
