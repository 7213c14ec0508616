//! `emrguard usage SNAPSHOT... [--role ROLE] [--since/--until] [--format text|json|markdown]`:
//! what each execution role was granted against what its jobs used (CloudTrail, Athena usage
//! summaries), and the least-privilege policy from usage.

use clap::ValueEnum;
use emrguard_usage::policy::{GeneratedPolicy, PolicyOptions, INLINE_ROLE_POLICY_LIMIT};
use emrguard_usage::stream::{aggregate_files, is_cloudtrail_file};
use emrguard_usage::{analyze, least_privilege_policy, Aggregate, Options, UsageReport, Window};
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct UsageArgs {
    /// Snapshot files or directories: CloudTrail log files (`.json`/`.json.gz`, streamed),
    /// Athena usage summaries (CSV or `get-query-results` JSON), `get-event-selectors`
    /// output, IAM authorization details, EMR job runs, ...
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Only this role (name or ARN); repeatable.
    #[arg(long)]
    role: Vec<String>,
    /// Window start (ISO 8601 time or date, inclusive).
    #[arg(long)]
    since: Option<String>,
    /// Window end (a date includes the whole day).
    #[arg(long)]
    until: Option<String>,
    #[arg(long, short, value_enum, default_value_t = UsageFormat::Text)]
    format: UsageFormat,
    /// Also grant in the generated policy what was denied (needed but missing).
    #[arg(long)]
    include_denied: bool,
    /// Size limit of the generated policy (characters without whitespace; IAM's inline
    /// quota of a role is 10240, a managed policy's 6144).
    #[arg(long, default_value_t = INLINE_ROLE_POLICY_LIMIT)]
    max_policy_chars: usize,
}

#[derive(Clone, Copy, ValueEnum)]
enum UsageFormat {
    Text,
    Json,
    Markdown,
}

