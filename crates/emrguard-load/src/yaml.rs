//! Multi-document YAML. Documents are split at `---` lines so each keeps its starting line;
//! each is parsed on its own (one bad document does not hide the others), converted to JSON and
//! recognised like any JSON document. serde_yaml_ng bounds nesting depth and alias expansion
//! ("billion laughs"); the converted size is bounded again here.

use crate::dispatch::{load_json_doc, yaml_location, Ctx};
use crate::read::Limits;
use crate::{FileOutcome, LoadError};

/// `(first line of the document (1-based), text)` for each document.
fn split_documents(text: &str) -> Vec<(usize, &str)> {
    let mut docs = Vec::new();
    let mut start_byte = 0usize;
    let mut start_line = 1usize;
    let mut offset = 0usize;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let l = line.trim_end();
        let is_sep = l == "---" || l.starts_with("--- ") || l == "...";
        if is_sep {
            if let Some(doc) = text.get(start_byte..offset) {
                docs.push((start_line, doc));
            }
            start_byte = offset + line.len();
            start_line = i + 2;
            // `--- {inline: doc}` keeps its content.
            if let Some(rest) = l.strip_prefix("--- ") {
                if !rest.trim().is_empty() && !rest.trim().starts_with('#') {
                    start_byte = offset + 4;
                    start_line = i + 1;
                }
            }
        }
        offset += line.len();
    }
    if let Some(doc) = text.get(start_byte..) {
        docs.push((start_line, doc));
    }
    docs.into_iter()
        .filter(|(_, d)| {
            d.lines()
                .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        })
        .collect()
}

/// Whether a text that failed to parse still claims to be a Kubernetes manifest.
fn claims_manifest(text: &str) -> bool {
    let mut api = false;
    let mut kind = false;
    for l in text.lines() {
        api |= l.starts_with("apiVersion:");
        kind |= l.starts_with("kind:");
    }
    api && kind
}

pub(crate) fn load_yaml(ctx: Ctx<'_>, text: &str, limits: &Limits, file: &str) -> FileOutcome {
    let mut ctx = ctx;
    let mut converted_docs = 0usize;
    let mut errors: Vec<LoadError> = Vec::new();
    let mut non_mapping = 0usize;
    for (line, doc) in split_documents(text) {
        let value: serde_json::Value = match serde_yaml_ng::from_str(doc) {
            Ok(v) => v,
            Err(e) => {
                if claims_manifest(doc) || converted_docs > 0 {
                    errors.push(LoadError {
                        file: file.to_owned(),
                        location: Some(yaml_location(line, &e)),
                        message: format!("malformed YAML: {e}"),
                    });
                    continue;
                }
                // Not YAML, and it does not look like a manifest: not a snapshot file.
                non_mapping += 1;
                continue;
            }
        };
        if !value.is_object() {
            non_mapping += 1;
            continue;
        }
        if depth(&value, 0) > limits.max_depth {
            errors.push(LoadError {
                file: file.to_owned(),
                location: Some(format!("document at line {line}")),
                message: format!("nesting deeper than {} levels", limits.max_depth),
            });
            continue;
        }
        let json = value.to_string();
        if json.len() > limits.max_yaml_expansion {
            errors.push(LoadError {
                file: file.to_owned(),
                location: Some(format!("document at line {line}")),
                message: format!(
                    "document expands to {} bytes (aliases?), over the limit of {}",
                    json.len(),
                    limits.max_yaml_expansion
                ),
            });
            continue;
        }
        converted_docs += 1;
        let mut sub = ctx.with_source(&json, u32::try_from(line).ok());
        load_json_doc(&mut sub, &json, "");
        // Move the accumulated state back (the JSON text dies with this iteration).
        ctx = sub.with_source(text, None);
    }
    ctx.unknown_docs += if converted_docs > 0 { non_mapping } else { 0 };
    let mut out = ctx.outcome(file);
    out.errors.extend(errors);
    if let Some(input) = out.input.as_mut() {
        if input.recognised_as == "unknown" && !out.errors.is_empty() {
            input.recognised_as = "yaml".into();
            input.warning = Some(format!("{} part(s) could not be read", out.errors.len()));
        }
    }
    out
}

fn depth(v: &serde_json::Value, d: usize) -> usize {
    match v {
        serde_json::Value::Array(a) => a.iter().map(|x| depth(x, d + 1)).max().unwrap_or(d + 1),
        serde_json::Value::Object(o) => o.values().map(|x| depth(x, d + 1)).max().unwrap_or(d + 1),
        _ => d,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_keep_their_lines() {
        let t = "a: 1\n---\nb: 2\nc: 3\n---\n# only a comment\n---\nd: 4\n";
        let d = split_documents(t);
        assert_eq!(d.iter().map(|x| x.0).collect::<Vec<_>>(), vec![1, 3, 8]);
        assert!(d[1].1.contains("c: 3"));
    }

    #[test]
    fn leading_separator() {
        let d = split_documents("---\napiVersion: v1\nkind: Namespace\n");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].0, 2);
    }
}
