//! Nothing: this package only holds the benchmarks (`cargo bench -p sse-pump-benches`).
