//! Which content coding a response uses: negotiated from the request's `Accept-Encoding`.

use std::fmt;

use http::{header, HeaderMap};

/// A content coding for an SSE response: what [`SseResponse::compress`] compresses with,
/// chosen from the request's `Accept-Encoding` by [`Encoding::negotiate`].
///
/// [`SseResponse::compress`]: crate::SseResponse::compress
///
/// # Examples
///
/// ```
/// use http::{header::ACCEPT_ENCODING, HeaderMap, HeaderValue};
/// use sse_pump::Encoding;
///
/// let mut request = HeaderMap::new();
/// request.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip, br;q=0.5"));
/// assert_eq!(Encoding::negotiate(&request), Encoding::Gzip);
/// assert_eq!(Encoding::Gzip.as_str(), "gzip");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Encoding {
    /// No compression: the events as they are.
    Identity,
    /// `gzip` (DEFLATE, a small-window encoder of our own): understood by every client.
    Gzip,
    /// `br` (Brotli): every current browser, over HTTPS.
    Brotli,
    /// `zstd` (Zstandard): Chromium since version 123 and Firefox since 126, over HTTPS.
    Zstd,
}

impl Encoding {
    /// What [`Encoding::negotiate`] offers: `[Gzip]`. On a live stream, every frame flushed
    /// alone, our gzip (a small-window DEFLATE of our own) sends the fewest bytes for the
    /// least CPU and memory: about 22 KiB per warm stream, within the 32 KiB a compressed
    /// stream may cost. zstd (about 80 KiB with its 16 KiB window; libzstd's streaming
    /// context alone is about 36 KiB) and Brotli (300 to 700 KiB: no setting is both small
    /// and compressing across flushed frames) cost more, so they are not offered by
    /// default; every client that accepts them accepts `gzip` too. Pass them to
    /// [`Encoding::negotiate_among`] to offer them anyway. See
    /// `benches/compression-results.md`.
    pub const OFFERED: [Encoding; 1] = [Encoding::Gzip];

    /// The coding the client prefers among [`Encoding::OFFERED`], from the request's
    /// `Accept-Encoding` headers: the one with the highest `q` (a `*` stands for any coding
    /// not named), ties going to the earlier in `OFFERED`. [`Encoding::Identity`] when the
    /// client accepts none of them (no header, `q=0`, or only codings we do not offer).
    ///
    /// # Examples
    ///
    /// ```
    /// use http::{header::ACCEPT_ENCODING, HeaderMap, HeaderValue};
    /// use sse_pump::Encoding;
    ///
    /// let accept = |value: &'static str| {
    ///     let mut headers = HeaderMap::new();
    ///     headers.insert(ACCEPT_ENCODING, HeaderValue::from_static(value));
    ///     Encoding::negotiate(&headers)
    /// };
    /// assert_eq!(accept("gzip, deflate, br, zstd"), Encoding::Gzip);
    /// assert_eq!(accept("gzip;q=0.5, zstd;q=0.8"), Encoding::Gzip);
    /// assert_eq!(accept("deflate, br, zstd"), Encoding::Identity);
    /// assert_eq!(accept("*;q=0.5"), Encoding::Gzip);
    /// assert_eq!(accept("*;q=0.5, gzip;q=0"), Encoding::Identity);
    /// assert_eq!(accept("deflate"), Encoding::Identity);
    /// assert_eq!(Encoding::negotiate(&HeaderMap::new()), Encoding::Identity);
    /// ```
    pub fn negotiate(request_headers: &HeaderMap) -> Encoding {
        Encoding::negotiate_among(request_headers, &Encoding::OFFERED)
    }

    /// [`Encoding::negotiate`] among `offered` (best first) instead of
    /// [`Encoding::OFFERED`]: to offer zstd or Brotli too, at their cost in memory.
    ///
    /// # Examples
    ///
    /// ```
    /// use http::{header::ACCEPT_ENCODING, HeaderMap, HeaderValue};
    /// use sse_pump::Encoding;
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip, br, zstd"));
    /// assert_eq!(Encoding::negotiate_among(&headers, &[Encoding::Gzip]), Encoding::Gzip);
    /// let with_br = [Encoding::Brotli, Encoding::Gzip];
    /// assert_eq!(Encoding::negotiate_among(&headers, &with_br), Encoding::Brotli);
    /// headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip;q=0.5, zstd"));
    /// let with_zstd = [Encoding::Gzip, Encoding::Zstd];
    /// assert_eq!(Encoding::negotiate_among(&headers, &with_zstd), Encoding::Zstd);
    /// ```
    pub fn negotiate_among(request_headers: &HeaderMap, offered: &[Encoding]) -> Encoding {
        let values = request_headers.get_all(header::ACCEPT_ENCODING);
        Encoding::negotiate_values(values.iter().map(|value| value.as_bytes()), offered)
    }

