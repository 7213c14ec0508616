//! Bounded reading and gunzip.

use std::io::Read;
use std::path::Path;

/// Bounds on what one file may cost.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest file, and largest decompressed content, in bytes.
    pub max_file_bytes: u64,
    /// Deepest YAML/JSON nesting accepted (serde_json's own limit is 128).
    pub max_depth: usize,
    /// Largest JSON text a YAML document may expand to (bounds alias expansion).
    pub max_yaml_expansion: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 2 << 30,
            max_depth: 128,
            max_yaml_expansion: 256 << 20,
        }
    }
}

/// Read a file into `buf` (cleared first). The caller reuses `buf` across files so its pages
/// stay mapped: re-faulting fresh pages for every file was a third of the loader's time.
pub fn read_file_into(path: &Path, limits: &Limits, buf: &mut Vec<u8>) -> Result<(), String> {
    buf.clear();
    let f = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    if len > limits.max_file_bytes {
        return Err(format!(
            "file is {len} bytes, over the limit of {} bytes",
            limits.max_file_bytes
        ));
    }
    buf.reserve(usize::try_from(len).unwrap_or(0));
    f.take(limits.max_file_bytes + 1)
        .read_to_end(buf)
        .map_err(|e| format!("cannot read: {e}"))?;
    if buf.len() as u64 > limits.max_file_bytes {
        return Err(format!(
            "file is over the limit of {} bytes",
            limits.max_file_bytes
        ));
    }
    Ok(())
}

pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Decompress gzip content into `out` (cleared first), bounded.
pub fn gunzip_into(bytes: &[u8], limits: &Limits, out: &mut Vec<u8>) -> Result<(), String> {
    out.clear();
    let dec = flate2::read::MultiGzDecoder::new(bytes);
    if let Err(e) = dec.take(limits.max_file_bytes + 1).read_to_end(out) {
        return Err(format!(
            "gzip content is corrupt after {} decompressed bytes: {e}",
            out.len()
        ));
    }
    if out.len() as u64 > limits.max_file_bytes {
        return Err(format!(
            "gzip content expands beyond the limit of {} bytes",
            limits.max_file_bytes
        ));
    }
    Ok(())
}
