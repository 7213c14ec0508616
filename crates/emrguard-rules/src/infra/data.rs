//! Facts that change every few weeks, kept as data files under `crates/emrguard-rules/data/` and
//! compiled in (`include_str!`): the EMR on EKS release list with the known base-image build
//! dates, and the ECR registries that serve the EMR base images. `data/README.md` says how to
//! refresh them.

use emrguard_model::release::{ImageRef, ReleaseLabel};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

const RELEASES_TOML: &str = include_str!("../../data/emr-eks-releases.toml");
const REGISTRIES_TOML: &str = include_str!("../../data/emr-base-image-registries.toml");

/// `(major, minor, patch)`.
pub type Version = (u32, u32, u32);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleasesFile {
    as_of: String,
    #[serde(default)]
    #[allow(dead_code)]
    sources: Vec<String>,
    features: Features,
    #[serde(default)]
    releases: Vec<ReleaseEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Features {
    pod_identity_min_release: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseEntry {
    release: String,
    #[serde(default)]
    builds: Vec<String>,
}

/// One EMR on EKS release (`emr-7.13.0`, `emr-spark-8.0.0`) and its known build dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// `emr` or `emr-spark`.
    pub family: String,
    pub version: Version,
    /// Known build dates (`YYYYMMDD`), ascending.
    pub builds: Vec<u32>,
}

impl Release {
    pub fn name(&self) -> String {
        let (a, b, c) = self.version;
        format!("{}-{a}.{b}.{c}", self.family)
    }
    pub fn newest_build(&self) -> Option<u32> {
        self.builds.last().copied()
    }
}

/// The release list.
#[derive(Debug, Clone, Default)]
pub struct ReleaseData {
    pub as_of: String,
    /// Sorted by family, then version.
    pub releases: Vec<Release>,
    /// The first release supporting EKS Pod Identity (StartJobRun): family and version.
    pub pod_identity_min: Option<(String, Version)>,
}

impl ReleaseData {
    /// The compiled-in release list (empty if the data file is broken, which a test prevents).
    pub fn get() -> &'static ReleaseData {
        static DATA: OnceLock<ReleaseData> = OnceLock::new();
        DATA.get_or_init(|| ReleaseData::parse(RELEASES_TOML).unwrap_or_default())
    }

    pub fn parse(text: &str) -> Result<ReleaseData, String> {
        let f: ReleasesFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut releases = Vec::new();
        for e in f.releases {
            let label = ReleaseLabel::parse(&e.release)
                .ok_or_else(|| format!("not a release label: {}", e.release))?;
            let mut builds = Vec::new();
            for b in &e.builds {
                let d = parse_yyyymmdd(b)
                    .ok_or_else(|| format!("{}: build {b} is not YYYYMMDD", e.release))?;
                builds.push(d);
            }
            builds.sort_unstable();
            builds.dedup();
            releases.push(Release {
                family: label.family,
                version: label.version,
                builds,
            });
        }
        releases.sort_by(|a, b| (&a.family, a.version).cmp(&(&b.family, b.version)));
        let pi = ReleaseLabel::parse(&f.features.pod_identity_min_release)
            .map(|l| (l.family, l.version));
        Ok(ReleaseData {
            as_of: f.as_of,
            releases,
            pod_identity_min: pi,
        })
    }

    pub fn knows_family(&self, family: &str) -> bool {
        self.releases.iter().any(|r| r.family == family)
    }

    /// The newest release of a family.
    pub fn newest(&self, family: &str) -> Option<&Release> {
        self.releases.iter().rev().find(|r| r.family == family)
    }

    pub fn release(&self, family: &str, version: Version) -> Option<&Release> {
        self.releases
            .iter()
            .find(|r| r.family == family && r.version == version)
    }

    /// The newest known base-image build of `family` at `version` or any later release: the
    /// base an image of that release should have been rebuilt on. Returns the release and date.
    pub fn newest_build_from(&self, family: &str, version: Version) -> Option<(&Release, u32)> {
        self.releases
            .iter()
            .filter(|r| r.family == family && r.version >= version)
            .filter_map(|r| r.newest_build().map(|d| (r, d)))
            .max_by_key(|(r, d)| (*d, r.version))
    }

    /// Whether a release supports EKS Pod Identity (`emr-7.3.0` and later; every release of a
    /// newer family such as `emr-spark-8.0.0`).
    pub fn supports_pod_identity(&self, label: &ReleaseLabel) -> bool {
        match &self.pod_identity_min {
            Some((family, min)) if *family == label.family => label.version >= *min,
            Some(_) => label.family != "emr",
            None => true,
        }
    }
}

