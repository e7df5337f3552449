//! A ready-made [`Fetch`] over a `reqwest::Client` (feature `reqwest`).

use std::{future::Future, pin::Pin};

use crate::client::Fetch;

/// A [`Fetch`] that sends with a `reqwest::Client`, for [`EventSource`](crate::client::EventSource)
/// and the one-shot [`post`](crate::client::post) / [`request`](crate::client::request).
/// The request body is `()` (a `GET`), `Bytes`, `String`, `Vec<u8>`, `&'static str` or a
/// `reqwest::Body` (see [`RequestBody`]); the response body is `reqwest::Body`.
/// reqwest's own timeouts, TLS and proxies apply.
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

/// A request body [`Reqwest`] can send. Sealed: implemented for `()` (no body), `Bytes`,
/// `String`, `Vec<u8>`, `&'static str` and `reqwest::Body`.
///
/// # Examples
///
/// ```
/// fn sendable<Q: sse_pump::client::reqwest::RequestBody>() {}
/// sendable::<()>();
/// sendable::<bytes::Bytes>();
/// ```
pub trait RequestBody: sealed::Sealed {
    /// The body as reqwest's.
    fn into_body(self) -> reqwest::Body;
}

mod sealed {
    pub trait Sealed {}
}

impl sealed::Sealed for () {}
impl RequestBody for () {
    fn into_body(self) -> reqwest::Body {
        reqwest::Body::from(bytes::Bytes::new())
    }
}

macro_rules! into_body {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl RequestBody for $t {
            fn into_body(self) -> reqwest::Body {
                reqwest::Body::from(self)
            }
        }
    )*};
}
into_body!(bytes::Bytes, String, Vec<u8>, &'static str, reqwest::Body);

impl<Q: RequestBody> Fetch<Q> for Reqwest {
    type Body = reqwest::Body;
    type Error = reqwest::Error;
    type Future = Pending;

    fn fetch(&mut self, request: http::Request<Q>) -> Pending {
        <&Reqwest as Fetch<Q>>::fetch(&mut &*self, request)
    }
}

impl<Q: RequestBody> Fetch<Q> for &Reqwest {
    type Body = reqwest::Body;
    type Error = reqwest::Error;
    type Future = Pending;

    fn fetch(&mut self, request: http::Request<Q>) -> Pending {
        let client = self.client.clone();
        // Converted here: the request body type need not be `Send`.
        let request = reqwest::Request::try_from(request.map(RequestBody::into_body));
        Box::pin(async move {
            let response = client.execute(request?).await?;
            Ok(http::Response::from(response))
        })
    }
}
