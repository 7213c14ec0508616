//! EMR on EKS release labels and base-image URIs (domain.md §5). Parsed leniently: every
//! documented form, and `None` rather than a guess for anything else.

use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Build {
    /// `-latest`: always the newest build of the release.
    Latest,
    /// `-YYYYMMDD`: pinned to a build date.
    Date(u32),
    /// No build suffix (image tags such as `emr-7.13.0:latest` carry it after the colon).
    Unspecified,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseLabel {
    /// `emr` for numbered releases, `emr-spark` for the AWS runtime for Apache Spark line.
    pub family: String,
    /// `notebook-spark`, `notebook-python`, `livy` ... when given as `prefix/emr-...`.
    pub prefix: Option<String>,
    pub version: (u32, u32, u32),
    /// `spark-rapids`, `java8`, `java11`, `java17`, `flink` ...
    pub variants: Vec<String>,
    pub build: Build,
}

impl ReleaseLabel {
    /// `emr-7.13.0` (family + version), the key of the release list.
    pub fn release(&self) -> String {
        let (a, b, c) = self.version;
        format!("{}-{a}.{b}.{c}", self.family)
    }

    /// The line a release belongs to: family, variants and prefix (a java11 image is compared
    /// with the java11 images of newer releases).
    pub fn line(&self) -> String {
        let mut s = self.family.clone();
        for v in &self.variants {
            s.push('-');
            s.push_str(v);
        }
        if let Some(p) = &self.prefix {
            s = format!("{p}/{s}");
        }
        s
    }

    pub fn parse(label: &str) -> Option<ReleaseLabel> {
        let label = label.trim();
        let (prefix, rest) = match label.rsplit_once('/') {
            Some((p, r)) => (Some(p.to_owned()), r),
            None => (None, label),
        };
        let (family, rest) = if let Some(r) = rest.strip_prefix("emr-spark-") {
            ("emr-spark", r)
        } else if let Some(r) = rest.strip_prefix("emr-") {
            ("emr", r)
        } else {
            return None;
        };
        // Tag form `emr-7.13.0:20260410` / `:latest`.
        let (rest, tag) = match rest.split_once(':') {
            Some((r, t)) => (r, Some(t)),
            None => (rest, None),
        };
        let mut parts = rest.split('-');
        let ver = parts.next()?;
        let mut nums = ver.split('.').map(|n| n.parse::<u32>().ok());
        let version = (
            nums.next()??,
            nums.next()??,
            nums.next().flatten().unwrap_or(0),
        );
        let mut variants = Vec::new();
        let mut build = Build::Unspecified;
        let rest: Vec<&str> = parts.collect();
        let mut i = 0;
        while let Some(p) = rest.get(i) {
            if *p == "latest" {
                build = Build::Latest;
            } else if p.len() == 8 && p.chars().all(|c| c.is_ascii_digit()) {
                build = Build::Date(p.parse().ok()?);
            } else if *p == "spark" && rest.get(i + 1) == Some(&"rapids") {
                variants.push("spark-rapids".to_owned());
                i += 1;
            } else if !p.is_empty() {
                variants.push((*p).to_owned());
            }
            i += 1;
        }
        if let Some(t) = tag {
            if t == "latest" {
                build = Build::Latest;
            } else if t.len() == 8 && t.chars().all(|c| c.is_ascii_digit()) {
                build = Build::Date(t.parse().ok()?);
            }
        }
        Some(ReleaseLabel {
            family: family.to_owned(),
            prefix,
            version,
            variants,
            build,
        })
    }
}

impl fmt::Display for ReleaseLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.prefix {
            write!(f, "{p}/")?;
        }
        f.write_str(&self.release())?;
        for v in &self.variants {
            write!(f, "-{v}")?;
        }
        match self.build {
            Build::Latest => f.write_str("-latest"),
            Build::Date(d) => write!(f, "-{d}"),
            Build::Unspecified => Ok(()),
        }
    }
}