/// What is outdated about a release label, judged against the release list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staleness {
    /// The newest release of the family, when the label's release is older.
    pub newer_release: Option<String>,
    /// The newest release's major version differs (e.g. emr-6.x while emr-7.x exists).
    pub major_behind: bool,
    /// A pinned build date older than the newest known build of the same release, or pinned on
    /// a release that is no longer the newest (it will never receive a fix).
    pub old_pin: Option<OldPin>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OldPin {
    pub pinned: u32,
    /// The newest build known for the same release, if newer than the pin.
    pub newer_build_same_release: Option<u32>,
}

impl Staleness {
    pub fn is_stale(&self) -> bool {
        self.newer_release.is_some() || self.old_pin.is_some()
    }
}

/// Judge a release label (`None` for a family the data does not know).
pub fn staleness(label: &ReleaseLabel) -> Option<Staleness> {
    let data = ReleaseData::get();
    let newest = data.newest(&label.family)?;
    let newer_release = (newest.version > label.version).then(|| newest.name());
    let major_behind = newest.version.0 > label.version.0;
    let old_pin = match label.build {
        emrguard_model::release::Build::Date(d) => {
            let same = data
                .release(&label.family, label.version)
                .and_then(Release::newest_build)
                .filter(|n| *n > d);
            (same.is_some() || newer_release.is_some()).then_some(OldPin {
                pinned: d,
                newer_build_same_release: same,
            })
        }
        _ => None,
    };
    Some(Staleness {
        newer_release,
        major_behind,
        old_pin,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistriesFile {
    as_of: String,
    #[serde(default)]
    #[allow(dead_code)]
    sources: Vec<String>,
    #[serde(default)]
    public_prefixes: Vec<String>,
    accounts: BTreeMap<String, String>,
}

/// The ECR registries of the EMR on EKS base images.
#[derive(Debug, Clone, Default)]
pub struct BaseRegistries {
    pub as_of: String,
    /// region → account.
    pub accounts: BTreeMap<String, String>,
    /// `public.ecr.aws/emr-on-eks/`.
    pub public_prefixes: Vec<String>,
}

impl BaseRegistries {
    pub fn get() -> &'static BaseRegistries {
        static DATA: OnceLock<BaseRegistries> = OnceLock::new();
        DATA.get_or_init(|| BaseRegistries::parse(REGISTRIES_TOML).unwrap_or_default())
    }

    pub fn parse(text: &str) -> Result<BaseRegistries, String> {
        let f: RegistriesFile = toml::from_str(text).map_err(|e| e.to_string())?;
        for (region, account) in &f.accounts {
            if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
                return Err(format!("{region}: {account} is not an account id"));
            }
        }
        Ok(BaseRegistries {
            as_of: f.as_of,
            accounts: f.accounts,
            public_prefixes: f.public_prefixes,
        })
    }

    /// Whether `image` is an EMR on EKS base image: in the EMR registry account of its region
    /// (or on the ECR Public Gallery under `emr-on-eks/`) and naming an EMR release.
    pub fn is_emr_base(&self, image: &ImageRef) -> bool {
        if image.emr_release().is_none() {
            return false;
        }
        if let Some((account, region)) = image.ecr_account_region() {
            return self.accounts.get(region).is_some_and(|a| a == account);
        }
        let full = format!(
            "{}/{}",
            image.registry.as_deref().unwrap_or(""),
            image.repository
        );
        self.public_prefixes.iter().any(|p| full.starts_with(p))
    }

    /// The EMR registry account of a region.
    pub fn account_for(&self, region: &str) -> Option<&str> {
        self.accounts.get(region).map(String::as_str)
    }
}

/// `YYYYMMDD` (also `YYYY-MM-DD`) as a number.
pub fn parse_yyyymmdd(s: &str) -> Option<u32> {
    let digits: String = s.chars().filter(|c| *c != '-').collect();
    if digits.len() != 8 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n: u32 = digits.parse().ok()?;
    let (m, d) = ((n / 100) % 100, n % 100);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some(n)
}

/// `20260410` → `2026-04-10`.
pub fn fmt_date(d: u32) -> String {
    format!("{:04}-{:02}-{:02}", d / 10000, (d / 100) % 100, d % 100)
}

/// The date of a timestamp as the CLI prints it (`2026-03-20T16:45:12+00:00`, or epoch seconds
/// from some exporters), as `YYYYMMDD` (UTC date as written; offsets are not applied).
pub fn date_of(v: &serde_json::Value) -> Option<u32> {
    match v {
        serde_json::Value::String(s) => parse_yyyymmdd(s.get(..10)?),
        serde_json::Value::Number(n) => {
            let secs = n.as_f64()?;
            if !secs.is_finite() || secs < 0.0 {
                return None;
            }
            // Milliseconds from some exporters.
            let secs = if secs > 1.0e11 { secs / 1000.0 } else { secs };
            let days = (secs / 86_400.0).floor() as i64;
            let (y, m, d) = civil_from_days(days);
            u32::try_from(y * 10000 + m * 100 + d).ok()
        }
        _ => None,
    }
}

/// Days since 1970-01-01 → (year, month, day) (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn the_bundled_data_files_parse() {
        let r = ReleaseData::parse(RELEASES_TOML).unwrap();
        assert!(r.releases.len() > 30);
        assert_eq!(r.newest("emr").unwrap().name(), "emr-7.13.0");
        assert_eq!(r.newest("emr-spark").unwrap().name(), "emr-spark-8.0.0");
        assert_eq!(r.pod_identity_min, Some(("emr".to_owned(), (7, 3, 0))));
        let b = BaseRegistries::parse(REGISTRIES_TOML).unwrap();
        assert_eq!(b.account_for("us-west-2"), Some("895885662937"));
        assert_eq!(b.account_for("cn-north-1"), Some("068337069695"));
        assert_eq!(b.accounts.len(), 31);
        assert!(!ReleaseData::get().releases.is_empty());
        assert!(!BaseRegistries::get().accounts.is_empty());
    }

    #[test]
    fn newest_builds_and_staleness() {
        let r = ReleaseData::get();
        let (rel, d) = r.newest_build_from("emr", (7, 12, 0)).unwrap();
        assert_eq!((rel.name().as_str(), d), ("emr-7.13.0", 20260410));
        let s = staleness(&ReleaseLabel::parse("emr-6.9.0-20230624").unwrap()).unwrap();
        assert!(s.major_behind && s.old_pin.is_some());
        assert_eq!(s.newer_release.as_deref(), Some("emr-7.13.0"));
        let s = staleness(&ReleaseLabel::parse("emr-7.13.0-latest").unwrap()).unwrap();
        assert!(!s.is_stale());
        let s = staleness(&ReleaseLabel::parse("emr-7.13.0-20260410").unwrap()).unwrap();
        assert!(!s.is_stale());
        let s = staleness(&ReleaseLabel::parse("emr-7.12.0-latest").unwrap()).unwrap();
        assert!(s.is_stale() && !s.major_behind && s.old_pin.is_none());
        assert!(r.supports_pod_identity(&ReleaseLabel::parse("emr-7.3.0-latest").unwrap()));
        assert!(!r.supports_pod_identity(&ReleaseLabel::parse("emr-6.9.0-20230624").unwrap()));
        assert!(r.supports_pod_identity(&ReleaseLabel::parse("emr-spark-8.0.0-latest").unwrap()));
    }

    #[test]
    fn base_images() {
        let b = BaseRegistries::get();
        let yes = [
            "895885662937.dkr.ecr.us-west-2.amazonaws.com/spark/emr-7.13.0:latest",
            "068337069695.dkr.ecr.cn-north-1.amazonaws.com.cn/spark/emr-7.13.0:20260410",
            "public.ecr.aws/emr-on-eks/spark/emr-7.9.0:latest",
            "755674844232.dkr.ecr.us-east-1.amazonaws.com/notebook-spark/emr-7.13.0:latest",
        ];
        for i in yes {
            assert!(b.is_emr_base(&ImageRef::parse(i).unwrap()), "{i}");
        }
        let no = [
            "111122223333.dkr.ecr.us-west-2.amazonaws.com/spark/emr-7.13.0:latest",
            "895885662937.dkr.ecr.us-east-1.amazonaws.com/spark/emr-7.13.0:latest",
            "amazonlinux:2023",
            "public.ecr.aws/other/spark/emr-7.9.0:latest",
        ];
        for i in no {
            assert!(!b.is_emr_base(&ImageRef::parse(i).unwrap()), "{i}");
        }
    }

    #[test]
    fn dates() {
        assert_eq!(
            date_of(&serde_json::json!("2026-03-20T16:45:12+00:00")),
            Some(20260320)
        );
        assert_eq!(date_of(&serde_json::json!(1_774_025_112)), Some(20260320));
        assert_eq!(
            date_of(&serde_json::json!(1_774_025_112_000_i64)),
            Some(20260320)
        );
        assert_eq!(date_of(&serde_json::json!("bogus")), None);
        assert_eq!(fmt_date(20260410), "2026-04-10");
        assert_eq!(parse_yyyymmdd("20261340"), None);
    }
}
