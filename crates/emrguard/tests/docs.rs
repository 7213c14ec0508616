//! `docs/rules/` is generated from the rules' doc comments and checked in: this test fails when
//! it is out of date, and says how to regenerate it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn docs_rules_is_up_to_date() {
    let want: BTreeMap<String, String> = emrguard_report::docs::files().into_iter().collect();
    let have = read_dir(&repo().join("docs/rules"));
    let mut problems = Vec::new();
    for (name, text) in &want {
        match have.get(name) {
            None => problems.push(format!("missing: docs/rules/{name}")),
            Some(t) if t != text => problems.push(format!("out of date: docs/rules/{name}")),
            Some(_) => {}
        }
    }
    for name in have.keys() {
        if !want.contains_key(name) {
            problems.push(format!("no such rule any more: docs/rules/{name}"));
        }
    }
    assert!(
        problems.is_empty(),
        "docs/rules/ does not match the rule catalogue:\n  {}\nRegenerate it from the repository root with:\n  {}\n",
        problems.join("\n  "),
        emrguard_report::docs::REGENERATE
    );
}

#[test]
fn the_rules_command_writes_the_docs() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("XYZ999.md"), "stale").unwrap();
    std::fs::write(tmp.path().join("notes.md"), "kept").unwrap();
    Command::cargo_bin("emrguard")
        .unwrap()
        .args(["rules", "--format", "markdown", "--output-dir"])
        .arg(tmp.path())
        .assert()
        .success();
    let got = read_dir(tmp.path());
    assert!(
        !got.contains_key("XYZ999.md"),
        "stale rule pages are removed"
    );
    assert_eq!(got.get("notes.md").map(String::as_str), Some("kept"));
    for (name, text) in emrguard_report::docs::files() {
        assert_eq!(got.get(&name), Some(&text), "{name}");
    }
    let index = &got["README.md"];
    for r in emrguard_rules::registry() {
        assert!(index.contains(&format!("[{0}]({0}.md)", r.meta().id)));
    }

    // One document on standard output.
    let out = Command::cargo_bin("emrguard")
        .unwrap()
        .args(["rules", "--format", "markdown"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let md = String::from_utf8(out.stdout).unwrap();
    for r in emrguard_rules::registry() {
        assert!(md.contains(&format!("\n## {}\n", r.meta().id)));
    }
    // --output-dir needs markdown.
    Command::cargo_bin("emrguard")
        .unwrap()
        .args(["rules", "--output-dir"])
        .arg(tmp.path())
        .assert()
        .code(2);
}
