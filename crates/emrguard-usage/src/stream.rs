//! Streaming aggregation of CloudTrail log files (`{"Records":[...]}`, gzip or not; also a
//! bare JSON array of records): one record in memory at a time per file, files in parallel.

use crate::aggregate::{Aggregate, Window};
use emrguard_model::aws::misc::CloudTrailRecord;
use rayon::prelude::*;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// A file that could not be read (whole or in part).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamError {
    pub file: String,
    pub message: String,
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

struct Records<'a, F: FnMut(CloudTrailRecord)>(&'a mut F, &'a mut u64);

impl<'de, F: FnMut(CloudTrailRecord)> Visitor<'de> for Records<'_, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a CloudTrail `Records` array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // A record that is not an object of the expected shape is skipped, not fatal.
        while let Some(v) = seq.next_element::<Lenient>()? {
            match v.0 {
                Some(r) => (self.0)(r),
                None => *self.1 += 1,
            }
        }
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

impl<'de, F: FnMut(CloudTrailRecord)> DeserializeSeed<'de> for Records<'_, F> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// A record, or None when its shape is wrong (counted).
struct Lenient(Option<CloudTrailRecord>);

impl<'de> serde::Deserialize<'de> for Lenient {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Raw text first (cheap), then the typed record: a bad record does not end the file.
        let raw = Box::<serde_json::value::RawValue>::deserialize(d)?;
        Ok(Lenient(serde_json::from_str(raw.get()).ok()))
    }
}

struct Top<'a, F: FnMut(CloudTrailRecord)>(&'a mut F, &'a mut u64);

impl<'de, F: FnMut(CloudTrailRecord)> Visitor<'de> for Top<'_, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a CloudTrail log file")
    }
    fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<(), M::Error> {
        while let Some(k) = m.next_key::<String>()? {
            if k == "Records" {
                m.next_value_seed(Records(&mut *self.0, &mut *self.1))?;
            } else {
                m.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        Records(self.0, self.1).visit_seq(seq)
    }
}

/// Call `f` on each record of a CloudTrail file, streaming. Returns the number of records
/// skipped because of their shape.
pub fn for_each_record(
    path: &Path,
    mut f: impl FnMut(CloudTrailRecord),
) -> Result<u64, StreamError> {
    let err = |m: String| StreamError {
        file: path.display().to_string(),
        message: m,
    };
    let r = open(path).map_err(|e| err(format!("cannot read: {e}")))?;
    let mut skipped = 0u64;
    let mut de = serde_json::Deserializer::from_reader(r);
    serde::Deserializer::deserialize_any(&mut de, Top(&mut f, &mut skipped))
        .map_err(|e| err(format!("malformed CloudTrail file: {e}")))?;
    Ok(skipped)
}

/// Aggregate CloudTrail files in parallel (rayon). A file that breaks midway keeps the
/// records read before the break and is reported.
pub fn aggregate_files(paths: &[PathBuf], window: &Window) -> (Aggregate, Vec<StreamError>) {
    let (agg, errs) = paths
        .par_iter()
        .fold(
            || (Aggregate::default(), Vec::new()),
            |(mut agg, mut errs), p| {
                match for_each_record(p, |r| agg.add_record(&r, window)) {
                    Ok(0) => {}
                    Ok(n) => errs.push(StreamError {
                        file: p.display().to_string(),
                        message: format!("{n} record(s) of an unexpected shape skipped"),
                    }),
                    Err(e) => errs.push(e),
                }
                (agg, errs)
            },
        )
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
