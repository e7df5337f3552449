//! Memory bounded by the input: a 512 KiB `id:` carried by 2,000 events costs about
//! 512 KiB, because the events share one copy of it. Alone in its test binary (its own
//! process), so that the peak RSS (`VmHWM`) is this scenario's.

use std::io::Read;

/// The peak resident set of this process, in KiB (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Hands out the input in 4 KiB reads, as a socket would, without holding a second copy.
struct Wire {
    id_left: usize,
    events_left: usize,
    head: bool,
}

impl Read for Wire {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let len = buf.len().min(4096);
        let buf = &mut buf[..len];
        let mut n = 0;
        if self.head {
            buf[..4].copy_from_slice(b"id: ");
            (self.head, n) = (false, 4);
        }
        while n < buf.len() && self.id_left > 0 {
            buf[n] = if self.id_left == 1 { b'\n' } else { b'x' };
            (self.id_left, n) = (self.id_left - 1, n + 1);
        }
        const EVENT: &[u8] = b"data: a\n\n";
        while self.id_left == 0 && self.events_left > 0 && buf.len() - n >= EVENT.len() {
            buf[n..n + EVENT.len()].copy_from_slice(EVENT);
            (self.events_left, n) = (self.events_left - 1, n + EVENT.len());
        }
        Ok(n)
    }
}

#[test]
fn two_thousand_events_carrying_a_512_kib_id_stay_under_64_mib() {
    let Some(before) = peak_rss_kib() else {
        eprintln!("no /proc/self/status: skipped (Linux only)");
        return;
    };
    let wire = Wire {
        id_left: (512 << 10) + 1,
        events_left: 2000,
        head: true,
    };
    let events: Vec<_> = sse_pump::decode_reader(wire)
        .collect::<Result<_, _>>()
        .expect("no error: the ID is kept");
    assert_eq!(events.len(), 2000);
    assert!(events.iter().all(|e| e.id.len() == 512 << 10));
    let peak = peak_rss_kib().unwrap();
    // One copy per event would be 1 GiB.
    assert!(
        peak < 64 << 10,
        "peak RSS {peak} KiB (before: {before} KiB)"
    );
    let carried: usize = events.iter().map(|e| e.id.len()).sum();
    assert_eq!(
        carried,
        2000 * (512 << 10),
        "each event carries the whole ID"
    );
}
