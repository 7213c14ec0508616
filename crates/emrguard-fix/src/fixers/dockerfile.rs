//! Dockerfiles of custom images (IMG007 old base, IMG008 not `hadoop:hadoop`, IMG009 `ADD`
//! from a URL without a checksum, IMG010 secrets in `ENV` / `ARG`).
//!
//! A Dockerfile's findings are keyed on its content, so a partial patch would re-raise the rest
//! under new ids: a file is patched only when every image finding on it is one of these, and
//! only when the image rules, run on the patched text, find nothing left. The changes:
//!
//! - `FROM` the newest base of the release line (`:latest`, so rebuilds pick up new builds), in
//!   the base's own registry: the custom-image guide's "rebuild on the newest base image";
//! - `USER hadoop:hadoop` as the last instruction, as the guide requires;
//! - `ADD <url> <dest>` becomes `RUN curl --fail ... && sha256sum -c`, against a digest passed as
//!   a build argument (`ARG <FILE>_SHA256`): the build fails until a person supplies the digest
//!   they verified, and fails again whenever the URL serves something else. The download runs
//!   as root (as `ADD` did), then the previous user is restored;
//! - a secret set in `ENV` (or an `ARG` with a secret-looking name) is removed. `RUN` steps that
//!   read it get it as a BuildKit secret (`RUN --mount=type=secret,id=...`, read from
//!   `/run/secrets/<id>`), which never lands in a layer or the image history; jobs that read it
//!   at run time get it from Secrets Manager through their execution role instead. AWS keys
//!   are simply dropped: the job's AWS access is its execution role. Either way the value was
//!   published with every copy of the image, so it must be rotated (a decision line says so).
//!
//! A Dockerfile that uses a secret outside `RUN`, or an `ADD` with flags or several sources, is
//! left to a person.

use super::Fixer;
use crate::{Artifact, Edit, Fix, FixContext};
use emrguard_model::node::{DockerInstruction, Dockerfile};
use emrguard_model::release::ImageRef;
use emrguard_model::{Finding, Located, Snapshot};
use emrguard_rules::infra::data::staleness;
use emrguard_rules::infra::docker::{assignments, final_base};
use std::collections::{BTreeMap, BTreeSet};

pub const FIXER: Fixer = Fixer {
    rules: &["IMG007", "IMG008", "IMG009", "IMG010"],
    run,
};

/// Rules that report on Dockerfiles (a patched file must have none of their findings).
const DOCKERFILE_RULES: [&str; 5] = ["IMG006", "IMG007", "IMG008", "IMG009", "IMG010"];

fn run(fcx: &FixContext<'_, '_, '_>, findings: &[&Finding]) -> Vec<Fix> {
    let snap = fcx.cx.index.snap;
    let mut out = Vec::new();
    for d in &snap.dockerfiles {
        let mine: Vec<&Finding> = fcx
            .findings
            .iter()
            .copied()
            .filter(|f| {
                DOCKERFILE_RULES.contains(&f.rule.as_str())
                    && f.locations.iter().any(|l| l.file == *d.loc.file)
            })
            .collect();
        if mine.is_empty()
            || mine.iter().any(|f| !FIXER.rules.contains(&f.rule.as_str()))
            || !mine.iter().all(|f| findings.iter().any(|x| x.id == f.id))
        {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&*d.loc.file) else {
            continue;
        };
        let rules: BTreeSet<&str> = mine.iter().map(|f| f.rule.as_str()).collect();
        let Some(p) = patch(&d.value, &text, &rules) else {
            continue;
        };
        if !clean(fcx, d, &p.text) {
            continue;
        }
        let base = d
            .loc
            .file
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or("Dockerfile")
            .to_owned();
        let path = format!("artifacts/docker/{base}");
        let mut details = p.details;
        details.push(format!("`{path}` replaces `{}`; rebuild, push under a new tag, and move the jobs to the new image (and release).", d.loc.file));
        let mut decisions = p.decisions;
        decisions.push("Test the jobs on the rebuilt image before moving production to it.".into());
        out.push(Fix {
            findings: mine.iter().map(|f| f.id.clone()).collect(),
            title: format!("`{base}`: {}", p.summary.join(", ")),
            details,
            decisions,
            artifacts: vec![Artifact {
                path,
                contents: p.text.clone(),
            }],
            commands: Vec::new(),
            edits: vec![Edit::text(&d.loc.file, p.text)],
        });
    }
    out
}

