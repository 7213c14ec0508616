//! The `emrguard` command line. The only place that prints, reads the terminal or sets up
//! logging; everything it does is a library call.

use clap::{Parser, Subcommand, ValueEnum};
use emrguard_config::Config;
use emrguard_model::{EstateIndex, Severity};
use emrguard_report::{Format, Input, InputError, RenderOptions, Report};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "emrguard", version, about = "Audit and enforce the Amazon EMR on EKS security best practices", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a snapshot (files and directories of aws/kubectl output, manifests, iptables-save
    /// dumps, Dockerfiles) and report findings.
    Check(CheckArgs),
    /// List the rule catalogue.
    Rules {
        #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
        format: RulesFormat,
    },
    /// Print a rule's documentation.
    Explain {
        /// Rule id, e.g. POD001.
        rule: String,
    },
}

#[derive(clap::Args)]
struct CheckArgs {
    /// Snapshot files or directories (read recursively).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[arg(long, short, value_enum, default_value_t = OutFormat::Text)]
    format: OutFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Exit 1 when a finding at or above this severity is reported.
    #[arg(long, default_value = "high", value_parser = parse_severity)]
    fail_on: Severity,
    /// Configuration file (default: ./emrguard.toml when present).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Colour: auto (terminal only, honours NO_COLOR), always or never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Clone, Copy, ValueEnum)]
enum OutFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum RulesFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check(args),
        Command::Rules { format } => rules(format),
        Command::Explain { rule } => explain(&rule),
    }
}

fn load_config(explicit: Option<&Path>) -> Result<Config, String> {
    match explicit {
        Some(p) => Config::load(p).map_err(|e| e.to_string()),
        None => {
            let p = Path::new("emrguard.toml");
            if p.is_file() {
                Config::load(p).map_err(|e| e.to_string())
            } else {
                Ok(Config::default())
            }
        }
    }
}

fn check(args: CheckArgs) -> ExitCode {
    let config = match load_config(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let loaded = emrguard_load::load_paths(&args.paths);
    for e in &loaded.errors {
        eprintln!("error: {e}");
    }
    if !loaded.anything_read() {
        eprintln!(
            "error: nothing could be read from {}",
            args.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return ExitCode::from(2);
    }
    let index = EstateIndex::build(&loaded.snapshot);
    let cx = emrguard_rules::Context {
        index: &index,
        config: &config,
    };
    let findings = emrguard_rules::run(emrguard_rules::registry(), &cx);

    let inputs = loaded
        .inputs
        .into_iter()
        .map(|i| Input {
            file: i.file,
            recognised_as: i.recognised_as,
            objects: i.objects,
            warning: i.warning,
        })
        .collect();
    let errors = loaded
        .errors
        .into_iter()
        .map(|e| InputError {
            file: e.file,
            location: e.location,
            message: e.message,
        })
        .collect();
    let mut report = Report::new(inputs, findings, errors);
    let (account, region) = loaded.snapshot.account_region();
    report.account = account;
    report.region = region;
    report.administrators = declared_administrators(&config);

    let format = match args.format {
        OutFormat::Text => Format::Text,
        OutFormat::Json => Format::Json,
    };
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none(),
    };
    let opts = RenderOptions { color };
    let written = match &args.output {
        Some(path) => std::fs::File::create(path).and_then(|f| {
            let mut w = std::io::BufWriter::new(f);
            emrguard_report::render(&report, format, opts, &mut w)?;
            w.flush()
        }),
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            emrguard_report::render(&report, format, opts, &mut w).and_then(|_| w.flush())
        }
    };
    if let Err(e) = written {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write the report: {e}");
            return ExitCode::from(2);
        }
    }
    if report.failing(args.fail_on) > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn declared_administrators(c: &Config) -> Vec<String> {
    let a = &c.administrators;
    let mut out = Vec::new();
    out.extend(a.kubernetes_users.iter().map(|u| format!("User {u}")));
    out.extend(a.kubernetes_groups.iter().map(|g| format!("Group {g}")));
    out.extend(
        a.kubernetes_service_accounts
            .iter()
            .map(|s| format!("ServiceAccount {s}")),
    );
    out.extend(a.iam_arns.iter().map(|r| format!("IAM {r}")));
    out
}

fn rules(format: RulesFormat) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let r = match format {
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

fn explain(id: &str) -> ExitCode {
    let Some(rule) = emrguard_rules::find(id) else {
        eprintln!("error: no rule `{id}`; `emrguard rules` lists them");
        return ExitCode::from(2);
    };
    let m = rule.meta();
    println!("# {} {}\n", m.id, m.title);
    println!(
        "practice: {}  ·  default severity: {}  ·  name: {}\n",
        m.practice.slug(),
        m.severity,
        m.name
    );
    print!("{}", m.documentation());
    ExitCode::SUCCESS
}
