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

/// Open a file, gunzipping when it starts with the gzip magic.
fn open(path: &Path) -> std::io::Result<Box<dyn BufRead>> {
    let f = std::fs::File::open(path)?;
    let mut r = BufReader::with_capacity(256 << 10, f);
    let gz = matches!(r.fill_buf()?, [0x1f, 0x8b, ..]);
    if gz {
        let d = flate2::bufread::MultiGzDecoder::new(r);
        Ok(Box::new(BufReader::with_capacity(256 << 10, d)))
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
    let read = (&mut r).take(SLICE_LIMIT + 1).read_to_end(buf);
    let res = match read {
        Ok(_) if buf.len() as u64 > SLICE_LIMIT => {
            let rest = std::io::Cursor::new(std::mem::take(buf)).chain(r);
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
