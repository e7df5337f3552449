//! What the benchmarks share (`cargo bench -p sse-pump-benches`): a heap counter.

use std::{
    alloc::{GlobalAlloc, Layout, System},
    sync::atomic::{AtomicUsize, Ordering},
};

/// The system allocator, counting the bytes allocated now: a benchmark installs it with
/// `#[global_allocator] static GLOBAL: Counting = Counting;` and reads [`allocated`].
pub struct Counting;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

/// Heap bytes allocated now, through [`Counting`].
pub fn allocated() -> usize {
    ALLOCATED.load(Ordering::SeqCst)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}