/// A container image reference split into registry, repository and tag/digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageRef {
    pub registry: Option<String>,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    pub fn parse(s: &str) -> Option<ImageRef> {
        let s = s.trim();
        if s.is_empty() || s.contains(char::is_whitespace) {
            return None;
        }
        let (name, digest) = match s.split_once('@') {
            Some((n, d)) => (n, Some(d.to_owned())),
            None => (s, None),
        };
        let (registry, path) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (Some(first.to_owned()), rest)
            }
            _ => (None, name),
        };
        let (repository, tag) = match path.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r.to_owned(), Some(t.to_owned())),
            _ => (path.to_owned(), None),
        };
        Some(ImageRef {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// `(account, region)` for an ECR private registry host.
    pub fn ecr_account_region(&self) -> Option<(&str, &str)> {
        let host = self.registry.as_deref()?;
        let mut it = host.split('.');
        let account = it.next()?;
        if it.next()? != "dkr" || it.next()? != "ecr" {
            return None;
        }
        let region = it.next()?;
        (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()))
            .then_some((account, region))
    }

    /// The EMR release this image names in its repository/tag (`spark/emr-7.13.0:latest`).
    pub fn emr_release(&self) -> Option<ReleaseLabel> {
        let last = self.repository.rsplit('/').next()?;
        let prefix = self.repository.rsplit_once('/').map(|(p, _)| p);
        let with_tag = match &self.tag {
            Some(t) => format!("{last}:{t}"),
            None => last.to_owned(),
        };
        let mut r = ReleaseLabel::parse(&with_tag)?;
        if let Some(p) = prefix {
            let p = p.rsplit('/').next().unwrap_or(p);
            if p != "spark" {
                r.prefix = Some(p.to_owned());
            }
        }
        Some(r)
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(r) = &self.registry {
            write!(f, "{r}/")?;
        }
        f.write_str(&self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_label_forms() {
        let cases = [
            ("emr-7.13.0-latest", "emr-7.13.0", "emr", Build::Latest),
            (
                "emr-7.13.0-20260410",
                "emr-7.13.0",
                "emr",
                Build::Date(20260410),
            ),
            (
                "emr-7.13.0-spark-rapids-latest",
                "emr-7.13.0",
                "emr-spark-rapids",
                Build::Latest,
            ),
            (
                "emr-7.13.0-spark-rapids-java8-20260410",
                "emr-7.13.0",
                "emr-spark-rapids-java8",
                Build::Date(20260410),
            ),
            (
                "emr-7.13.0-java11-latest",
                "emr-7.13.0",
                "emr-java11",
                Build::Latest,
            ),
            (
                "emr-7.13.0-flink-20260410",
                "emr-7.13.0",
                "emr-flink",
                Build::Date(20260410),
            ),
            (
                "notebook-spark/emr-7.13.0-latest",
                "emr-7.13.0",
                "notebook-spark/emr",
                Build::Latest,
            ),
            (
                "livy/emr-7.13.0-20260410",
                "emr-7.13.0",
                "livy/emr",
                Build::Date(20260410),
            ),
            (
                "emr-spark-8.0.0-latest",
                "emr-spark-8.0.0",
                "emr-spark",
                Build::Latest,
            ),
            (
                "emr-spark-8.0.0-20260421",
                "emr-spark-8.0.0",
                "emr-spark",
                Build::Date(20260421),
            ),
            ("emr-6.9.0", "emr-6.9.0", "emr", Build::Unspecified),
        ];
        for (label, release, line, build) in cases {
            let r = ReleaseLabel::parse(label).unwrap_or_else(|| panic!("{label}"));
            assert_eq!(r.release(), release, "{label}");
            assert_eq!(r.line(), line, "{label}");
            assert_eq!(r.build, build, "{label}");
            assert_eq!(r.to_string(), label);
        }
        assert!(ReleaseLabel::parse("spark-3.5").is_none());
        assert!(ReleaseLabel::parse("emr-x.y").is_none());
    }

    #[test]
    fn image_refs() {
        let i =
            ImageRef::parse("895885662937.dkr.ecr.us-west-2.amazonaws.com/spark/emr-7.12.0:latest")
                .unwrap();
        assert_eq!(i.ecr_account_region(), Some(("895885662937", "us-west-2")));
        let r = i.emr_release().unwrap();
        assert_eq!(r.release(), "emr-7.12.0");
        assert_eq!(r.build, Build::Latest);
        let n =
            ImageRef::parse("public.ecr.aws/emr-on-eks/notebook-spark/emr-7.9.0:20250101").unwrap();
        assert_eq!(n.emr_release().unwrap().line(), "notebook-spark/emr");
        let d = ImageRef::parse("localhost:5000/team/app@sha256:abc").unwrap();
        assert_eq!(d.registry.as_deref(), Some("localhost:5000"));
        assert_eq!(d.digest.as_deref(), Some("sha256:abc"));
        assert!(ImageRef::parse("jtblin/kube2iam:0.10.9")
            .unwrap()
            .registry
            .is_none());
    }
}
