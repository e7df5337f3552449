//! The raw adapter's request-head reader on arbitrary bytes in arbitrary chunks (some
//! reads not ready): never a panic, never a byte read past the head's blank line, and a
//! request only for a complete head with a request line.
#![no_main]

use std::{
    io,
    pin::Pin,
    task::{Context, Poll},
};

use futures_lite::AsyncRead;
use libfuzzer_sys::fuzz_target;
use sse_pump::{
    adapters::raw::{read_request, MAX_HEAD},
    RequestError,
};

/// Serves `bytes` in chunks of the given sizes (cycled); a size of 0 is a read that is
/// not ready yet. Counts what was taken.
struct Chunked<'a> {
    bytes: &'a [u8],
    taken: usize,
    sizes: &'a [u8],
    turn: usize,
}

impl AsyncRead for Chunked<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let size = match self.sizes {
            [] => 1,
            sizes => usize::from(sizes[self.turn % sizes.len()] % 9),
        };
        self.turn += 1;
        if size == 0 && self.turn % 64 != 0 {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let n = size.max(1).min(buf.len()).min(self.bytes.len() - self.taken);
        let start = self.taken;
        buf[..n].copy_from_slice(&self.bytes[start..start + n]);
        self.taken += n;
        Poll::Ready(Ok(n))
    }
}

fuzz_target!(|input: (Vec<u8>, Vec<u8>)| {
    let (bytes, sizes) = input;
    let mut reader = Chunked { bytes: &bytes, taken: 0, sizes: &sizes, turn: 0 };
    let outcome = futures_lite::future::block_on(read_request(&mut reader));
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n").map(|at| at + 4);
    assert!(reader.taken <= end.unwrap_or(bytes.len()), "read past the head");
    match outcome {
        Ok(request) => {
            assert_eq!(Some(reader.taken), end, "a request ends at the blank line");
            assert!(!request.method().is_empty() && !request.path().is_empty());
        }
        Err(RequestError::Closed) => assert_eq!(reader.taken, bytes.len()),
        Err(RequestError::TooLarge) => assert_eq!(reader.taken, MAX_HEAD),
        Err(RequestError::Timeout(_)) => panic!("a reader that is always ready timed out"),
        Err(_) => assert_eq!(Some(reader.taken), end),
    }
});
