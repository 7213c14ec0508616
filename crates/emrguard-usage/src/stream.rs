//! Streaming aggregation of CloudTrail log files (`{"Records":[...]}`, gzip or not; also a
//! bare JSON array of records), files in parallel.
//!
//! A file's content is decompressed into one reused buffer per thread and parsed from the
//! slice (several times faster than reading through `BufRead`, and strings are borrowed);
//! a file that expands beyond [`SLICE_LIMIT`] is streamed through the reader instead, so
//! memory stays bounded. Each record is first delimited (raw JSON), then read: a record of
//! an unexpected shape is skipped and reported by position, the rest of its file counts.

use crate::aggregate::{Aggregate, Window};
use crate::view::RecordView;
use rayon::prelude::*;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

/// Largest decompressed content parsed from memory (per thread); larger files stream.
pub const SLICE_LIMIT: u64 = 64 << 20;

/// At most this many skipped records are named in a file's report.
const NAMED_SKIPS: usize = 5;

/// A file that could not be read (whole or in part).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamError {
    pub file: String,
    pub message: String,
}

/// Records of a file skipped because of their shape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skipped {
    pub count: u64,
    /// The first few: (JSON pointer of the record, why).
    pub first: Vec<(String, String)>,
}

/// Open a file, gunzipping when it starts with the gzip magic. Unbuffered on the
/// decompressed side: it is read in large blocks (or through a `BufReader` when streamed).
fn open(path: &Path) -> std::io::Result<Box<dyn Read>> {
    let f = std::fs::File::open(path)?;
    let mut r = BufReader::with_capacity(256 << 10, f);
    let gz = matches!(r.fill_buf()?, [0x1f, 0x8b, ..]);
    if gz {
        Ok(Box::new(flate2::bufread::MultiGzDecoder::new(r)))
    } else {
        Ok(Box::new(r))
    }
}

/// Whether a file is a CloudTrail log file: its JSON starts with `{"Records"` (after
/// whitespace; gzip allowed). Reads at most a few hundred bytes.
pub fn is_cloudtrail_file(path: &Path) -> bool {
    let Ok(r) = open(path) else {
        return false;
    };
    let mut head = Vec::with_capacity(256);
    if r.take(256).read_to_end(&mut head).is_err() {
        return false;
    }
    let text = String::from_utf8_lossy(&head);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    let Some(rest) = t.strip_prefix('{') else {
        return false;
    };
    rest.trim_start().starts_with("\"Records\"")
}

/// A record's raw text: borrowed from a slice, owned from a reader.
trait Raw<'de>: Deserialize<'de> {
    fn text(&self) -> &str;
}

impl<'de> Raw<'de> for &'de RawValue {
    fn text(&self) -> &str {
        self.get()
    }
}

impl Raw<'_> for Box<RawValue> {
    fn text(&self) -> &str {
        self.get()
    }
}

/// What is done with each record's text, given its position (`/Records/3`, `/3`).
type OnRecord<'a> = dyn FnMut(&dyn Fn() -> String, &str) + 'a;

struct Records<'a, 'f, R> {
    f: &'a mut OnRecord<'f>,
    pointer: &'static str,
    raw: PhantomData<R>,
}

impl<'de, R: Raw<'de>> Visitor<'de> for Records<'_, '_, R> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a CloudTrail `Records` array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0u64;
        while let Some(raw) = seq.next_element::<R>()? {
            let at = || format!("{}/{i}", self.pointer);
            (self.f)(&at, raw.text());
            i += 1;
        }
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

impl<'de, R: Raw<'de>> DeserializeSeed<'de> for Records<'_, '_, R> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

struct Top<'a, 'f, R>(&'a mut OnRecord<'f>, PhantomData<R>);