/// Whether the image rules find nothing on `text` (the patched Dockerfile), alone in a
/// snapshot with the run's configuration.
fn clean(fcx: &FixContext<'_, '_, '_>, d: &Located<Dockerfile>, text: &str) -> bool {
    let mut snap = Snapshot::default();
    snap.dockerfiles
        .push(Located::new(Dockerfile::parse(text), d.loc.clone()));
    snap.finalize();
    let index = emrguard_model::EstateIndex::build(&snap);
    let cx = emrguard_rules::Context::new(&index, fcx.cx.config);
    let rules: Vec<&'static dyn emrguard_rules::Rule> = emrguard_rules::registry()
        .iter()
        .copied()
        .filter(|r| DOCKERFILE_RULES.contains(&r.meta().id))
        .collect();
    emrguard_rules::run(&rules, &cx).is_empty()
}

struct Patched {
    text: String,
    summary: Vec<&'static str>,
    details: Vec<String>,
    decisions: Vec<String>,
}

/// Lines `[start, end]` (1-based) of the instruction starting at `start`, following `\`
/// continuations as the parser does (comment lines inside are part of it).
fn span(lines: &[&str], start: usize) -> usize {
    let mut i = start;
    loop {
        let Some(l) = lines.get(i.saturating_sub(1)) else {
            return i.saturating_sub(1).max(start);
        };
        let t = l.trim();
        if i > start && t.starts_with('#') {
            i += 1;
            continue;
        }
        if t.ends_with('\\') {
            i += 1;
            continue;
        }
        return i;
    }
}

fn is_root(user: &str) -> bool {
    let u = user.split(':').next().unwrap_or("").trim();
    u == "root" || u == "0"
}

/// A build-argument name for a downloaded file's digest: `postgresql-42.2.5.jar` →
/// `POSTGRESQL_42_2_5_JAR_SHA256`.
fn digest_arg(file: &str) -> String {
    let mut s: String = file
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert_str(0, "FILE_");
    }
    format!("{s}_SHA256")
}

/// A BuildKit secret id for a variable: `GITHUB_TOKEN` → `github_token`.
fn secret_id(name: &str) -> String {
    name.to_ascii_lowercase()
}

