//! One trigger that ends many streams.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    task::{ready, Context, Poll},
};

#[derive(Default)]
struct Inner {
    triggered: AtomicBool,
    event: event_listener::Event,
}

/// A shutdown switch: every stream given one of its [`listener`](Shutdown::listener)s ends
/// when it is [`trigger`](Shutdown::trigger)ed, after writing its farewell event if it has one.
///
/// It is a plain value with no global state: two servers, runtimes or tests in one process
/// each make their own. Dropping it does not trigger it.
///
/// # Examples
///
/// ```
/// use sse_pump::{channel, Ended, Event, Shutdown, Sse};
/// # futures_lite::future::block_on(async {
/// let shutdown = Shutdown::new();
/// let (_tx, rx) = channel(1); // a producer that would go on forever
/// let stream = Sse::new(rx)
///     .keep_alive(None)
///     .shutdown(shutdown.listener())
///     .farewell(Event::new().event("bye").data("server restarting"))
///     .pump(Vec::new());
/// shutdown.trigger();
/// let report = stream.await?;
/// assert_eq!(report.ended, Ended::Shutdown);
/// # Ok::<(), sse_pump::Error>(()) }).unwrap();
/// ```
#[derive(Clone, Default)]
pub struct Shutdown {
    inner: Arc<Inner>,
}

impl Shutdown {
    /// A switch that has not been triggered.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!sse_pump::Shutdown::new().is_triggered());
    /// ```
    pub fn new() -> Self {
        Shutdown::default()
    }

    /// A listener to hand to [`Sse::shutdown`](crate::Sse::shutdown).
    ///
    /// # Examples
    ///
    /// ```
    /// let shutdown = sse_pump::Shutdown::new();
    /// let listener = shutdown.listener();
    /// shutdown.trigger();
    /// futures_lite::future::block_on(listener.wait()); // returns at once
    /// ```
    pub fn listener(&self) -> ShutdownListener {
        ShutdownListener {
            inner: self.inner.clone(),
        }
    }

    /// Ends every stream that listens. Calling it again does nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// let shutdown = sse_pump::Shutdown::new();
    /// shutdown.trigger();
    /// assert!(shutdown.is_triggered());
    /// ```
    pub fn trigger(&self) {
        self.inner.triggered.store(true, Ordering::SeqCst);
        self.inner.event.notify(usize::MAX);
    }

    /// Whether [`trigger`](Shutdown::trigger) has been called.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!sse_pump::Shutdown::new().is_triggered());
    /// ```
    pub fn is_triggered(&self) -> bool {
        self.inner.triggered.load(Ordering::SeqCst)
    }
}

impl fmt::Debug for Shutdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shutdown")
            .field("triggered", &self.is_triggered())
            .finish()
    }
}

/// The listening end of a [`Shutdown`].
///
/// # Examples
///
/// ```
/// let shutdown = sse_pump::Shutdown::new();
/// let listener = shutdown.listener();
/// assert!(!listener.is_triggered());
/// shutdown.trigger();
/// assert!(listener.is_triggered());
/// ```
#[derive(Clone)]
pub struct ShutdownListener {
    inner: Arc<Inner>,
}

impl ShutdownListener {
    /// Whether the shutdown has been triggered.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!sse_pump::Shutdown::new().listener().is_triggered());
    /// ```
    pub fn is_triggered(&self) -> bool {
        self.inner.triggered.load(Ordering::SeqCst)
    }

    /// Waits until the shutdown is triggered.
    ///
    /// # Examples
    ///
    /// ```
    /// let shutdown = sse_pump::Shutdown::new();
    /// let listener = shutdown.listener();
    /// std::thread::spawn(move || shutdown.trigger());
    /// futures_lite::future::block_on(listener.wait());
    /// ```
    pub async fn wait(&self) {
        let mut listener = None;
        std::future::poll_fn(|cx| self.poll_triggered(&mut listener, cx)).await;
    }
}

impl ShutdownListener {
    /// Ready once triggered; `listener` keeps the registration between polls.
    pub(crate) fn poll_triggered(
        &self,
        listener: &mut Option<event_listener::EventListener>,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        loop {
            if self.is_triggered() {
                return Poll::Ready(());
            }
            match listener {
                None => *listener = Some(self.inner.event.listen()),
                Some(waiting) => {
                    ready!(Pin::new(waiting).poll(cx));
                    *listener = None;
                }
            }
        }
    }
}

impl fmt::Debug for ShutdownListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShutdownListener")
            .field("triggered", &self.is_triggered())
            .finish()
    }
}