impl<'de, R: Raw<'de>> Visitor<'de> for Top<'_, '_, R> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a CloudTrail log file")
    }
    fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<(), M::Error> {
        while let Some(k) = m.next_key::<String>()? {
            if k == "Records" {
                m.next_value_seed(Records::<R> {
                    f: &mut *self.0,
                    pointer: "/Records",
                    raw: PhantomData,
                })?;
            } else {
                m.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        Records::<R> {
            f: self.0,
            pointer: "",
            raw: PhantomData,
        }
        .visit_seq(seq)
    }
}

/// Call `f` on each record of a CloudTrail file, using `buf` for the decompressed content.
/// Returns the records skipped because of their shape.
pub fn for_each_record_in(
    path: &Path,
    buf: &mut Vec<u8>,
    f: impl FnMut(&RecordView<'_>),
) -> Result<Skipped, StreamError> {
    read_records(path, buf, SLICE_LIMIT, f)
}

fn read_records(
    path: &Path,
    buf: &mut Vec<u8>,
    limit: u64,
    mut f: impl FnMut(&RecordView<'_>),
) -> Result<Skipped, StreamError> {
    let err = |m: String| StreamError {
        file: path.display().to_string(),
        message: m,
    };
    let mut r = open(path).map_err(|e| err(format!("cannot read: {e}")))?;
    let mut skipped = Skipped::default();
    let mut on =
        |at: &dyn Fn() -> String, text: &str| match serde_json::from_str::<RecordView>(text) {
            Ok(v) => f(&v),
            Err(e) => {
                skipped.count += 1;
                if skipped.first.len() < NAMED_SKIPS {
                    skipped.first.push((at(), e.to_string()));
                }
            }
        };
    buf.clear();
    // Read errors keep what was read before them: those records still count.
    let read = (&mut r).take(limit + 1).read_to_end(buf);
    let res = match read {
        Ok(_) if buf.len() as u64 > limit => {
            let rest = std::io::Cursor::new(std::mem::take(buf)).chain(r);
            let rest = BufReader::with_capacity(256 << 10, rest);
            let mut de = serde_json::Deserializer::from_reader(rest);
            serde::Deserializer::deserialize_any(
                &mut de,
                Top::<Box<RawValue>>(&mut on, PhantomData),
            )
        }
        _ => {
            let mut de = serde_json::Deserializer::from_slice(buf);
            let parsed = serde::Deserializer::deserialize_any(
                &mut de,
                Top::<&RawValue>(&mut on, PhantomData),
            );
            // A read error is the cause of the parse error it leads to.
            match read {
                Err(e) => Err(serde_json::Error::io(e)),
                Ok(_) => parsed,
            }
        }
    };
    res.map_err(|e| err(format!("malformed CloudTrail file: {e}")))?;
    Ok(skipped)
}

/// Call `f` on each record of a CloudTrail file. Returns the records skipped because of
/// their shape.
pub fn for_each_record(
    path: &Path,
    f: impl FnMut(&RecordView<'_>),
) -> Result<Skipped, StreamError> {
    for_each_record_in(path, &mut Vec::new(), f)
}

/// Aggregate CloudTrail files in parallel (rayon). A file that breaks midway keeps the
/// records read before the break and is reported.
pub fn aggregate_files(paths: &[PathBuf], window: &Window) -> (Aggregate, Vec<StreamError>) {
    let (agg, errs) = paths
        .par_iter()
        .fold(
            || (Aggregate::default(), Vec::new(), Vec::new()),
            |(mut agg, mut errs, mut buf), p| {
                match for_each_record_in(p, &mut buf, |r| agg.add_view(r, window)) {
                    Ok(s) if s.count == 0 => {}
                    Ok(s) => {
                        let named: Vec<String> = s
                            .first
                            .iter()
                            .map(|(at, why)| format!("{at}: {why}"))
                            .collect();
                        errs.push(StreamError {
                            file: p.display().to_string(),
                            message: format!(
                                "{} record(s) of an unexpected shape skipped ({})",
                                s.count,
                                named.join("; ")
                            ),
                        })
                    }
                    Err(e) => errs.push(e),
                }
                (agg, errs, buf)
            },
        )
        .map(|(a, e, _)| (a, e))
        .reduce(
            || (Aggregate::default(), Vec::new()),
            |(mut a, mut ea), (b, eb)| {
                a.merge(b);
                ea.extend(eb);
                (a, ea)
            },
        );
    let mut errs = errs;
    errs.sort_by(|a, b| a.file.cmp(&b.file));
    (agg, errs)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use std::io::Write;

    const FILE: &str = r#"{"Records":[
        {"eventName":"A","eventTime":"2024-01-01T00:00:00Z"},
        {"eventName":5},
        {"eventName":"C\u0043","requestParameters":{"key":"k"}}
    ]}"#;

    fn gz(text: &str) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    }

    fn names(path: &Path, limit: u64) -> (Vec<String>, Result<Skipped, StreamError>) {
        let mut names = Vec::new();
        let r = read_records(path, &mut Vec::new(), limit, |v| {
            names.push(v.event_name().unwrap_or("").to_owned())
        });
        (names, r)
    }

    #[test]
    fn a_bad_record_is_skipped_by_position_in_memory_and_streaming() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.json.gz");
        std::fs::write(&p, gz(FILE)).unwrap();
        // 10 bytes: over the limit, so the file streams through the reader.
        for limit in [SLICE_LIMIT, 10] {
            let (n, r) = names(&p, limit);
            assert_eq!(n, vec!["A", "CC"], "limit {limit}");
            let s = r.unwrap();
            assert_eq!(s.count, 1);
            assert_eq!(s.first[0].0, "/Records/1");
        }
        let (agg, errs) = aggregate_files(&[p], &Window::default());
        assert_eq!(agg.records, 2);
        assert!(
            errs[0].message.contains("/Records/1: invalid type"),
            "{errs:?}"
        );
    }

    #[test]
    fn a_truncated_gzip_keeps_the_records_before_the_cut() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.json.gz");
        let many: Vec<String> = (0..2000)
            .map(|i| format!(r#"{{"eventName":"E{i}","eventID":"{i:08x}"}}"#))
            .collect();
        let z = gz(&format!(r#"{{"Records":[{}]}}"#, many.join(",")));
        std::fs::write(&p, &z[..z.len() / 2]).unwrap();
        for limit in [SLICE_LIMIT, 10] {
            let (n, r) = names(&p, limit);
            assert!(!n.is_empty() && n.len() < 2000, "{}", n.len());
            assert!(r
                .unwrap_err()
                .message
                .starts_with("malformed CloudTrail file"));
        }
    }

    #[test]
    fn hostile_files_end_in_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        for (i, t) in [
            "",
            "{",
            "[1,2,",
            r#"{"Records":7}"#,
            r#"{"Records":[{"eventName":"a"},]}"#,
            r#"{"Records":[{"requestParameters":{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}]}"#,
            "\u{feff}{\"Records\":[]}",
        ]
        .iter()
        .enumerate()
        {
            let p = dir.path().join(format!("{i}.json"));
            std::fs::write(&p, t).unwrap();
            let _ = names(&p, SLICE_LIMIT);
            let _ = names(&p, 1);
        }
    }
}
