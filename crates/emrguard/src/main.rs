//! The `emrguard` command line. The only place that prints, reads the terminal or sets up
//! logging; everything it does is a library call.

mod check;
mod fix;
mod generate;
mod rules_cmd;
mod serve;
mod usage;
mod who_can;

use clap::{Parser, Subcommand};
use emrguard_config::Config;
use std::path::Path;
use std::process::ExitCode;

// malloc/free were a fifth of a large `check` with the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    Check(check::CheckArgs),
    /// Write the change that closes each finding: DIR/apply.sh (commands, never run by
    /// emrguard), artifacts (policies, manifests, launch-template data), DIR/snapshot/ (the
    /// snapshot with the fixes applied, re-checked) and DIR/README.md.
    Fix(fix::FixArgs),
    /// List the rule catalogue (`--format markdown --output-dir docs/rules` writes the docs).
    Rules(rules_cmd::RulesArgs),
    /// Print a rule's documentation.
    Explain {
        /// Rule id, e.g. POD001.
        rule: String,
    },
    /// Who may VERB RESOURCE (an offline `kubectl who-can`): the subjects, the IAM principals
    /// behind them (aws-auth, access entries) and the granting path.
    WhoCan(who_can::WhoCanArgs),
    /// Run the validating admission webhook: deny in real time what `check` reports (exec into
    /// EMR pods, pods and RBAC grants in EMR namespaces, ...), over HTTPS.
    Serve(serve::ServeArgs),
    /// Generate manifests: `webhook` (run `serve` in the cluster), `admission-policy`
    /// (ValidatingAdmissionPolicies, no webhook).
    #[command(subcommand)]
    Generate(generate::GenerateCmd),
    /// What each execution role was granted against what its jobs used (CloudTrail, Athena
    /// usage summaries), per role, component and namespace, and the least-privilege policy
    /// from usage.
    Usage(usage::UsageArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::Fix(args) => fix::run(args),
        Command::Rules(args) => rules_cmd::run(args),
        Command::Explain { rule } => explain(&rule),
        Command::WhoCan(args) => who_can::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Generate(cmd) => generate::run(cmd),
        Command::Usage(args) => usage::run(args),
    }
}

fn load_config(explicit: Option<&Path>) -> Result<Config, String> {
    match explicit {
        Some(p) => Config::load_checked(p, &check::check_rule_ref).map_err(|e| e.to_string()),
        None => {
            let p = Path::new("emrguard.toml");
            if p.is_file() {
                Config::load_checked(p, &check::check_rule_ref).map_err(|e| e.to_string())
            } else {
                Ok(Config::default())
            }
        }
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
