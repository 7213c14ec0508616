//! Dockerfiles: stages, the final base image (through stage aliases and `ARG` defaults), the
//! final user, and a name-independent identity for findings.

use emrguard_model::node::{DockerInstruction, Dockerfile};
use emrguard_model::Kind;
use emrguard_model::{Located, PathStep, Ref, SourceLoc};
use std::collections::BTreeMap;

/// One `FROM` stage: its instruction index, image (after `ARG` substitution) and alias.
#[derive(Debug, Clone)]
pub struct Stage<'a> {
    pub from: &'a DockerInstruction,
    pub image: String,
    pub alias: Option<String>,
    /// Instructions of the stage (after its `FROM`).
    pub body: &'a [DockerInstruction],
}

/// Split a Dockerfile into stages, substituting `ARG` defaults declared before the first
/// `FROM` into image names.
pub fn stages(d: &Dockerfile) -> Vec<Stage<'_>> {
    let mut args: BTreeMap<String, String> = BTreeMap::new();
    let mut starts = Vec::new();
    for (i, ins) in d.instructions.iter().enumerate() {
        if ins.keyword == "FROM" {
            starts.push(i);
        } else if ins.keyword == "ARG" && starts.is_empty() {
            for (k, v) in assignments(&ins.args) {
                if let Some(v) = v {
                    args.insert(k, v);
                }
            }
        }
    }
    let mut out = Vec::new();
    for (n, &i) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(d.instructions.len());
        let Some(from) = d.instructions.get(i) else {
            continue;
        };
        let words: Vec<&str> = from
            .args
            .split_whitespace()
            .filter(|w| !w.starts_with("--"))
            .collect();
        let image = substitute(words.first().copied().unwrap_or(""), &args);
        let alias = match (words.get(1), words.get(2)) {
            (Some(kw), Some(a)) if kw.eq_ignore_ascii_case("as") => Some((*a).to_owned()),
            _ => None,
        };
        out.push(Stage {
            from,
            image,
            alias,
            body: d.instructions.get(i + 1..end).unwrap_or(&[]),
        });
    }
    out
}

/// The final stage's base image, following `FROM <alias>` back to an earlier stage's image:
/// `(image, the FROM instruction that names it)`.
pub fn final_base(d: &Dockerfile) -> Option<(String, &DockerInstruction)> {
    let st = stages(d);
    let mut cur = st.len().checked_sub(1)?;
    for _ in 0..st.len() {
        let s = st.get(cur)?;
        let prev = st.get(..cur)?.iter().rposition(|p| {
            p.alias
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case(&s.image))
        });
        match prev {
            Some(p) => cur = p,
            None => return Some((s.image.clone(), s.from)),
        }
    }
    None
}

/// The user the final image runs as: the last `USER` of the final stage, or of the stage it
/// builds on (through aliases). `None` when no stage sets one (the base image's user stays).
pub fn final_user(d: &Dockerfile) -> Option<&DockerInstruction> {
    let st = stages(d);
    let mut cur = st.len().checked_sub(1)?;
    for _ in 0..st.len() {
        let s = st.get(cur)?;
        if let Some(u) = s.body.iter().rev().find(|i| i.keyword == "USER") {
            return Some(u);
        }
        let prev = st.get(..cur)?.iter().rposition(|p| {
            p.alias
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case(&s.image))
        })?;
        cur = prev;
    }
    None
}

/// Instructions of the final image (the final stage and the stages it builds on).
pub fn final_image_instructions(d: &Dockerfile) -> Vec<&DockerInstruction> {
    let st = stages(d);
    let mut out = Vec::new();
    let Some(mut cur) = st.len().checked_sub(1) else {
        return out;
    };
    for _ in 0..st.len() {
        let Some(s) = st.get(cur) else { break };
        out.extend(s.body.iter());
        let prev = st.get(..cur).and_then(|p| {
            p.iter().rposition(|p| {
                p.alias
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case(&s.image))
            })
        });
        match prev {
            Some(p) => cur = p,
            None => break,
        }
    }
    out
}

