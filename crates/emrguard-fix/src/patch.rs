//! The snapshot patcher: applies fixers' edits to the snapshot's own files (JSON pointers into
//! the aws/kubectl output they came from), so `DIR/snapshot/` has the same file shapes and
//! `emrguard check DIR/snapshot` reads it like the original.
//!
//! JSON files are rewritten pretty-printed (keys in sorted order: serde_json's map); in YAML
//! files only the documents that change are re-serialised, the others keep their text.

use emrguard_model::SourceLoc;
use serde_json::Value;
use std::collections::BTreeMap;

/// One change to one snapshot file.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    pub file: String,
    /// For YAML: the first line of the document (as the loader records it).
    pub doc_line: Option<u32>,
    /// RFC 6901 pointer into the document.
    pub pointer: String,
    pub op: Op,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Set (or create) the value at the pointer; the parent must exist.
    Set(Value),
    /// Remove the value (an array element or an object key; `""` removes a YAML document or
    /// empties a JSON file's root to `null`).
    Remove,
    /// Append to the array at the pointer (created when missing).
    Push(Value),
    /// Replace the whole file's text (Dockerfiles, iptables dumps).
    Text(String),
    /// A new file for the snapshot copy (`file` is its path under `snapshot/`): what the
    /// estate gains, in the shape its describe command prints (a new launch template).
    Create(String),
    /// In every JSON/YAML file of the snapshot (`file` is `*`): remove each array element that
    /// is an object with `key` = `value`; a file whose root only wraps such an object (a
    /// `describe-*` output) is dropped. For objects the snapshot holds in several files (a
    /// `list` and a `describe`).
    Purge { key: String, value: String },
}

impl Edit {
    /// An edit at `loc` (an object's location) plus `sub` (a pointer below it, `""` for the
    /// object itself).
    pub fn at(loc: &SourceLoc, sub: &str, op: Op) -> Edit {
        let is_yaml = is_yaml_name(&loc.file);
        Edit {
            file: loc.file.to_string(),
            doc_line: if is_yaml { loc.line } else { None },
            pointer: format!("{}{sub}", loc.pointer),
            op,
        }
    }
    /// A new snapshot file at `path` (under `snapshot/`, `/`-separated).
    pub fn create(path: &str, text: String) -> Edit {
        Edit {
            file: path.to_owned(),
            doc_line: None,
            pointer: String::new(),
            op: Op::Create(text),
        }
    }
    pub fn text(file: &str, text: String) -> Edit {
        Edit {
            file: file.to_owned(),
            doc_line: None,
            pointer: String::new(),
            op: Op::Text(text),
        }
    }
}

fn is_yaml_name(f: &str) -> bool {
    let l = f.to_ascii_lowercase();
    l.ends_with(".yaml") || l.ends_with(".yml")
}

/// Why an edit could not be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchError {
    pub file: String,
    pub message: String,
}

impl std::fmt::Display for PatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

/// Escape one pointer token.
pub fn token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