    /// [`Encoding::negotiate_among`] on the raw values of the `Accept-Encoding` headers:
    /// for a request read without the `http` crate's types.
    pub(crate) fn negotiate_values<'a>(
        values: impl Iterator<Item = &'a [u8]>,
        offered: &[Encoding],
    ) -> Encoding {
        let accepts: Vec<(&str, u16)> = values
            .filter_map(|value| std::str::from_utf8(value).ok())
            .flat_map(|value| value.split(','))
            .filter_map(parse_coding)
            .collect();
        let mut best = (Encoding::Identity, 0);
        for &offer in offered.iter().filter(|&&e| e != Encoding::Identity) {
            let q = quality(&accepts, offer);
            if q > best.1 {
                best = (offer, q);
            }
        }
        best.0
    }

    /// The token for `Content-Encoding`: `identity`, `gzip`, `br` or `zstd`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sse_pump::Encoding::Brotli.as_str(), "br");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Identity => "identity",
            Encoding::Gzip => "gzip",
            Encoding::Brotli => "br",
            Encoding::Zstd => "zstd",
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `q` the client gives `encoding`, in thousandths: its own entry's, else `*`'s, else 0.
fn quality(accepts: &[(&str, u16)], encoding: Encoding) -> u16 {
    let named = |token: &str| match encoding {
        Encoding::Gzip => {
            token.eq_ignore_ascii_case("gzip") || token.eq_ignore_ascii_case("x-gzip")
        }
        _ => token.eq_ignore_ascii_case(encoding.as_str()),
    };
    let find = |wanted: &dyn Fn(&str) -> bool| {
        accepts
            .iter()
            .filter(|(token, _)| wanted(token))
            .map(|&(_, q)| q)
            .max()
    };
    find(&named).or_else(|| find(&|t| t == "*")).unwrap_or(0)
}

/// One `coding;q=0.5` element: the coding and its `q` in thousandths (1000 when absent).
/// `None` for an empty element or a malformed `q`, which the client did not mean.
fn parse_coding(element: &str) -> Option<(&str, u16)> {
    let mut parts = element.split(';');
    let coding = parts.next()?.trim();
    if coding.is_empty() {
        return None;
    }
    let mut q = 1000;
    for param in parts {
        let Some((name, value)) = param.split_once('=') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("q") {
            q = parse_q(value.trim())?;
        }
    }
    Some((coding, q))
}

/// A `qvalue` (RFC 9110 12.4.2: `0`, `1`, up to three decimals) in thousandths.
fn parse_q(value: &str) -> Option<u16> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    let digits_ok = fraction.len() <= 3 && fraction.bytes().all(|b| b.is_ascii_digit());
    let thousandths = match whole {
        "0" if digits_ok => format!("{fraction:0<3}").parse::<u16>().ok()?,
        "1" if fraction.bytes().all(|b| b == b'0') && fraction.len() <= 3 => 1000,
        _ => return None,
    };
    Some(thousandths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q_values_parse_as_rfc_9110_says() {
        assert_eq!(parse_q("1"), Some(1000));
        assert_eq!(parse_q("1.000"), Some(1000));
        assert_eq!(parse_q("0.5"), Some(500));
        assert_eq!(parse_q("0.05"), Some(50));
        assert_eq!(parse_q("0"), Some(0));
        assert_eq!(parse_q("1.5"), None);
        assert_eq!(parse_q("0.0001"), None);
        assert_eq!(parse_q("abc"), None);
        assert_eq!(parse_coding(" gzip ; q=0.25"), Some(("gzip", 250)));
        assert_eq!(parse_coding("br;level=3"), Some(("br", 1000)));
        assert_eq!(parse_coding(" "), None);
    }
}
