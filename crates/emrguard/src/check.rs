//! `emrguard check`: load the snapshot, index it, run the selected rules, apply suppressions
//! and the baseline, render the report, and choose the exit code.

pub(crate) mod annotations;
pub mod coverage;
mod loading;

use clap::ValueEnum;
use emrguard_config::suppress::{self, Active, Origin};
use emrguard_config::{Date, RuleRefKind};
use emrguard_model::{EstateIndex, Severity};
use emrguard_report::{
    Baseline, Format, Input, InputError, RenderOptions, Report, RuleRun, SuppressionKind,
    SuppressionRecord,
};
use std::io::{IsTerminal, Write};
use std::mem::ManuallyDrop;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Snapshot files or directories (read recursively).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[arg(long, short, value_enum, default_value_t = OutFormat::Text)]
    format: OutFormat,
    /// Write the report to FILE instead of standard output; FORMAT=FILE (e.g.
    /// `sarif=out.sarif`) writes that format there. Repeatable: one run, several reports.
    #[arg(long, short, value_name = "[FORMAT=]FILE", value_parser = parse_output)]
    output: Vec<(Option<OutFormat>, PathBuf)>,
    /// Exit 1 when a finding at or above this severity is reported (and neither suppressed
    /// nor in the baseline); `none`: findings never fail the run.
    #[arg(long, default_value = "high", value_parser = parse_fail_on)]
    fail_on: FailOn,
    /// Show only findings at or above this severity (all are still counted in the summary
    /// table and for the exit code).
    #[arg(long, value_parser = parse_severity, value_name = "SEVERITY")]
    min_severity: Option<Severity>,
    /// One line per finding (text, markdown).
    #[arg(long)]
    compact: bool,
    /// Configuration file (default: ./emrguard.toml when present).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Colour: auto (terminal only, honours NO_COLOR), always or never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Run only these rules: rule ids, id prefixes (RBAC, NET00) or practices; comma-separated
    /// or repeated. Replaces the config's `select`. The most specific reference wins.
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    select: Vec<String>,
    /// Skip these rules (rule ids, id prefixes or practices), in addition to the config's
    /// `ignore`.
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    ignore: Vec<String>,
    /// An earlier JSON report: its findings are marked "baseline" and do not count for the exit
    /// code; only new findings do.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Also write this run's JSON report to FILE, as the baseline of later runs (the run then
    /// exits 0 unless something is an error).
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Time stamped on the report (RFC 3339, e.g. 2026-01-31T12:00:00Z; used by asff). Default:
    /// SOURCE_DATE_EPOCH when set, else now.
    #[arg(long, value_parser = parse_timestamp)]
    timestamp: Option<String>,
    /// Print nothing on standard error but errors (no summary, no warnings).
    #[arg(long, short, conflicts_with = "verbose")]
    quiet: bool,
    /// Exit by the findings alone even when an input was malformed or a practice could not be
    /// evaluated (without it such a run exits 2; the report says what was not covered).
    #[arg(long)]
    allow_partial: bool,
    /// Print the time each phase took (load, index, rules, render) on standard error.
    #[arg(long, short)]
    verbose: bool,
}

/// `--fail-on`: a severity, or none.
#[derive(Clone, Copy, Debug)]
struct FailOn(Option<Severity>);

fn parse_fail_on(s: &str) -> Result<FailOn, String> {
    if s.eq_ignore_ascii_case("none") {
        Ok(FailOn(None))
    } else {
        s.parse().map(|x| FailOn(Some(x)))
    }
}

