//! The one delivery machine that every transport drives: [`Frames`] turns a source and
//! its settings into ready-to-write frames; the pump writes them into an `AsyncWrite`, the
//! HTTP body hands them to the server.

mod frames;
mod gather;

pub(crate) use self::frames::Frames;