fn tokens(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// Removals go last, deepest and highest array index first, so earlier removals do not
/// shift the indexes later ones name.
fn removal_order(a: &str, b: &str) -> std::cmp::Ordering {
    let (ta, tb) = (tokens(a), tokens(b));
    for (x, y) in ta.iter().zip(tb.iter()) {
        let o = match (x.parse::<usize>(), y.parse::<usize>()) {
            (Ok(i), Ok(j)) => j.cmp(&i),
            _ => x.cmp(y),
        };
        if o != std::cmp::Ordering::Equal {
            return o;
        }
    }
    tb.len().cmp(&ta.len())
}

fn apply_value(doc: &mut Value, edits: &[&Edit]) -> Result<(), String> {
    let mut removes: Vec<&str> = Vec::new();
    for e in edits {
        match &e.op {
            Op::Set(v) => set(doc, &e.pointer, v.clone())?,
            Op::Push(v) => {
                if doc.pointer(&e.pointer).is_none() {
                    set(doc, &e.pointer, Value::Array(Vec::new()))?;
                }
                match doc.pointer_mut(&e.pointer) {
                    Some(Value::Array(a)) => {
                        if !a.contains(v) {
                            a.push(v.clone());
                        }
                    }
                    _ => return Err(format!("{} is not an array", e.pointer)),
                }
            }
            Op::Remove => removes.push(&e.pointer),
            Op::Text(_) => return Err("a text edit on a structured file".into()),
            Op::Create(_) => return Err("a new file's name is an existing file".into()),
            Op::Purge { key, value } => purge(doc, key, value),
        }
    }
    removes.sort_by(|a, b| removal_order(a, b));
    removes.dedup();
    for p in removes {
        remove(doc, p);
    }
    Ok(())
}

fn matches(v: &Value, key: &str, value: &str) -> bool {
    v.get(key).and_then(Value::as_str) == Some(value)
}

fn purge(doc: &mut Value, key: &str, value: &str) {
    // A describe-style root `{"association": {...}}`: the whole document goes.
    if let Value::Object(m) = doc {
        if m.len() == 1 && m.values().all(|v| matches(v, key, value)) {
            *doc = Value::Null;
            return;
        }
    }
    match doc {
        Value::Array(a) => {
            a.retain(|x| !matches(x, key, value));
            for x in a {
                purge(x, key, value);
            }
        }
        Value::Object(m) => {
            for x in m.values_mut() {
                purge(x, key, value);
            }
        }
        _ => {}
    }
}

fn set(doc: &mut Value, pointer: &str, v: Value) -> Result<(), String> {
    if pointer.is_empty() {
        *doc = v;
        return Ok(());
    }
    let (parent, last) = pointer
        .rsplit_once('/')
        .ok_or_else(|| format!("bad pointer {pointer}"))?;
    let last = last.replace("~1", "/").replace("~0", "~");
    if doc.pointer(parent).is_none() {
        // Create missing parents as objects (e.g. `metadata/annotations`).
        set(doc, parent, Value::Object(Default::default()))?;
    }
    match doc.pointer_mut(parent) {
        Some(Value::Object(m)) => {
            m.insert(last, v);
            Ok(())
        }
        Some(Value::Array(a)) => match last.parse::<usize>() {
            Ok(i) if i < a.len() => {
                if let Some(slot) = a.get_mut(i) {
                    *slot = v;
                }
                Ok(())
            }
            _ if last == "-" => {
                a.push(v);
                Ok(())
            }
            _ => Err(format!("{pointer}: no such array element")),
        },
        _ => Err(format!("{pointer}: the parent is not an object or array")),
    }
}

fn remove(doc: &mut Value, pointer: &str) {
    if pointer.is_empty() {
        *doc = Value::Null;
        return;
    }
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return;
    };
    let last = last.replace("~1", "/").replace("~0", "~");
    match doc.pointer_mut(parent) {
        Some(Value::Object(m)) => {
            m.remove(&last);
        }
        Some(Value::Array(a)) => {
            if let Ok(i) = last.parse::<usize>() {
                if i < a.len() {
                    a.remove(i);
                }
            }
        }
        _ => {}
    }
}

/// `(first line (1-based), text)` of each YAML document, split as emrguard-load splits them
/// (at `---` / `...` lines), keeping empty documents out.
fn split_yaml(text: &str) -> Vec<(usize, String)> {
    let mut docs = Vec::new();
    let mut cur = String::new();
    let mut start = 1usize;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let l = line.trim_end();
        if l == "---" || l.starts_with("--- ") || l == "..." {
            docs.push((start, std::mem::take(&mut cur)));
            start = i + 2;
            if let Some(rest) = l.strip_prefix("--- ") {
                if !rest.trim().is_empty() && !rest.trim().starts_with('#') {
                    cur.push_str(rest);
                    cur.push('\n');
                    start = i + 1;
                }
            }
            continue;
        }
        cur.push_str(line);
    }
    docs.push((start, cur));
    docs.into_iter()
        .filter(|(_, d)| {
            d.lines()
                .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        })
        .collect()
}

