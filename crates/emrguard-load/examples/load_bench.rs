//! Load a snapshot and print throughput: `cargo run --release -p emrguard-load --example
//! load_bench -- DIR`. Peak memory is measured from outside (`/usr/bin/time -v`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use std::time::Instant;

fn main() {
    let paths: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    let (files, _) = emrguard_load::collect_files(&paths);
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    let t = Instant::now();
    let r = emrguard_load::load_paths(&paths);
    let secs = t.elapsed().as_secs_f64();
    let threads = rayon::current_num_threads();
    let mb = bytes as f64 / 1e6;
    println!(
        "loaded {mb:.1} MB in {} files: {} objects, {} errors in {secs:.2} s = {:.0} MB/s ({:.0} MB/s per thread, {threads} threads)",
        files.len(),
        r.inputs.iter().filter_map(|i| i.objects).sum::<usize>(),
        r.errors.len(),
        mb / secs,
        mb / secs / threads as f64
    );
}
