//! Where the line breaks (CR, LF) are in 16 bytes: shared by the encoder, which splits
//! values into lines, and the decoder, which finds line ends.

use wide::u8x16;

/// One bit per byte of `bytes` (bit `i` for byte `i`), set for a CR or LF.
///
/// SSE2 compares and `pmovmskb` on x86-64, through `wide`, which also has a portable
/// version for other targets; LLVM does not find these instructions in the equivalent
/// byte loop (perf on `benches/encode.rs` mix c).
#[inline(always)]
pub(crate) fn mask16(bytes: [u8; 16]) -> u16 {
    let bytes = u8x16::new(bytes);
    let breaks = bytes.cmp_eq(u8x16::splat(b'\n')) | bytes.cmp_eq(u8x16::splat(b'\r'));
    breaks.move_mask() as u16
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_cr_and_lf_sets_its_bit_and_nothing_else_does() {
        for at in 0..16 {
            for byte in 0..=u8::MAX {
                let mut bytes = [b'x'; 16];
                bytes[at] = byte;
                let expected = if byte == b'\n' || byte == b'\r' {
                    1 << at
                } else {
                    0
                };
                assert_eq!(super::mask16(bytes), expected, "byte {byte} at {at}");
            }
        }
    }
}
