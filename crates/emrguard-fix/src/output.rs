//! The output directory: `apply.sh`, `README.md`, the artifacts and `snapshot/` (the input
//! files with the plan's edits applied), as an in-memory list of files the binary writes.

use crate::patch::{self, PatchError};
use crate::{sh, Plan};
use std::collections::BTreeMap;

/// A snapshot file: the name the loader gave it (as in findings' locations), where its copy goes
/// under `snapshot/`, and its bytes.
#[derive(Debug, Clone)]
pub struct SnapshotFile {
    pub name: String,
    pub dest: String,
    pub data: Vec<u8>,
}

/// Every file of the output directory (relative path → bytes), and the edits that could not be
/// applied (their fixes are then not claimed: the caller re-checks).
pub fn render(plan: &Plan, files: &[SnapshotFile]) -> (BTreeMap<String, Vec<u8>>, Vec<PatchError>) {
    let mut out: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    out.insert("apply.sh".into(), apply_sh(plan).into_bytes());
    out.insert("README.md".into(), readme(plan).into_bytes());
    for f in &plan.fixes {
        for a in &f.artifacts {
            out.insert(a.path.clone(), a.contents.clone().into_bytes());
        }
    }
    let all: Vec<_> = plan
        .fixes
        .iter()
        .flat_map(|f| f.edits.iter().cloned())
        .collect();
    let by_file = patch::by_file(&all);
    let purges: Vec<&patch::Edit> = all
        .iter()
        .filter(|e| matches!(e.op, patch::Op::Purge { .. }))
        .collect();
    let mut errors = Vec::new();
    for f in files {
        let mut edits: Vec<&patch::Edit> =
            by_file.get(f.name.as_str()).cloned().unwrap_or_default();
        let structured = !f.name.ends_with(".gz")
            && [".json", ".yaml", ".yml"]
                .iter()
                .any(|x| f.name.to_ascii_lowercase().ends_with(x));
        if structured {
            edits.extend(purges.iter().copied());
        }
        let data = if edits.is_empty() {
            Some(f.data.clone())
        } else {
            match patch::apply_file(&f.name, &f.data, &edits) {
                Ok(d) => d,
                Err(e) => {
                    errors.push(e);
                    Some(f.data.clone())
                }
            }
        };
        if let Some(data) = data {
            out.insert(format!("snapshot/{}", f.dest), data);
        }
    }
    for e in &all {
        if let patch::Op::Create(text) = &e.op {
            let dest = format!("snapshot/{}", e.file);
            if files.iter().any(|f| f.dest == e.file) || out.contains_key(&dest) {
                errors.push(PatchError {
                    file: e.file.clone(),
                    message: "a new file would overwrite a snapshot file".into(),
                });
            } else {
                out.insert(dest, text.clone().into_bytes());
            }
        }
    }
    for (name, edits) in &by_file {
        let created = edits.iter().all(|e| matches!(e.op, patch::Op::Create(_)));
        if *name != "*" && !created && !files.iter().any(|f| f.name == *name) {
            errors.push(PatchError {
                file: (*name).to_owned(),
                message: "an edit names a file that is not part of the snapshot".into(),
            });
        }
    }
    (out, errors)
}

fn apply_sh(plan: &Plan) -> String {
    let mut s = String::from(
        "#!/usr/bin/env bash\n\
         # Written by `emrguard fix`. Review every command (and README.md) before running it;\n\
         # emrguard never runs them. Paths are relative to this directory.\n\
         set -euo pipefail\n\
         cd \"$(dirname \"$0\")\"\n",
    );
    if let Some(v) = &plan.values {
        s.push_str(&format!(
            "# Estate: cluster {}, account {}, region {}.\n",
            v.cluster(),
            v.account(),
            v.region()
        ));
        if v.region.is_some() {
            s.push_str(&format!("export AWS_REGION={}\n", sh(v.region())));
        }
    }
    for f in &plan.fixes {
        if f.commands.is_empty() {
            continue;
        }
        s.push_str(&format!(
            "\n# {}: {}\n",
            f.findings.join(" "),
            one_line(&f.title)
        ));
        for d in &f.decisions {
            s.push_str(&format!("# DECIDE: {}\n", one_line(d)));
        }
        for c in &f.commands {
            s.push_str(c);
            s.push('\n');
        }
    }
    s
}

fn one_line(s: &str) -> String {
    s.replace('\n', " ")
}

fn readme(plan: &Plan) -> String {
    let mut s = String::from("# emrguard fix\n\n");
    let n: usize = plan.fixes.iter().map(|f| f.findings.len()).sum();
    s.push_str(&format!(
        "{} change(s) closing {n} finding(s); {} finding(s) need a person (listed at the end).\n\n\
         `apply.sh` holds the commands (review, then run it yourself); `snapshot/` is the input \
         with the changes applied, so `emrguard check snapshot` shows what remains.\n",
        plan.fixes.len(),
        plan.unfixed.len()
    ));
    for f in &plan.fixes {
        s.push_str(&format!("\n## {}\n\n", f.title));
        s.push_str(&format!(
            "Closes: {}\n\n",
            f.findings
                .iter()
                .map(|i| format!("`{i}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        for d in &f.details {
            s.push_str(&format!("- {d}\n"));
        }
        if !f.artifacts.is_empty() {
            s.push_str(&format!(
                "- Files: {}\n",
                f.artifacts
                    .iter()
                    .map(|a| format!("`{}`", a.path))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        for d in &f.decisions {
            s.push_str(&format!("- **Decide:** {d}\n"));
        }
    }
    if !plan.new_findings.is_empty() {
        s.push_str("\n## New findings on the patched snapshot (a fixer defect)\n\n");
        for n in &plan.new_findings {
            s.push_str(&format!("- {n}\n"));
        }
    }
    if !plan.unfixed.is_empty() {
        s.push_str("\n## Not fixed mechanically\n\n");
        for u in &plan.unfixed {
            s.push_str(&format!("- `{}` ({}): {}\n", u.finding, u.rule, u.reason));
        }
    }
    s
}