fn mentions(args: &str, name: &str) -> bool {
    args.contains(&format!("${{{name}}}"))
        || args.match_indices(&format!("${name}")).any(|(i, m)| {
            !args
                .get(i + m.len()..)
                .and_then(|r| r.chars().next())
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

fn replace_var(args: &str, name: &str, with: &str) -> String {
    let mut s = args.replace(&format!("${{{name}}}"), with);
    // `$NAME` not followed by a name character.
    let pat = format!("${name}");
    let mut out = String::new();
    let mut rest = s.as_str();
    while let Some(i) = rest.find(&pat) {
        let after = rest.get(i + pat.len()..).unwrap_or("");
        let (head, _) = rest.split_at(i);
        out.push_str(head);
        if after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            out.push_str(&pat);
        } else {
            out.push_str(with);
        }
        rest = after;
    }
    out.push_str(rest);
    s = out;
    s
}

/// Variables the secret rule (IMG010) reports, per instruction line: each assignment is
/// judged alone by the rule itself, so this fixer and the rule cannot disagree.
fn secret_vars(d: &Dockerfile) -> BTreeMap<u32, Vec<String>> {
    let mut out: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    let Some(rule) = emrguard_rules::registry()
        .iter()
        .copied()
        .find(|r| r.meta().id == "IMG010")
    else {
        return out;
    };
    let config = emrguard_config::Config::default();
    for ins in d
        .instructions
        .iter()
        .filter(|i| i.keyword == "ENV" || i.keyword == "ARG")
    {
        for (name, value) in assignments(&ins.args) {
            let args = match &value {
                Some(v) => format!("{name}={}", quote(v)),
                None => name.clone(),
            };
            let one = Dockerfile {
                instructions: vec![DockerInstruction {
                    keyword: ins.keyword.clone(),
                    args,
                    line: ins.line,
                }],
            };
            let mut snap = Snapshot::default();
            snap.dockerfiles.push(Located::new(
                one,
                emrguard_model::SourceLoc::new("Dockerfile", "", None),
            ));
            snap.finalize();
            let index = emrguard_model::EstateIndex::build(&snap);
            let cx = emrguard_rules::Context::new(&index, &config);
            if !emrguard_rules::run(&[rule], &cx).is_empty() {
                out.entry(ins.line).or_default().push(name);
            }
        }
    }
    out
}

fn patch(d: &Dockerfile, text: &str, rules: &BTreeSet<&str>) -> Option<Patched> {
    let lines: Vec<&str> = text.lines().collect();
    // Replacement per instruction start line: (end line, new lines).
    let mut repl: BTreeMap<usize, (usize, Vec<String>)> = BTreeMap::new();
    let mut summary = Vec::new();
    let mut details = Vec::new();
    let mut decisions = Vec::new();
    let line_of = |ins: &DockerInstruction| usize::try_from(ins.line).ok();

    if rules.contains("IMG007") {
        let (image, from) = final_base(d)?;
        let r = ImageRef::parse(&image)?;
        let label = r.emr_release()?;
        let newest = staleness(&label)?
            .newer_release
            .unwrap_or_else(|| label.release());
        let prefix = r
            .repository
            .rsplit_once('/')
            .map(|(p, _)| p)
            .unwrap_or("spark");
        let registry = r.registry.as_deref()?;
        let target = format!("{registry}/{prefix}/{newest}:latest");
        let words: Vec<&str> = from.args.split_whitespace().collect();
        let flags: Vec<&str> = words
            .iter()
            .copied()
            .take_while(|w| w.starts_with("--"))
            .collect();
        let alias = match (
            words.len().checked_sub(2).and_then(|i| words.get(i)),
            words.last(),
        ) {
            (Some(kw), Some(a)) if kw.eq_ignore_ascii_case("as") => format!(" AS {a}"),
            _ => String::new(),
        };
        let mut new = String::from("FROM ");
        for f in flags {
            new.push_str(f);
            new.push(' ');
        }
        new.push_str(&target);
        new.push_str(&alias);
        let l = line_of(from)?;
        repl.insert(l, (span(&lines, l), vec![new]));
        summary.push("newest EMR base image");
        details.push(format!(
            "Line {l}: `FROM {target}` (the newest base of the release line)."
        ));
    }

    // Secrets: names to remove, and RUN steps that read them.
    let mut secrets: Vec<String> = Vec::new();
    if rules.contains("IMG010") {
        for (line, names) in secret_vars(d) {
            let ins = d.instructions.iter().find(|i| i.line == line)?;
            let kept: Vec<String> = assignments(&ins.args)
                .into_iter()
                .filter(|(n, _)| !names.contains(n))
                .map(|(n, v)| match v {
                    Some(v) => format!("{n}={}", quote(&v)),
                    None => n,
                })
                .collect();
            let l = usize::try_from(line).ok()?;
            let new = if kept.is_empty() {
                Vec::new()
            } else {
                vec![format!("{} {}", ins.keyword, kept.join(" "))]
            };
            repl.insert(l, (span(&lines, l), new));
            secrets.extend(names);
        }
        if secrets.is_empty() {
            return None;
        }
        summary.push("no secrets baked in");
        details.push(format!(
            "Removed from the image: {}.",
            secrets
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        decisions.push(format!(
            "Rotate {} now: the values are in every copy of the old image (deactivate AWS access keys in IAM first).",
            secrets.join(", ")
        ));
    }
    let mut build_secrets: BTreeSet<String> = BTreeSet::new();
    for ins in &d.instructions {
        let used: Vec<&String> = secrets.iter().filter(|s| mentions(&ins.args, s)).collect();
        if used.is_empty() {
            continue;
        }
        if ins.keyword != "RUN" {
            return None; // a secret read by FROM/ENV/COPY...: a person rewrites it
        }
        let mut args = ins.args.clone();
        let mut mounts = String::new();
        for s in used {
            let id = secret_id(s);
            args = replace_var(&args, s, &format!("$(cat /run/secrets/{id})"));
            mounts.push_str(&format!("--mount=type=secret,id={id} "));
            build_secrets.insert(s.clone());
        }
        let l = line_of(ins)?;
        if repl.contains_key(&l) {
            return None;
        }
        repl.insert(l, (span(&lines, l), vec![format!("RUN {mounts}{args}")]));
    }
    if !build_secrets.is_empty() {
        decisions.push("Check that no build step writes a secret into the image (`git clone https://TOKEN@...` keeps the URL in `.git/config`: remove `.git` or use a credential helper in the same step).".into());
        details.push(format!(
            "Build steps read {} as BuildKit secrets: `docker build {} ...`.",
            build_secrets
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", "),
            build_secrets
                .iter()
                .map(|s| format!("--secret id={},env={s}", secret_id(s)))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    let runtime: Vec<&String> = secrets
        .iter()
        .filter(|s| !build_secrets.contains(*s) && !s.starts_with("AWS_"))
        .collect();
    if !runtime.is_empty() {
        decisions.push(format!(
            "If the jobs read {} at run time, store it in Secrets Manager and read it there through the execution role (or mount it with the Secrets Store CSI driver in the pod template).",
            runtime.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
        ));
    }
    if secrets.iter().any(|s| s.starts_with("AWS_")) {
        details.push("Static AWS keys are gone: the job's AWS access is its execution role (IRSA or Pod Identity); a build step that called AWS with them gets credentials from the builder (`RUN --mount=type=secret`).".into());
    }

    if rules.contains("IMG009") {
        let mut args_used: BTreeSet<String> = BTreeSet::new();
        let mut user: Option<String> = None;
        // Whether the stage builds on an EMR base (whose default user is hadoop).
        let mut emr_stage = false;
        for ins in &d.instructions {
            match ins.keyword.as_str() {
                "FROM" => {
                    user = None;
                    emr_stage = ins
                        .args
                        .split_whitespace()
                        .find(|w| !w.starts_with("--"))
                        .and_then(ImageRef::parse)
                        .and_then(|r| r.emr_release())
                        .is_some();
                }
                "USER" => user = Some(ins.args.trim().to_owned()),
                "ADD" => {
                    let words = emrguard_model::aws::emr::shell_words(&ins.args);
                    if words.iter().any(|w| w.starts_with("--checksum")) {
                        continue;
                    }
                    let remote: Vec<&String> = words
                        .iter()
                        .filter(|w| w.contains("://") && !w.starts_with("--"))
                        .collect();
                    if remote.is_empty() {
                        continue;
                    }
                    if words.len() != 2 || words.iter().any(|w| w.starts_with("--")) {
                        return None; // flags or several sources: a person rewrites it
                    }
                    let (url, dest) = (words.first()?, words.get(1)?);
                    let file = url
                        .split(['?', '#'])
                        .next()?
                        .rsplit('/')
                        .next()
                        .filter(|f| !f.is_empty())?;
                    let target = if dest.ends_with('/') {
                        format!("{dest}{file}")
                    } else {
                        dest.clone()
                    };
                    let mut arg = digest_arg(file);
                    while !args_used.insert(arg.clone()) {
                        arg.insert_str(0, "X_");
                    }
                    let mut new = vec![format!("ARG {arg}")];
                    // Downloads into system paths need root; another stage's unknown default
                    // user is left as it is.
                    let as_root = match user.as_deref() {
                        Some(u) => !is_root(u),
                        None => emr_stage,
                    };
                    if as_root {
                        new.push("USER root".into());
                    }
                    new.push(format!(
                        "RUN curl --fail --silent --show-error --location --output {} {} && \\\n    echo \"${{{arg}:?pass --build-arg {arg}=<sha256 of {file}>}}  {}\" | sha256sum -c -",
                        sh_word(&target),
                        sh_word(url),
                        target
                    ));
                    if as_root {
                        // EMR base images run as hadoop when the stage sets no user.
                        new.push(format!(
                            "USER {}",
                            user.clone().unwrap_or_else(|| "hadoop:hadoop".into())
                        ));
                    }
                    let l = line_of(ins)?;
                    if repl.contains_key(&l) {
                        return None;
                    }
                    repl.insert(l, (span(&lines, l), new));
                    details.push(format!(
                        "Line {l}: `{url}` is downloaded with curl and checked against the SHA-256 in build argument `{arg}`."
                    ));
                    decisions.push(format!(
                        "Get the SHA-256 of `{url}` from its publisher (or compute it once on a copy you reviewed) and pass `--build-arg {arg}=<digest>` (or give the ARG that default){}.",
                        if url.contains("/main/") || url.contains("/master/") { "; the URL follows a branch: pin a commit or release instead" } else { "" }
                    ));
                }
                _ => {}
            }
        }
        summary.push("downloads checked");
    }

    if rules.contains("IMG008") {
        summary.push("user hadoop");
        details.push("`USER hadoop:hadoop` appended as the last instruction.".into());
    }
    let mut out: Vec<String> = Vec::new();
    let mut i = 1usize;
    while let Some(l) = lines.get(i - 1) {
        match repl.get(&i) {
            Some((end, new)) => {
                out.extend(new.iter().cloned());
                i = end + 1;
            }
            None => {
                out.push((*l).to_owned());
                i += 1;
            }
        }
    }
    if rules.contains("IMG008") {
        out.push("# EMR images run as hadoop (EMR on EKS custom-image guide)".into());
        out.push("USER hadoop:hadoop".into());
    }
    let mut text = out.join("\n");
    text.push('\n');
    Some(Patched {
        text,
        summary,
        details,
        decisions,
    })
}

/// A value for `ENV`/`ARG` kept beside a removed one.
fn quote(v: &str) -> String {
    if v.chars().any(|c| c.is_whitespace() || c == '"') {
        format!("\"{}\"", v.replace('"', "\\\""))
    } else {
        v.to_owned()
    }
}

fn sh_word(s: &str) -> String {
    crate::sh(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_replaced_only_as_whole_names() {
        assert_eq!(
            replace_var("a ${T} $T $TX b", "T", "S"),
            "a S S $TX b".to_owned()
        );
        assert!(mentions("x:$T@h", "T"));
        assert!(!mentions("x:$TOKEN2", "TOKEN"));
    }

    #[test]
    fn digest_argument_names() {
        assert_eq!(
            digest_arg("postgresql-42.2.5.jar"),
            "POSTGRESQL_42_2_5_JAR_SHA256"
        );
        assert_eq!(digest_arg("1.sh"), "FILE_1_SH_SHA256");
    }

    #[test]
    fn downloads_run_as_root_and_restore_the_user() {
        let text = "FROM golang:1.22 AS build\nADD https://example.com/tool.tgz /tmp/\nFROM 895885662937.dkr.ecr.us-west-2.amazonaws.com/spark/emr-7.13.0:latest\nADD https://example.com/a.jar /usr/lib/spark/jars/\nUSER hadoop:hadoop\n";
        let d = Dockerfile::parse(text);
        let rules: BTreeSet<&str> = ["IMG009"].into_iter().collect();
        let Some(p) = patch(&d, text, &rules) else {
            panic!("not patched")
        };
        let lines: Vec<&str> = p.text.lines().collect();
        // The builder stage keeps its own user; the EMR stage switches to root and back.
        assert_eq!(lines.get(1).copied(), Some("ARG TOOL_TGZ_SHA256"));
        assert!(
            lines.get(2).is_some_and(|l| l.starts_with("RUN curl")),
            "{lines:?}"
        );
        assert!(
            p.text.contains("ARG A_JAR_SHA256\nUSER root\nRUN curl"),
            "{}",
            p.text
        );
        assert!(
            p.text
                .contains("sha256sum -c -\nUSER hadoop:hadoop\nUSER hadoop:hadoop"),
            "{}",
            p.text
        );
    }

    #[test]
    fn continuation_spans() {
        let l = ["RUN a \\", "# c", "  b", "USER x"];
        assert_eq!(span(&l, 1), 3);
        assert_eq!(span(&l, 4), 4);
    }
}
