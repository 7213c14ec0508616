//! `emrguard fix`: run the rules as `check` does (same configuration, selection and
//! suppressions), plan the fixes (`emrguard_fix`), write the output directory, then re-check the
//! patched snapshot and keep only the claims it confirms.

use emrguard_config::suppress::{self, Active};
use emrguard_config::Date;
use emrguard_fix::output::SnapshotFile;
use emrguard_model::{EstateIndex, Finding};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Rules whose findings mean EMR stops working; a fix must never cause one.
pub const EMR_BREAKING: &[&str] = &["RBAC012", "POD005", "IAM011"];

#[derive(clap::Args)]
pub struct FixArgs {
    /// Snapshot files or directories (read recursively), as for `check`.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Where to write apply.sh, README.md, artifacts/ and snapshot/ (created; files in it are
    /// overwritten).
    #[arg(long, short = 'o', value_name = "DIR")]
    output_dir: PathBuf,
    /// Configuration file (default: ./emrguard.toml when present).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Fix only the findings of these rules (ids, prefixes or practices), as in `check`.
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    select: Vec<String>,
    /// Leave the findings of these rules alone, in addition to the config's `ignore`.
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    ignore: Vec<String>,
    /// Print nothing on standard error but errors.
    #[arg(long, short)]
    quiet: bool,
}