/// `KEY=VALUE KEY2="V 2"` (or the legacy `KEY VALUE`) of `ENV`/`ARG`/`LABEL`.
pub fn assignments(args: &str) -> Vec<(String, Option<String>)> {
    let words = emrguard_model::aws::emr::shell_words(args);
    if let Some(first) = words.first() {
        if !first.contains('=') && words.len() > 1 {
            // `ENV KEY VALUE WITH SPACES`
            let rest = args.trim_start().get(first.len()..).unwrap_or("").trim();
            return vec![(first.clone(), Some(rest.trim_matches('"').to_owned()))];
        }
    }
    words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
            None => (w, None),
        })
        .collect()
}

fn substitute(s: &str, args: &BTreeMap<String, String>) -> String {
    let mut out = s.to_owned();
    for (k, v) in args {
        out = out
            .replace(&format!("${{{k}}}"), v)
            .replace(&format!("${k}"), v);
    }
    out
}

/// A stable identity for a Dockerfile that does not depend on its file name or folder: the
/// final base image and a hash of its instructions.
pub fn dockerfile_ref(d: &Dockerfile) -> Ref {
    let base = final_base(d).map(|(i, _)| i).unwrap_or_default();
    Ref::new(Kind::Dockerfile, format!("FROM {base}"))
}

/// A discriminator from the instructions' text (FNV-1a), so that two Dockerfiles on one base
/// image are told apart.
pub fn content_key(d: &Dockerfile) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for ins in &d.instructions {
        for b in ins
            .keyword
            .bytes()
            .chain([b' '])
            .chain(ins.args.bytes())
            .chain([b'\n'])
        {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// The location of an instruction (its line in the Dockerfile).
pub fn at(d: &Located<Dockerfile>, ins: &DockerInstruction) -> SourceLoc {
    SourceLoc::new(d.loc.file.clone(), "", Some(ins.line))
}

/// The file name of a Dockerfile, for messages.
pub fn file_name(d: &Located<Dockerfile>) -> &str {
    d.loc.file.rsplit(['/', '\\']).next().unwrap_or(&d.loc.file)
}

pub fn step(d: &Located<Dockerfile>, ins: &DockerInstruction) -> PathStep {
    PathStep::from_ref(&dockerfile_ref(d))
        .detail(format!("line {}: {} {}", ins.line, ins.keyword, ins.args))
}

/// A step for an instruction that holds a secret: the value is not repeated.
pub fn step_masked(d: &Located<Dockerfile>, ins: &DockerInstruction, name: &str) -> PathStep {
    PathStep::from_ref(&dockerfile_ref(d)).detail(format!(
        "line {}: {} {name}=<redacted>",
        ins.line, ins.keyword
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn stages_aliases_and_users() {
        let d = Dockerfile::parse(
            "ARG BASE=895885662937.dkr.ecr.us-west-2.amazonaws.com/spark/emr-7.13.0:latest\nFROM golang:1.22 AS build\nUSER nobody\nFROM ${BASE} AS base\nUSER root\nFROM base\nRUN echo hi\n",
        );
        let (img, from) = final_base(&d).unwrap();
        assert_eq!(
            img,
            "895885662937.dkr.ecr.us-west-2.amazonaws.com/spark/emr-7.13.0:latest"
        );
        assert_eq!(from.line, 4);
        assert_eq!(final_user(&d).unwrap().args, "root");
        assert_eq!(final_image_instructions(&d).len(), 2);
        let plain = Dockerfile::parse("FROM x\nRUN y\n");
        assert!(final_user(&plain).is_none());
    }

    #[test]
    fn env_forms() {
        assert_eq!(
            assignments("A=1 B=\"two words\""),
            vec![
                ("A".to_owned(), Some("1".to_owned())),
                ("B".to_owned(), Some("two words".to_owned()))
            ]
        );
        assert_eq!(
            assignments("KEY some value"),
            vec![("KEY".to_owned(), Some("some value".to_owned()))]
        );
        assert_eq!(assignments("TOKEN"), vec![("TOKEN".to_owned(), None)]);
    }
}
