use crate::infra::docker::{at, content_key, dockerfile_ref, file_name, step};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::aws::emr::shell_words;
use emrguard_model::Finding;

declare_rule! {
    /// ## What it checks
    /// `ADD` instructions of Dockerfiles whose source is a remote URL (`http://`, `https://`,
    /// `ftp://`, `git@…`, `git://`) without `--checksum=` (which makes the build verify the
    /// download).
    ///
    /// ## Why it matters
    /// `ADD <url>` downloads at build time whatever the URL serves then: no checksum, no
    /// signature, no record of what was fetched. A compromised or re-pointed URL (a mutable
    /// `main` branch, a jar server) puts arbitrary code into the Spark image that runs with the
    /// job's execution role, and rebuilds are not reproducible.
    ///
    /// ## Example
    /// ```dockerfile
    /// ADD https://raw.githubusercontent.com/example-org/etl-helpers/main/install.sh /tmp/install.sh
    /// ```
    ///
    /// ## Remediation
    /// Vendor the files into the build context and `COPY` them, verifying a checksum
    /// (`sha256sum -c`); or use `ADD --checksum=sha256:<digest> <url> <dest>`; fetch jars from
    /// an internal artifact repository at a pinned version.
    ///
    /// ## References
    /// - Dockerfile reference, "ADD" (remote sources, `--checksum`)
    /// - EMR on EKS Development Guide, "Custom image considerations" (you are responsible for what you add)
    pub struct DockerfileAddFromUrl;
    id = "IMG009", name = "dockerfile-add-from-url", practice = ImageUpdates, severity = Medium,
    title = "Dockerfile ADDs files from a URL without a checksum",
}

fn remote(src: &str) -> bool {
    let l = src.to_ascii_lowercase();
    ["http://", "https://", "ftp://", "git://", "git@"]
        .iter()
        .any(|p| l.starts_with(p))
}

impl Rule for DockerfileAddFromUrl {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for d in &cx.index.snap.dockerfiles {
            for ins in d.instructions.iter().filter(|i| i.keyword == "ADD") {
                let words = shell_words(&ins.args);
                if words.iter().any(|w| w.starts_with("--checksum")) {
                    continue;
                }
                let args: Vec<&String> = words.iter().filter(|w| !w.starts_with("--")).collect();
                let Some((dest, srcs)) = args.split_last() else {
                    continue;
                };
                let urls: Vec<&str> = srcs
                    .iter()
                    .map(|s| s.as_str())
                    .filter(|s| remote(s))
                    .collect();
                if urls.is_empty() {
                    continue;
                }
                out.push(
                    self.finding(dockerfile_ref(d))
                        .discriminator(format!("{}:{}", content_key(d), ins.line))
                        .message(format!(
                            "Dockerfile `{}` line {} downloads {} into `{dest}` with `ADD` at build time, with no checksum: whatever the URL serves then goes into the Spark image.",
                            file_name(d),
                            ins.line,
                            urls.iter().map(|u| format!("`{u}`")).collect::<Vec<_>>().join(" and ")
                        ))
                        .remediation(format!(
                            "Vendor the file into the build context and `COPY` it after checking its SHA-256, or write `ADD --checksum=sha256:<digest> {} {dest}`.",
                            urls.first().copied().unwrap_or("<url>")
                        ))
                        .step(step(d, ins))
                        .location(&at(d, ins))
                        .build(),
                );
            }
        }
        out
    }
}