/// Findings of `rules` on the snapshot under `paths`, with config and annotation suppressions
/// applied (as `check` applies them).
fn findings_of(
    paths: &[PathBuf],
    config: &emrguard_config::Config,
    rules: &[&'static dyn emrguard_rules::Rule],
) -> Result<(Vec<Finding>, Vec<String>), String> {
    let loaded = emrguard_load::load_paths(paths);
    let errors: Vec<String> = loaded.errors.iter().map(|e| e.to_string()).collect();
    if !loaded.anything_read() {
        return Err("nothing could be read".into());
    }
    let index = EstateIndex::build(&loaded.snapshot);
    let cx = emrguard_rules::Context::new(&index, config);
    let mut findings = emrguard_rules::run(rules, &cx);
    let mut sups: Vec<Active> = config
        .suppressions
        .iter()
        .map(|s| Active::from_config("emrguard.toml", s))
        .collect();
    if config.annotation_suppressions {
        sups.extend(crate::check::annotations::collect(&loaded.snapshot.k8s).0);
    }
    suppress::apply(&mut findings, &sups, Date::today());
    Ok((findings, errors))
}

pub fn run(args: FixArgs) -> ExitCode {
    let config = match crate::load_config(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let select = if args.select.is_empty() {
        config.select.clone()
    } else {
        args.select.clone()
    };
    let mut ignore = config.ignore.clone();
    ignore.extend(args.ignore.iter().cloned());
    let rules = match emrguard_rules::select(&select, &ignore) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: --select/--ignore: {e}");
            return ExitCode::from(2);
        }
    };
    // The whole catalogue re-checks the patched snapshot: a fix must not raise a finding of a
    // rule the selection left out either.
    let all_rules: Vec<&'static dyn emrguard_rules::Rule> = emrguard_rules::registry().to_vec();

    // The snapshot, as `check` loads it.
    let loaded = emrguard_load::load_paths(&args.paths);
    for e in &loaded.errors {
        eprintln!("error: {e}");
    }
    if !loaded.anything_read() {
        eprintln!("error: nothing could be read from the snapshot");
        return ExitCode::from(2);
    }
    let index = EstateIndex::build(&loaded.snapshot);
    let cx = emrguard_rules::Context::new(&index, &config);
    let mut every = emrguard_rules::run(&all_rules, &cx);
    let mut sups: Vec<Active> = config
        .suppressions
        .iter()
        .map(|s| Active::from_config("emrguard.toml", s))
        .collect();
    if config.annotation_suppressions {
        sups.extend(crate::check::annotations::collect(&loaded.snapshot.k8s).0);
    }
    suppress::apply(&mut every, &sups, Date::today());
    let before_all: BTreeSet<String> = every.iter().map(|f| f.id.clone()).collect();
    let selected: BTreeSet<&str> = rules.iter().map(|r| r.meta().id).collect();
    let findings: Vec<Finding> = every
        .into_iter()
        .filter(|f| selected.contains(f.rule.as_str()))
        .collect();
    let mut plan = emrguard_fix::plan(&cx, &findings);

    let files = match snapshot_files(&args.paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let (mut out, patch_errors) = emrguard_fix::output::render(&plan, &files);
    for e in &patch_errors {
        eprintln!("warning: the snapshot copy could not be patched: {e}");
    }
    if let Err(e) = write_all(&args.output_dir, &out) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }

    // Re-check the patched copy: keep only the claims it confirms; report what appeared.
    let patched = vec![args.output_dir.join("snapshot")];
    let after = match findings_of(&patched, &config, &all_rules) {
        Ok((f, _)) => f,
        Err(e) => {
            eprintln!("error: the patched snapshot: {e}");
            return ExitCode::from(2);
        }
    };
    let remaining: BTreeSet<&str> = after.iter().map(|f| f.id.as_str()).collect();
    let unconfirmed = emrguard_fix::confirm(&mut plan, &remaining);
    let new: Vec<&Finding> = after
        .iter()
        .filter(|f| !before_all.contains(&f.id))
        .collect();
    let broken: Vec<&Finding> = new
        .iter()
        .copied()
        .filter(|f| EMR_BREAKING.contains(&f.rule.as_str()))
        .collect();
    plan.new_findings = new
        .iter()
        .map(|f| format!("{} ({}): {}", f.id, f.rule, f.message))
        .collect();
    // README and apply.sh again, with the confirmed claims.
    let (again, _) = emrguard_fix::output::render(&plan, &files);
    for k in ["README.md", "apply.sh"] {
        if let Some(v) = again.get(k) {
            out.insert(k.to_owned(), v.clone());
        }
    }
    if let Err(e) = write_all(&args.output_dir, &out) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let open = findings.iter().filter(|f| !f.suppressed).count();
    let fixed = plan.claimed().len();
    if !args.quiet {
        for id in &unconfirmed {
            eprintln!("warning: {id}: the change did not close it on the patched snapshot; listed as not fixed");
        }
        for f in &new {
            eprintln!(
                "warning: the patched snapshot has a new finding {} ({}): {}",
                f.id, f.rule, f.message
            );
        }
        eprintln!(
            "{fixed} of {open} findings fixed by {} changes; {} written (apply.sh, README.md, snapshot/)",
            plan.fixes.len(),
            args.output_dir.display()
        );
    }
    if !broken.is_empty() || !new.is_empty() {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// Every input file with its bytes and where its copy goes under `snapshot/`: relative to the
/// directory given, or (for several inputs) under that input's own name.
fn snapshot_files(paths: &[PathBuf]) -> Result<Vec<SnapshotFile>, String> {
    let mut out = Vec::new();
    let several = paths.len() > 1;
    for (i, p) in paths.iter().enumerate() {
        let (files, errors) = emrguard_load::collect_files(std::slice::from_ref(p));
        if let Some(e) = errors.first() {
            return Err(e.to_string());
        }
        let base_name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| format!("input-{i}"));
        for f in files {
            let rel = if p.is_dir() {
                f.strip_prefix(p).unwrap_or(&f).to_path_buf()
            } else {
                PathBuf::from(f.file_name().unwrap_or_default())
            };
            let rel = rel.to_string_lossy().replace('\\', "/");
            let dest = if several {
                format!("{base_name}/{rel}")
            } else {
                rel
            };
            let data = std::fs::read(&f).map_err(|e| format!("{}: {e}", f.display()))?;
            out.push(SnapshotFile {
                name: f.display().to_string(),
                dest,
                data,
            });
        }
    }
    Ok(out)
}

fn write_all(
    dir: &Path,
    files: &std::collections::BTreeMap<String, Vec<u8>>,
) -> Result<(), String> {
    for (rel, data) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, data).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        #[cfg(unix)]
        if rel == "apply.sh" {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755));
        }
    }
    Ok(())
}
