//! A producer task's panic, as the error message the stream's report carries.

use crate::deliver::SourceError;

/// A producer's panic as its error: `producer panicked: <the payload's text>`.
pub(super) fn panicked(payload: &(dyn std::any::Any + Send)) -> SourceError {
    let text = (payload.downcast_ref::<&str>().copied())
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    SourceError::new(format!("producer panicked: {text}"))
}
