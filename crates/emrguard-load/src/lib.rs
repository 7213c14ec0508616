//! Snapshot loading: every file kind of the contract's input table (`shared/spec/README.md`),
//! recognised by content, into [`emrguard_model::Snapshot`].
//!
//! Input is hostile. Files are size-bounded (also after gzip), JSON and YAML nesting is bounded,
//! YAML alias expansion is bounded, and nothing on the input path can panic. A malformed file
//! (or a malformed object inside a good file) becomes a [`LoadError`] naming the file and the
//! place in it; everything else still loads.

mod dispatch;
mod lines;
mod read;
mod usage;
mod userdata;
mod yaml;

pub use read::Limits;
pub use userdata::{decode_user_data, parse_user_data_text};

use emrguard_model::Snapshot;
use rayon::prelude::*;
use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What one file was recognised as (the `inputs` of the JSON output).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct InputRecord {
    pub file: String,
    pub recognised_as: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objects: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// A file, or a part of one, that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct LoadError {
    pub file: String,
    /// `line 3, column 7`, or a JSON pointer such as `/RoleDetailList/4`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(l) => write!(f, "{} ({l}): {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

#[derive(Debug, Default)]
pub struct LoadResult {
    pub snapshot: Snapshot,
    pub inputs: Vec<InputRecord>,
    pub errors: Vec<LoadError>,
}

impl LoadResult {
    /// True when at least one file contributed something (recognised, even if partly broken).
    pub fn anything_read(&self) -> bool {
        self.inputs
            .iter()
            .any(|i| i.objects.unwrap_or(0) > 0 || i.warning.is_none())
    }
}

/// The outcome of one file.
#[derive(Debug, Default)]
pub(crate) struct FileOutcome {
    pub snapshot: Snapshot,
    pub input: Option<InputRecord>,
    pub errors: Vec<LoadError>,
}

/// Expand directories (recursively, in sorted order, skipping hidden entries) into files.
pub fn collect_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<LoadError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                let walker = walkdir::WalkDir::new(p)
                    .follow_links(true)
                    .sort_by_file_name()
                    .into_iter();
                for entry in walker.filter_entry(|e| {
                    e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.')
                }) {
                    match entry {
                        Ok(e) if e.file_type().is_file() => files.push(e.into_path()),
                        Ok(_) => {}
                        Err(e) => errors.push(LoadError {
                            file: e
                                .path()
                                .map(|p| p.display().to_string())
                                .unwrap_or_else(|| p.display().to_string()),
                            location: None,
                            message: format!("cannot read directory entry: {e}"),
                        }),
                    }
                }
            }
            Ok(_) => files.push(p.clone()),
            Err(e) => errors.push(LoadError {
                file: p.display().to_string(),
                location: None,
                message: format!("cannot read: {e}"),
            }),
        }
    }
    files.sort();
    files.dedup();
    (files, errors)
}

/// Load every file under `paths` (files and directories) with default limits.
pub fn load_paths(paths: &[PathBuf]) -> LoadResult {
    load_paths_with(paths, &Limits::default())
}

pub fn load_paths_with(paths: &[PathBuf], limits: &Limits) -> LoadResult {
    let (files, mut errors) = collect_files(paths);
    let outcomes: Vec<FileOutcome> = files.par_iter().map(|f| load_file(f, limits)).collect();
    let mut result = LoadResult::default();
    for o in outcomes {
        result.snapshot.extend(o.snapshot);
        result.inputs.extend(o.input);
        errors.extend(o.errors);
    }
    result.snapshot.finalize();
    result.inputs.sort();
    errors.sort();
    result.errors = errors;
    result
}

thread_local! {
    /// Per-thread read and gunzip buffers, reused across files (see `read::read_file_into`).
    static BUFFERS: std::cell::RefCell<(Vec<u8>, Vec<u8>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// Load one file. Never panics; problems are in the outcome's errors.
pub(crate) fn load_file(path: &Path, limits: &Limits) -> FileOutcome {
    let name: Arc<str> = Arc::from(path.display().to_string());
    BUFFERS.with(|cell| {
        let Ok(mut bufs) = cell.try_borrow_mut() else {
            let mut raw = Vec::new();
            let mut unz = Vec::new();
            return load_with(name, path, limits, &mut raw, &mut unz);
        };
        let (raw, unz) = &mut *bufs;
        let out = load_with(name, path, limits, raw, unz);
        // Do not keep more than 64 MiB per thread between files.
        for b in [raw, unz] {
            if b.capacity() > 64 << 20 {
                *b = Vec::new();
            }
        }
        out
    })
}

fn load_with(
    name: Arc<str>,
    path: &Path,
    limits: &Limits,
    raw: &mut Vec<u8>,
    unz: &mut Vec<u8>,
) -> FileOutcome {
    if let Err(msg) = read::read_file_into(path, limits, raw) {
        return FileOutcome {
            snapshot: Snapshot::default(),
            input: Some(InputRecord {
                file: name.to_string(),
                recognised_as: "unreadable".into(),
                objects: Some(0),
                warning: Some(msg.clone()),
            }),
            errors: vec![LoadError {
                file: name.to_string(),
                location: None,
                message: msg,
            }],
        };
    }
    load_slice(name, path, raw, unz, limits)
}

/// Load a file's content given in memory (gzip allowed). `file` names it in locations and is
/// used for the name-based kinds (`Dockerfile*`, `*.iptables`).
pub fn load_bytes_public(
    file: &str,
    bytes: Vec<u8>,
) -> (Snapshot, Option<InputRecord>, Vec<LoadError>) {
    let mut unz = Vec::new();
    let o = load_slice(
        Arc::from(file),
        Path::new(file),
        &bytes,
        &mut unz,
        &Limits::default(),
    );
    (o.snapshot, o.input, o.errors)
}

fn load_slice(
    name: Arc<str>,
    path: &Path,
    bytes: &[u8],
    unz: &mut Vec<u8>,
    limits: &Limits,
) -> FileOutcome {
    let content: &[u8] = if read::is_gzip(bytes) {
        if let Err(msg) = read::gunzip_into(bytes, limits, unz) {
            return FileOutcome::error(&name, "gzip", None, msg);
        }
        unz
    } else {
        bytes
    };
    let text = match std::str::from_utf8(content) {
        Ok(t) => t,
        Err(e) => {
            let (line, col) = lines::line_col(content, e.valid_up_to());
            return FileOutcome::skipped(
                &name,
                "binary or non-UTF-8 content",
                Some(format!("line {line}, column {col}")),
            );
        }
    };
    dispatch::load_text(name, path, text, limits)
}

impl FileOutcome {
    pub(crate) fn error(
        name: &str,
        kind: &str,
        location: Option<String>,
        message: String,
    ) -> FileOutcome {
        FileOutcome {
            snapshot: Snapshot::default(),
            input: Some(InputRecord {
                file: name.to_owned(),
                recognised_as: kind.to_owned(),
                objects: Some(0),
                warning: Some(message.clone()),
            }),
            errors: vec![LoadError {
                file: name.to_owned(),
                location,
                message,
            }],
        }
    }

    pub(crate) fn skipped(name: &str, why: &str, location: Option<String>) -> FileOutcome {
        let warning = match location {
            Some(l) => format!("skipped: {why} ({l})"),
            None => format!("skipped: {why}"),
        };
        FileOutcome {
            snapshot: Snapshot::default(),
            input: Some(InputRecord {
                file: name.to_owned(),
                recognised_as: "unknown".into(),
                objects: Some(0),
                warning: Some(warning),
            }),
            errors: Vec::new(),
        }
    }
}
