//! Loading with a progress bar. Files are loaded in chunks (each chunk in parallel) so that
//! progress can be shown between them; the merged snapshot is the same as a single load
//! (`Snapshot::finalize` is order-independent and idempotent, see the test below).

use emrguard_load::{LoadError, LoadResult};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::PathBuf;
use std::time::Duration;

/// Files per chunk: large enough to keep every core busy, small enough to move the bar.
pub const CHUNK: usize = 256;

/// A snapshot this large (files or bytes) gets a progress bar when standard error is a
/// terminal.
pub const LARGE_FILES: usize = 200;
pub const LARGE_BYTES: u64 = 64 << 20;

/// True when the files under `files` make a large snapshot.
pub fn is_large(files: &[PathBuf]) -> bool {
    if files.len() >= LARGE_FILES {
        return true;
    }
    let bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    bytes >= LARGE_BYTES
}

/// A bar on standard error, or a hidden one.
pub fn bar(show: bool, len: usize) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(
        Some(u64::try_from(len).unwrap_or(u64::MAX)),
        ProgressDrawTarget::stderr(),
    );
    let style = ProgressStyle::with_template(
        "{spinner} {msg:<12} [{bar:30}] {pos}/{len} files ({elapsed})",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    pb.set_style(style);
    pb.set_message("loading");
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// A spinner with a message on standard error, or a hidden one.
pub fn spinner(show: bool, msg: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        pb.set_style(style);
    }
    pb.set_message(msg.to_owned());
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// Load `files` (already expanded by `collect_files`) in chunks of `chunk`, advancing `pb`.
pub fn load_files(
    files: &[PathBuf],
    mut errors: Vec<LoadError>,
    chunk: usize,
    pb: &ProgressBar,
) -> LoadResult {
    let mut result = LoadResult::default();
    for part in files.chunks(chunk.max(1)) {
        let r = emrguard_load::load_paths(part);
        result.snapshot.extend(r.snapshot);
        result.inputs.extend(r.inputs);
        errors.extend(r.errors);
        pb.inc(u64::try_from(part.len()).unwrap_or(0));
    }
    result.snapshot.finalize();
    result.inputs.sort();
    errors.sort();
    result.errors = errors;
    result
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn chunked_loading_is_the_same_as_one_load() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples");
        for estate in ["insecure-estate", "hardened-estate"] {
            let paths = vec![root.join(estate)];
            let whole = emrguard_load::load_paths(&paths);
            let (files, errors) = emrguard_load::collect_files(&paths);
            assert!(files.len() > 20);
            for chunk in [1, 7, CHUNK] {
                let parts = load_files(&files, errors.clone(), chunk, &ProgressBar::hidden());
                assert_eq!(
                    format!("{:?}", parts.snapshot),
                    format!("{:?}", whole.snapshot),
                    "{estate}, chunks of {chunk}"
                );
                assert_eq!(parts.inputs, whole.inputs);
                assert_eq!(parts.errors, whole.errors);
            }
        }
    }
}
