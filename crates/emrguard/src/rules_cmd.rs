//! `emrguard rules`: the catalogue as a table, JSON, or Markdown (one document on standard
//! output, or `docs/rules/` with `--output-dir`).

use clap::ValueEnum;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct RulesArgs {
    #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
    format: RulesFormat,
    /// With `--format markdown`: write README.md (the index) and one <ID>.md per rule into DIR
    /// (stale rule pages are removed), as checked in under docs/rules.
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RulesFormat {
    Text,
    Json,
    Markdown,
}

/// `NET001.md` and the like: pages this command owns in an output directory.
fn is_rule_page(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".md") else {
        return false;
    };
    let letters = stem.chars().take_while(char::is_ascii_uppercase).count();
    letters > 0
        && stem.len() == letters + 3
        && stem.chars().skip(letters).all(|c| c.is_ascii_digit())
}

fn write_dir(dir: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let files = emrguard_report::docs::files();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_rule_page(&name) && !files.iter().any(|(n, _)| *n == name) {
            std::fs::remove_file(entry.path())?;
        }
    }
    for (name, text) in &files {
        let path = dir.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(path, text)?;
        }
    }
    Ok(files.len())
}

pub fn run(args: RulesArgs) -> ExitCode {
    if let Some(dir) = &args.output_dir {
        if args.format != RulesFormat::Markdown {
            eprintln!("error: --output-dir needs --format markdown");
            return ExitCode::from(2);
        }
        return match write_dir(dir) {
            Ok(n) => {
                eprintln!("wrote {n} files to {}", dir.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {}: {e}", dir.display());
                ExitCode::from(2)
            }
        };
    }
    let mut out = std::io::stdout().lock();
    let r = match args.format {
        RulesFormat::Text => emrguard_rules::registry().iter().try_for_each(|r| {
            let m = r.meta();
            writeln!(
                out,
                "{:<8} {:<17} {:<9} {}",
                m.id,
                m.practice.slug(),
                m.severity.as_str(),
                m.title
            )
        }),
        RulesFormat::Json => {
            let list: Vec<serde_json::Value> = emrguard_rules::registry()
                .iter()
                .map(|r| {
                    let m = r.meta();
                    serde_json::json!({"id": m.id, "name": m.name, "practice": m.practice, "severity": m.severity, "title": m.title})
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &list)
                .map_err(std::io::Error::other)
                .and_then(|_| writeln!(out))
        }
        RulesFormat::Markdown => out.write_all(emrguard_report::docs::catalogue().as_bytes()),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_pages() {
        assert!(is_rule_page("NET001.md"));
        assert!(is_rule_page("RBAC012.md"));
        assert!(!is_rule_page("README.md"));
        assert!(!is_rule_page("NET01.md"));
        assert!(!is_rule_page("net001.md"));
    }
}
