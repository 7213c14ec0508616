use crate::infra::docker::{assignments, at, content_key, dockerfile_ref, file_name, step_masked};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::{Finding, Severity};

declare_rule! {
    /// ## What it checks
    /// `ENV` and `ARG` instructions of Dockerfiles that bake secrets into the image: a variable
    /// whose name says it holds a secret (`*SECRET*`, `*PASSWORD*`, `*PASSWD*`, `*TOKEN*`,
    /// `*API_KEY*`, `*APIKEY*`, `*ACCESS_KEY*`, `*PRIVATE_KEY*`, `*CREDENTIAL*`) set to a literal
    /// value, or any value shaped like an AWS access key id (`AKIA…`/`ASIA…` and 16 more
    /// characters). Values that only reference another variable (`$X`), and names or values
    /// that point at a secret instead of holding it (`*_ARN`, `*_FILE`, `*_URL`, `arn:…`, paths)
    /// are ignored. An `ARG`
    /// with a secret-looking name and no default is reported at medium severity: build
    /// arguments are recorded in the image history. Values are masked in the report.
    ///
    /// ## Why it matters
    /// Image layers and metadata are readable by anyone who can pull the image (and by every
    /// job that runs it): `docker inspect` prints `ENV`, `docker history` prints build
    /// arguments. Static AWS keys in an EMR image also bypass the execution role entirely, so
    /// IRSA, Pod Identity and the execution-role controls no longer say what the job can do.
    ///
    /// ## Example
    /// ```dockerfile
    /// ENV AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
    /// ENV AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
    /// ```
    ///
    /// ## Remediation
    /// Remove the values and rotate the credentials now (they are in every copy of the image).
    /// Give the job its AWS access through its execution role; read other secrets at run time
    /// (Secrets Manager through the execution role, or the Secrets Store CSI driver); use
    /// `RUN --mount=type=secret` for build-time secrets.
    ///
    /// ## References
    /// - aws-emr-containers-best-practices, security: "Secrets" (avoid environment variables)
    /// - Dockerfile reference, "ARG" (build arguments are visible in the image history) and "RUN --mount=type=secret"
    pub struct DockerfileSecretInEnv;
    id = "IMG010", name = "dockerfile-secret-in-env", practice = ImageUpdates, severity = High,
    title = "Dockerfile bakes a secret into the image",
}

const SECRET_WORDS: [&str; 9] = [
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "ACCESS_KEY",
    "PRIVATE_KEY",
    "CREDENTIAL",
];

/// Names that point at a secret rather than hold one (`DB_SECRET_ARN`, `TOKEN_FILE`).
const REFERENCE_SUFFIXES: [&str; 9] = [
    "_ARN",
    "_URL",
    "_URI",
    "_FILE",
    "_PATH",
    "_NAME",
    "_ENDPOINT",
    "_ID",
    "_REGION",
];

fn secret_name(name: &str) -> bool {
    let up = name.to_ascii_uppercase();
    SECRET_WORDS.iter().any(|w| up.contains(w))
        && !REFERENCE_SUFFIXES.iter().any(|s| up.ends_with(s))
}

/// Values that are references, not secrets: ARNs, URLs, paths.
fn reference_value(v: &str) -> bool {
    let l = v.to_ascii_lowercase();
    l.starts_with("arn:") || l.contains("://") || l.starts_with('/')
}

fn aws_key_id(v: &str) -> bool {
    let v = v.trim();
    v.len() == 20
        && (v.starts_with("AKIA") || v.starts_with("ASIA"))
        && v.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Never repeat a secret: only its length (and, for key ids, the public `AKIA`/`ASIA` prefix).
fn mask(v: &str) -> String {
    format!("redacted, {} characters", v.chars().count())
}

fn mask_key_id(v: &str) -> String {
    let prefix: String = v.chars().take(4).collect();
    format!("{prefix}…, redacted")
}

impl Rule for DockerfileSecretInEnv {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for d in &cx.index.snap.dockerfiles {
            for ins in d
                .instructions
                .iter()
                .filter(|i| i.keyword == "ENV" || i.keyword == "ARG")
            {
                for (name, value) in assignments(&ins.args) {
                    let literal = value
                        .as_deref()
                        .map(str::trim)
                        .filter(|v| !v.is_empty() && !v.starts_with('$'));
                    let (sev, what) = match literal {
                        Some(v) if aws_key_id(v) => (
                            Severity::High,
                            format!("sets `{name}` to an AWS access key id ({})", mask_key_id(v)),
                        ),
                        Some(v) if secret_name(&name) && !reference_value(v) => (
                            Severity::High,
                            format!("sets `{name}` to a literal value ({})", mask(v)),
                        ),
                        None if ins.keyword == "ARG" && value.is_none() && secret_name(&name) => (
                            Severity::Medium,
                            format!("declares build argument `{name}`, whose value is recorded in the image history when it is used"),
                        ),
                        _ => continue,
                    };
                    out.push(
                        self.finding(dockerfile_ref(d))
                            .severity(sev)
                            .discriminator(format!("{}:{}:{name}", content_key(d), ins.line))
                            .message(format!(
                                "Dockerfile `{}` line {} ({}) {what}: anyone who can pull the image, and every job that runs it, can read it.",
                                file_name(d),
                                ins.line,
                                ins.keyword
                            ))
                            .remediation(format!(
                                "Remove `{name}` from the Dockerfile and rotate the credential. Give the job AWS access through its execution role (IRSA or Pod Identity); read other secrets at run time (Secrets Manager, Secrets Store CSI driver); use `RUN --mount=type=secret,id=...` for build-time secrets."
                            ))
                            .step(step_masked(d, ins, &name))
                            .location(&at(d, ins))
                            .build(),
                    );
                }
            }
        }
        out
    }
}