/// `FILE` or `FORMAT=FILE` (only when FORMAT is a format name, so `a=b.json` stays a path).
fn parse_output(s: &str) -> Result<(Option<OutFormat>, PathBuf), String> {
    if let Some((f, file)) = s.split_once('=') {
        if let Ok(format) = OutFormat::from_str(f, true) {
            if file.is_empty() {
                return Err(format!("`{s}`: no file after `{f}=`"));
            }
            return Ok((Some(format), PathBuf::from(file)));
        }
    }
    Ok((None, PathBuf::from(s)))
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum OutFormat {
    Text,
    Json,
    Sarif,
    Junit,
    Markdown,
    Html,
    Asff,
}

impl From<OutFormat> for Format {
    fn from(f: OutFormat) -> Format {
        match f {
            OutFormat::Text => Format::Text,
            OutFormat::Json => Format::Json,
            OutFormat::Sarif => Format::Sarif,
            OutFormat::Junit => Format::Junit,
            OutFormat::Markdown => Format::Markdown,
            OutFormat::Html => Format::Html,
            OutFormat::Asff => Format::Asff,
        }
    }
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

fn parse_timestamp(s: &str) -> Result<String, String> {
    emrguard_config::date::check_rfc3339(s).map(str::to_owned)
}

/// Checks a rule reference of the config file against the catalogue.
pub fn check_rule_ref(r: &str, kind: RuleRefKind) -> Result<(), String> {
    match (emrguard_rules::Selector::parse(r)?, kind) {
        (_, RuleRefKind::Selector) | (emrguard_rules::Selector::Rule(_), RuleRefKind::RuleId) => {
            Ok(())
        }
        _ => Err(format!(
            "`{r}` is not a rule id (severity overrides name one rule, e.g. NET002)"
        )),
    }
}

/// Standard-error chatter, per `--quiet` / `--verbose`.
struct Log {
    quiet: bool,
    verbose: bool,
}

impl Log {
    fn warn(&self, msg: &str) {
        if !self.quiet {
            eprintln!("warning: {msg}");
        }
    }
    fn timing(&self, phase: &str, d: Duration, what: &str) {
        if self.verbose {
            let line = format!(
                "timing: {phase:<9} {:>9.1} ms  {what}",
                d.as_secs_f64() * 1000.0
            );
            eprintln!("{}", line.trim_end());
        }
    }
}

fn timestamp(explicit: Option<String>) -> String {
    if let Some(t) = explicit {
        return t;
    }
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(emrguard_config::date::unix_now);
    emrguard_config::date::rfc3339_utc(secs)
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {one}s")
    }
}

pub fn run(args: CheckArgs) -> ExitCode {
    let log = Log {
        quiet: args.quiet,
        verbose: args.verbose,
    };
    let started = Instant::now();

    // Configuration and selection: usage errors come first.
    let t = Instant::now();
    let config = match crate::load_config(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let config_file = args
        .config
        .as_deref()
        .unwrap_or(Path::new("emrguard.toml"))
        .display()
        .to_string();
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
    let baseline = match &args.baseline {
        None => None,
        Some(p) => {
            let file = p.display().to_string();
            match std::fs::read_to_string(p)
                .map_err(|e| format!("{file}: cannot read the baseline: {e}"))
                .and_then(|s| Baseline::parse_findings(&file, &s))
            {
                Ok(known) => Some((file, known)),
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            }
        }
    };
    log.timing("config", t.elapsed(), &plural(rules.len(), "rule"));

    // Load.
    let t = Instant::now();
    let (files, walk_errors) = emrguard_load::collect_files(&args.paths);
    let show = !args.quiet && std::io::stderr().is_terminal() && loading::is_large(&files);
    let pb = loading::bar(show, files.len());
    let loaded = loading::load_files(&files, walk_errors, loading::CHUNK, &pb);
    pb.finish_and_clear();
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
    log.timing(
        "load",
        t.elapsed(),
        &format!(
            "{}, {} kubernetes objects",
            plural(files.len(), "file"),
            loaded.snapshot.k8s.object_count()
        ),
    );

    // Index and rules.
    let spinner = loading::spinner(show, &format!("running {}", plural(rules.len(), "rule")));
    // The snapshot, its index and the engines' results live until the process exits: never
    // dropping them saves freeing millions of small allocations (a tenth of a large run).
    let snapshot = ManuallyDrop::new(loaded.snapshot);
    let t = Instant::now();
    let index = ManuallyDrop::new(EstateIndex::build(&snapshot));
    log.timing("index", t.elapsed(), "");
    let t = Instant::now();
    let cx = ManuallyDrop::new(emrguard_rules::Context::new(&index, &config));
    let mut findings = emrguard_rules::run(&rules, &cx);
    spinner.finish_and_clear();
    log.timing(
        "rules",
        t.elapsed(),
        &format!(
            "{} → {}",
            plural(rules.len(), "rule"),
            plural(findings.len(), "finding")
        ),
    );

    // Suppressions: the config's, then the annotations'.
    let t = Instant::now();
    let mut warnings: Vec<String> = Vec::new();
    let mut sups: Vec<Active> = config
        .suppressions
        .iter()
        .map(|s| Active::from_config(&config_file, s))
        .collect();
    if config.annotation_suppressions {
        let (a, w) = annotations::collect(&snapshot.k8s);
        sups.extend(a);
        warnings.extend(w);
    }
    let today = Date::today();
    let outcome = suppress::apply(&mut findings, &sups, today);
    let mut expired_errors = Vec::new();
    let mut records = Vec::new();
    for (i, s) in sups.iter().enumerate() {
        let expired = outcome.expired.contains(&i);
        let ids: Vec<String> = outcome
            .applied_by
            .iter()
            .zip(&findings)
            .filter(|(a, _)| **a == Some(i))
            .map(|(_, f)| f.id.clone())
            .collect();
        let matched = outcome.matched.get(i).is_some_and(|m| !m.is_empty());
        if expired {
            expired_errors.push(format!(
                "{}: the suppression ({}; reason: {}) expired on {}: renew its `expires` date or remove it",
                s.origin,
                s.describe(),
                s.reason,
                s.expires.map(|d| d.to_string()).unwrap_or_default()
            ));
        } else if !matched
            && rules
                .iter()
                .any(|r| suppress::rule_matches(&s.rule, r.meta().id, r.meta().practice))
        {
            warnings.push(format!(
                "{}: the suppression ({}) matched no finding",
                s.origin,
                s.describe()
            ));
        }
        records.push(SuppressionRecord {
            source: s.origin.to_string(),
            kind: match s.origin {
                Origin::Config { .. } => SuppressionKind::Config,
                Origin::Annotation { .. } => SuppressionKind::Annotation,
            },
            rule: s.rule.clone(),
            resource: s.resource.clone(),
            subject: s.subject.clone(),
            namespace: s.namespace.clone(),
            reason: s.reason.clone(),
            expires: s.expires.map(|d| d.to_string()),
            expired,
            findings: ids,
        });
    }
    log.timing(
        "suppress",
        t.elapsed(),
        &format!(
            "{}, {} suppressed",
            plural(sups.len(), "suppression"),
            findings.iter().filter(|f| f.suppressed).count()
        ),
    );

    // The report.
    let inputs = loaded
        .inputs
        .iter()
        .cloned()
        .map(|i| Input {
            file: i.file,
            recognised_as: i.recognised_as,
            objects: i.objects,
            warning: i.warning,
        })
        .collect();
    let errors: Vec<InputError> = loaded
        .errors
        .into_iter()
        .map(|e| InputError {
            file: e.file,
            location: e.location,
            message: e.message,
        })
        .collect();
    let cov = coverage::compute(&rules, &snapshot, &loaded.inputs, &errors);
    let mut report = ManuallyDrop::new(Report::new(inputs, findings, errors));
    let (account, region) = snapshot.account_region();
    report.account = account;
    report.region = region;
    report.cluster = snapshot.clusters.first().map(|c| c.name.clone());
    report.administrators = crate::declared_administrators(&config);
    report.suppressions = records;
    report.warnings = warnings;
    report.coverage = Some(cov);
    report.rules = rules
        .iter()
        .map(|r| RuleRun {
            meta: r.meta(),
            severity: config
                .severity
                .get(r.meta().id)
                .copied()
                .unwrap_or(r.meta().severity),
        })
        .collect();
    if let Some((file, known)) = baseline {
        report.baseline = Some(Baseline::compare(file, known, &report.findings));
    }

    // Render: to standard output (unless every report goes to a file), and to each file.
    let t = Instant::now();
    let format = Format::from(args.format);
    let outputs: Vec<(Format, PathBuf)> = args
        .output
        .iter()
        .map(|(f, p)| (f.map(Format::from).unwrap_or(format), p.clone()))
        .collect();
    let to_stdout = args.output.iter().all(|(f, _)| f.is_some());
    let to_terminal = to_stdout && std::io::stdout().is_terminal();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none(),
    };
    let opts = RenderOptions {
        color,
        fail_on: args.fail_on.0,
        compact: args.compact,
        timestamp: timestamp(args.timestamp.clone()),
        base_dir: std::env::current_dir()
            .ok()
            .map(|d| d.canonicalize().unwrap_or(d)),
    };
    let failing = if args.write_baseline.is_some() {
        0
    } else {
        report.failing(args.fail_on.0)
    };
    if let Some(path) = &args.write_baseline {
        let mut known = (*report).clone();
        known.baseline = None;
        if let Err(e) = write_file(path, |w| {
            emrguard_report::render(&known, Format::Json, &opts, w)
        }) {
            eprintln!("error: cannot write the baseline {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if let Some(min) = args.min_severity {
        report.keep_at_least(min);
    }
    for (f, path) in &outputs {
        let file_opts = RenderOptions {
            color: matches!(args.color, ColorChoice::Always),
            ..opts.clone()
        };
        if let Err(e) = write_file(path, |w| {
            emrguard_report::render(&report, *f, &file_opts, w)
        }) {
            eprintln!("error: cannot write the report {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if to_stdout {
        let stdout = std::io::stdout();
        let mut w = std::io::BufWriter::new(stdout.lock());
        let written =
            emrguard_report::render(&report, format, &opts, &mut w).and_then(|_| w.flush());
        if let Err(e) = written {
            // A reader that closes the pipe early (`| head`) ends the report quietly; the exit
            // code stays the run's own (findings, coverage), so a gate still sees it.
            if !is_broken_pipe(&e) {
                eprintln!("error: cannot write the report: {e}");
                return ExitCode::from(2);
            }
        }
    }
    log.timing("render", t.elapsed(), format.name());

    // Standard error: warnings, a summary when the report went elsewhere, errors.
    for w in &report.warnings {
        log.warn(w);
    }
    if !log.quiet && (format != Format::Text || !to_stdout || !outputs.is_empty()) {
        let s = &report.summary;
        let mut line = if s.total == 0 {
            "no findings".to_owned()
        } else {
            plural(s.total, "finding")
        };
        match args.fail_on.0 {
            Some(t) => line.push_str(&format!(
                ", {failing} at or above {t} counting for the exit code"
            )),
            None => line.push_str(", none counting for the exit code (--fail-on none)"),
        }
        let suppressed = report.findings.iter().filter(|f| f.suppressed).count();
        if suppressed > 0 {
            line.push_str(&format!(", {suppressed} suppressed"));
        }
        if let Some(b) = &report.baseline {
            line.push_str(&format!(
                ", {} in the baseline, {} fixed",
                b.unchanged.len(),
                b.fixed.len()
            ));
        }
        for (f, p) in &outputs {
            line.push_str(&format!("; {} report written to {}", f.name(), p.display()));
        }
        if let Some(p) = &args.write_baseline {
            line.push_str(&format!("; baseline written to {}", p.display()));
        }
        eprintln!("{line}");
    }
    log.timing("total", started.elapsed(), "");
    if !expired_errors.is_empty() {
        for e in &expired_errors {
            eprintln!("error: {e}");
        }
        return ExitCode::from(2);
    }
    let coverage = report.coverage.as_ref();
    let incomplete = coverage.is_some_and(|c| !c.complete);
    if incomplete && !args.allow_partial {
        if !log.quiet {
            for l in coverage.map(|c| c.warnings()).unwrap_or_default() {
                eprintln!("coverage: {l}");
            }
        }
        eprintln!(
            "error: the check is incomplete ({}): exit 2; --allow-partial exits by the findings alone",
            incomplete_reason(&report)
        );
        return ExitCode::from(2);
    }
    if failing > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `2 unreadable inputs, 3 rules not evaluated`.
fn incomplete_reason(report: &Report) -> String {
    let mut parts = Vec::new();
    if !report.errors.is_empty() {
        parts.push(plural(report.errors.len(), "unreadable input"));
    }
    let n = report.coverage.as_ref().map_or(0, |c| c.not_evaluated());
    if n > 0 {
        parts.push(format!(
            "{} not evaluated",
            if n == 1 {
                "1 rule".to_owned()
            } else {
                format!("{n} rules")
            }
        ));
    }
    parts.join(", ")
}

/// True when `e` (or an error it wraps, e.g. inside serde_json's) is a closed pipe.
fn is_broken_pipe(e: &std::io::Error) -> bool {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return true;
    }
    let mut src: Option<&(dyn std::error::Error + 'static)> = e.get_ref().map(|r| r as _);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::BrokenPipe {
                return true;
            }
        }
        if let Some(j) = s.downcast_ref::<serde_json::Error>() {
            if j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe) {
                return true;
            }
        }
        src = s.source();
    }
    false
}

fn write_file(
    path: &Path,
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let f = std::fs::File::create(path)?;
    let mut w = std::io::BufWriter::new(f);
    render(&mut w)?;
    w.flush()
}