/// Apply `edits` to the file `name` whose bytes are `data`; the new bytes, or None when the
/// file is dropped (its only object was purged).
pub fn apply_file(name: &str, data: &[u8], edits: &[&Edit]) -> Result<Option<Vec<u8>>, PatchError> {
    let err = |message: String| PatchError {
        file: name.to_owned(),
        message,
    };
    if let Some(Edit {
        op: Op::Text(t), ..
    }) = edits.iter().rev().find(|e| matches!(e.op, Op::Text(_)))
    {
        return Ok(Some(t.clone().into_bytes()));
    }
    if name.ends_with(".gz") {
        return Err(err("cannot patch a compressed file".into()));
    }
    let text = std::str::from_utf8(data).map_err(|e| err(format!("not UTF-8: {e}")))?;
    let text = text.trim_start_matches('\u{feff}');
    if !is_yaml_name(name) {
        let mut doc: Value =
            serde_json::from_str(text).map_err(|e| err(format!("not JSON: {e}")))?;
        apply_value(&mut doc, edits).map_err(err)?;
        if doc.is_null() {
            return Ok(None);
        }
        let mut out = serde_json::to_string_pretty(&doc).map_err(|e| err(e.to_string()))?;
        out.push('\n');
        return Ok(Some(out.into_bytes()));
    }
    let docs = split_yaml(text);
    let single = docs.len() == 1;
    let mut out = String::new();
    let mut applied = 0usize;
    for (line, doc_text) in &docs {
        let mine: Vec<&Edit> = edits
            .iter()
            .copied()
            .filter(|e| {
                single
                    || matches!(e.op, Op::Purge { .. })
                    || e.doc_line.and_then(|l| usize::try_from(l).ok()) == Some(*line)
            })
            .collect();
        let piece = if mine.is_empty() {
            doc_text.clone()
        } else {
            applied += mine
                .iter()
                .filter(|e| !matches!(e.op, Op::Purge { .. }))
                .count();
            let mut v: Value = serde_yaml_ng::from_str(doc_text)
                .map_err(|e| err(format!("document at line {line}: {e}")))?;
            apply_value(&mut v, &mine).map_err(err)?;
            if v.is_null() {
                continue; // the document was removed
            }
            serde_yaml_ng::to_string(&v).map_err(|e| err(e.to_string()))?
        };
        if !out.is_empty() {
            out.push_str("---\n");
        }
        out.push_str(&piece);
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    let targeted = edits
        .iter()
        .filter(|e| !matches!(e.op, Op::Purge { .. }))
        .count();
    if applied < targeted {
        return Err(err(format!(
            "{} edit(s) name no document of the file",
            targeted - applied
        )));
    }
    if out.is_empty() {
        return Ok(None);
    }
    Ok(Some(out.into_bytes()))
}

/// Edits grouped by file.
pub fn by_file(edits: &[Edit]) -> BTreeMap<&str, Vec<&Edit>> {
    let mut m: BTreeMap<&str, Vec<&Edit>> = BTreeMap::new();
    for e in edits {
        m.entry(e.file.as_str()).or_default().push(e);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn e(pointer: &str, op: Op) -> Edit {
        Edit {
            file: "f.json".into(),
            doc_line: None,
            pointer: pointer.into(),
            op,
        }
    }

    #[test]
    fn removals_run_last_and_from_the_highest_index() {
        let data = br#"{"items":[{"a":0},{"a":1},{"a":2},{"a":3}]}"#;
        let edits = [
            e("/items/1", Op::Remove),
            e("/items/3", Op::Remove),
            e("/items/2/a", Op::Set(json!(20))),
            e("/items/0/b/c", Op::Set(json!(true))),
            e("/items/0/l", Op::Push(json!("x"))),
        ];
        let refs: Vec<&Edit> = edits.iter().collect();
        let out = apply_file("f.json", data, &refs).unwrap().unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v,
            json!({"items":[{"a":0,"b":{"c":true},"l":["x"]},{"a":20}]})
        );
    }

    #[test]
    fn yaml_documents_are_addressed_by_their_first_line() {
        let text = "# head\napiVersion: v1\nkind: A\n---\napiVersion: v1\nkind: B\nmetadata:\n  name: b\n---\nkind: C\n";
        let docs = split_yaml(text);
        assert_eq!(docs.iter().map(|d| d.0).collect::<Vec<_>>(), vec![1, 5, 10]);
        let edits = [
            Edit {
                file: "w.yaml".into(),
                doc_line: Some(5),
                pointer: "/metadata/name".into(),
                op: Op::Set(json!("z")),
            },
            Edit {
                file: "w.yaml".into(),
                doc_line: Some(10),
                pointer: String::new(),
                op: Op::Remove,
            },
        ];
        let refs: Vec<&Edit> = edits.iter().collect();
        let out = String::from_utf8(
            apply_file("w.yaml", text.as_bytes(), &refs)
                .unwrap()
                .unwrap(),
        )
        .unwrap();
        assert!(
            out.starts_with("# head\napiVersion: v1\nkind: A\n---\n"),
            "{out}"
        );
        assert!(out.contains("name: z"), "{out}");
        assert!(!out.contains("kind: C"), "{out}");
    }

    #[test]
    fn purge_drops_list_items_and_describe_files() {
        let p = [e(
            "",
            Op::Purge {
                key: "id".into(),
                value: "a".into(),
            },
        )];
        let refs: Vec<&Edit> = p.iter().collect();
        let list = br#"{"items":[{"id":"a"},{"id":"b"}]}"#;
        let out = apply_file("l.json", list, &refs).unwrap().unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v, json!({"items":[{"id":"b"}]}));
        assert_eq!(
            apply_file("d.json", br#"{"association":{"id":"a"}}"#, &refs).unwrap(),
            None
        );
    }

    #[test]
    fn an_edit_naming_no_document_is_an_error() {
        let edits = [Edit {
            file: "w.yaml".into(),
            doc_line: Some(99),
            pointer: "/a".into(),
            op: Op::Set(json!(1)),
        }];
        let refs: Vec<&Edit> = edits.iter().collect();
        assert!(apply_file("w.yaml", b"a: 0\n---\nb: 1\n", &refs).is_err());
    }
}