pub fn run(args: UsageArgs) -> ExitCode {
    let (files, errors) = emrguard_load::collect_files(&args.paths);
    for e in &errors {
        eprintln!("error: {e}");
    }
    // CloudTrail log files are streamed (no whole-file load); the rest goes to the loader.
    let (trail, other): (Vec<PathBuf>, Vec<PathBuf>) =
        files.into_iter().partition(|f| is_cloudtrail_file(f));
    let window = Window {
        since: args.since.clone(),
        until: args.until.clone(),
    };
    let loaded = emrguard_load::load_paths(&other);
    for e in &loaded.errors {
        eprintln!("error: {e}");
    }
    let (mut agg, stream_errors) = aggregate_files(&trail, &window);
    for e in &stream_errors {
        eprintln!("error: {}: {}", e.file, e.message);
    }
    if trail.is_empty() && !loaded.anything_read() {
        eprintln!("error: nothing could be read from the snapshot");
        return ExitCode::from(2);
    }
    agg.merge(Aggregate::from_snapshot(&loaded.snapshot, &window));
    let opts = Options {
        roles: args.role.clone(),
        window,
    };
    let report = analyze(&loaded.snapshot, &agg, &opts);
    let popts = PolicyOptions {
        max_chars: args.max_policy_chars,
        include_denied: args.include_denied,
    };
    let policies: Vec<GeneratedPolicy> = report
        .roles
        .iter()
        .map(|r| least_privilege_policy(r, &popts))
        .collect();
    let out = match args.format {
        UsageFormat::Json => {
            let v = serde_json::json!({"usage": report, "policies": policies});
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
        UsageFormat::Text => text(&report, &policies, false, popts.max_chars),
        UsageFormat::Markdown => text(&report, &policies, true, popts.max_chars),
    };
    let mut stdout = std::io::stdout().lock();
    if stdout.write_all(out.as_bytes()).is_err() {
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}

fn list(v: &[String], max: usize) -> String {
    if v.len() <= max {
        v.join(", ")
    } else {
        let head: Vec<&str> = v.iter().take(max).map(String::as_str).collect();
        format!("{} (+{} more)", head.join(", "), v.len() - max)
    }
}

/// Text or Markdown (the same content; Markdown uses tables and code blocks).
fn text(r: &UsageReport, policies: &[GeneratedPolicy], md: bool, limit: usize) -> String {
    let mut s = String::new();
    let h = |s: &mut String, level: usize, t: &str| {
        if md {
            let _ = writeln!(s, "{} {t}\n", "#".repeat(level));
        } else {
            let _ = writeln!(s, "{t}");
        }
    };
    h(&mut s, 1, "emrguard usage");
    let _ = writeln!(
        s,
        "Window: {} ({} events, {} not made as IAM roles). Coverage: {}. Operations table: {}.\n",
        r.window_text(),
        r.events,
        r.events_not_by_roles,
        r.coverage,
        r.operations_table
    );
    for (role, pol) in r.roles.iter().zip(policies) {
        h(
            &mut s,
            2,
            &format!("Role {} ({})", role.role_name, role.role_arn),
        );
        let callers: Vec<String> = role
            .callers
            .iter()
            .map(|c| match &c.virtual_cluster_id {
                Some(vc) => format!("{} [{} {}, vc {vc}]", c.label(), c.service_account, c.via),
                None => format!("{} [{} {}]", c.label(), c.service_account, c.via),
            })
            .collect();
        let _ = writeln!(
            s,
            "{} events; callers: {}; {} job run(s) started in the window{}\n",
            role.events,
            if callers.is_empty() {
                "unknown (no credential issue in the logs)".to_owned()
            } else {
                callers.join(", ")
            },
            role.job_runs.len(),
            if role.in_snapshot {
                ""
            } else {
                "; the role's policies are not in the snapshot: grants not classified"
            }
        );
        let rows = |s: &mut String, title: &str, uses: &[emrguard_usage::Use]| {
            if uses.is_empty() {
                return;
            }
            if md {
                let _ = writeln!(s, "| {title} | resource | count | first seen | last seen | event | callers |\n|---|---|---|---|---|---|---|");
            } else {
                let _ = writeln!(s, "  {title}:");
            }
            for u in uses {
                let mut res = u.resource.clone();
                if !u.s3_prefixes.is_empty() {
                    let p: Vec<String> = u.s3_prefixes.iter().cloned().collect();
                    let _ = write!(res, " (s3:prefix {})", list(&p, 5));
                }
                let callers: Vec<String> = u.callers.iter().cloned().collect();
                if md {
                    let _ = writeln!(
                        s,
                        "| `{}` | `{}` | {} | {} | {} | {} | {} |",
                        u.action,
                        res,
                        u.count,
                        u.first_seen,
                        u.last_seen,
                        u.event_id,
                        callers.join(", ")
                    );
                } else {
                    let _ = writeln!(
                        s,
                        "    {:<32} {}  ×{}  {} … {}  event {}  {}",
                        u.action,
                        res,
                        u.count,
                        u.first_seen,
                        u.last_seen,
                        u.event_id,
                        callers.join(", ")
                    );
                }
            }
            let _ = writeln!(s);
        };
        rows(&mut s, "used", &role.used);
        rows(&mut s, "denied (needed but missing)", &role.denied);
        let mut unused = Vec::new();
        let mut unobservable = Vec::new();
        for g in &role.grants {
            let at = format!(
                "{} {} on {}{}",
                g.policy,
                g.statement,
                g.resource,
                if g.conditional { " (conditional)" } else { "" }
            );
            if !g.unused.is_empty() {
                unused.push(format!("{at}: {}", list(&g.unused, 12)));
            }
            if !g.unobservable.is_empty() {
                unobservable.push(format!("{at}: {}", list(&g.unobservable, 12)));
            }
        }
        let bullets = |s: &mut String, title: String, v: &[String]| {
            if v.is_empty() {
                return;
            }
            let _ = writeln!(s, "{}{title}:", if md { "" } else { "  " });
            for x in v {
                let _ = writeln!(s, "{}- {x}", if md { "" } else { "    " });
            }
            let _ = writeln!(s);
        };
        bullets(
            &mut s,
            format!(
                "granted but unused in the window ({} action(s))",
                role.unused_count()
            ),
            &unused,
        );
        bullets(
            &mut s,
            format!(
                "unobservable: the trail logs no data events there ({} action(s))",
                role.unobservable_count()
            ),
            &unobservable,
        );
        let drift: Vec<String> = role
            .drift
            .iter()
            .map(|d| {
                format!(
                    "{} on {} first used {} (event {}), after {} at {} (job run {})",
                    d.action,
                    d.resource,
                    d.first_seen,
                    d.event_id,
                    d.change,
                    d.changed_at,
                    d.job_run_id
                )
            })
            .collect();
        bullets(&mut s, "drift".to_owned(), &drift);
        let _ = writeln!(
            s,
            "{}least-privilege policy from usage ({} chars of {}{}{}):",
            if md { "" } else { "  " },
            pol.size,
            limit,
            match pol.coarsening {
                0 => "",
                1 => "; prefixes widened to their first segment to fit",
                _ => "; prefixes widened to whole buckets to fit",
            },
            if pol.fits { "" } else { "; DOES NOT FIT" }
        );
        let doc = serde_json::to_string_pretty(&pol.document).unwrap_or_default();
        if md {
            let _ = writeln!(s, "```json\n{doc}\n```\n");
        } else {
            let _ = writeln!(s, "{doc}\n");
        }
    }
    if !r.unmapped.is_empty() {
        h(
            &mut s,
            2,
            "Events not mapped to IAM actions (listed, not guessed)",
        );
        for u in &r.unmapped {
            let _ = writeln!(
                s,
                "{}- {} {} ×{} (event {})",
                if md { "" } else { "  " },
                u.event_source,
                u.event_name,
                u.count,
                u.event_id
            );
        }
    }
    s
}
