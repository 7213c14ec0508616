//! `emrguard generate`: manifests that enforce what `check` audits.

use crate::serve::{admission_config, cluster_state};
use emrguard_admission::generate::{admission_policy_manifests, webhook_manifests, WebhookOptions};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum GenerateCmd {
    /// Manifests to run `emrguard serve` in the cluster: Namespace, ServiceAccount with
    /// read-only RBAC, Deployment, PodDisruptionBudget, Service, ValidatingWebhookConfiguration
    /// (and a cert-manager Certificate with --cert-manager).
    Webhook(WebhookArgs),
    /// ValidatingAdmissionPolicies (+ bindings) for the rules decidable from the request alone,
    /// for clusters that prefer no webhook.
    AdmissionPolicy(CommonArgs),
}

#[derive(clap::Args)]
pub struct CommonArgs {
    /// Configuration file (default: ./emrguard.toml when present).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Snapshot folder: its virtual clusters name the EMR namespaces.
    #[arg(long, value_name = "DIR")]
    snapshot: Option<PathBuf>,
    /// An EMR namespace (repeatable), besides the snapshot's and the configuration's.
    #[arg(long = "emr-namespace", value_name = "NS")]
    emr_namespaces: Vec<String>,
    /// Write to FILE instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct WebhookArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Namespace the webhook runs in.
    #[arg(long, default_value = "emrguard-system")]
    namespace: String,
    /// Container image of emrguard (build one with the repository's Dockerfile; pin a digest,
    /// e.g. registry.example.com/emrguard@sha256:...).
    #[arg(long, default_value = "emrguard:latest", value_name = "IMAGE")]
    image: String,
    #[arg(long, default_value_t = 2)]
    replicas: u32,
    /// Fail (refuse while no replica answers; recommended) or Ignore (admit everything then).
    /// Fail needs a CA source (--cert-manager or --ca-bundle): without one the API server
    /// cannot call the webhook, so every matched request would be refused; emrguard refuses to
    /// print such manifests.
    #[arg(long, value_parser = ["Fail", "Ignore"], default_value = "Fail")]
    failure_policy: String,
    /// Issue the serving certificate with cert-manager.
    #[arg(long)]
    cert_manager: bool,
    /// PEM CA bundle for the webhook's clientConfig.caBundle (without cert-manager).
    #[arg(long, value_name = "FILE")]
    ca_bundle: Option<PathBuf>,
    /// Do not emit the Namespace objects that label the EMR namespaces.
    #[arg(long)]
    no_label_namespaces: bool,
}

fn emit(text: &str, output: Option<&PathBuf>) -> ExitCode {
    let r = match output {
        Some(p) => std::fs::write(p, text),
        None => {
            use std::io::Write;
            std::io::stdout().lock().write_all(text.as_bytes())
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

fn inputs(
    c: &CommonArgs,
) -> Result<
    (
        emrguard_admission::AdmissionConfig,
        emrguard_admission::ClusterState,
    ),
    String,
> {
    let mut cfg = admission_config(c.config.as_deref())?;
    cfg.settings
        .emr_namespaces
        .extend(c.emr_namespaces.iter().cloned());
    let state = cluster_state(c.snapshot.as_deref(), &cfg)?;
    Ok((cfg, state))
}

pub fn run(cmd: GenerateCmd) -> ExitCode {
    match cmd {
        GenerateCmd::Webhook(a) => {
            let (cfg, state) = match inputs(&a.common) {
                Ok(x) => x,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            // A `Fail` webhook the API server cannot verify refuses every request it matches
            // (exec, pod creation in EMR namespaces ...): refuse to print one.
            if a.failure_policy == "Fail" && !a.cert_manager && a.ca_bundle.is_none() {
                eprintln!(
                    "error: --failure-policy Fail needs a CA source: the API server must verify the webhook's certificate, \
                     or every exec and pod creation in EMR namespaces is refused. Give --cert-manager (cert-manager issues \
                     the certificate and injects its CA) or --ca-bundle FILE (the PEM CA of the certificate in Secret \
                     {}/emrguard-tls), or --failure-policy Ignore to enforce nothing while the webhook is unreachable",
                    a.namespace
                );
                return ExitCode::from(2);
            }
            let ca_bundle_pem = match &a.ca_bundle {
                Some(p) => match std::fs::read_to_string(p) {
                    Ok(s) => Some(s),
                    Err(e) => {
                        eprintln!("error: {}: {e}", p.display());
                        return ExitCode::from(2);
                    }
                },
                None => None,
            };
            if let Some(pem) = &ca_bundle_pem {
                if !pem.contains("-----BEGIN CERTIFICATE-----") {
                    eprintln!(
                        "error: {}: not a PEM certificate (no BEGIN CERTIFICATE line)",
                        a.ca_bundle
                            .as_ref()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default()
                    );
                    return ExitCode::from(2);
                }
            }
            let o = WebhookOptions {
                namespace: a.namespace,
                name: "emrguard".into(),
                image: a.image,
                replicas: a.replicas,
                failure_policy: a.failure_policy,
                cert_manager: a.cert_manager,
                ca_bundle_pem,
                label_namespaces: !a.no_label_namespaces,
            };
            emit(
                &webhook_manifests(&cfg, &state, &o),
                a.common.output.as_ref(),
            )
        }
        GenerateCmd::AdmissionPolicy(c) => match inputs(&c) {
            Ok((cfg, state)) => emit(&admission_policy_manifests(&cfg, &state), c.output.as_ref()),
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
    }
}
