//! Which pods run on AWS Fargate. A pod that matches a selector of one of the cluster's Fargate
//! profiles (its namespace, and every label the selector names) is scheduled onto Fargate: it
//! has no instance metadata service to reach, and EKS Pod Identity is not available to it (EKS
//! user guide, "EKS Pod Identity restrictions": "Linux and Windows pods that run on AWS Fargate
//! (Fargate) aren't supported"). Selector namespaces and label values may use the wildcards `*`
//! and `?` (EKS user guide, "Define which Pods use AWS Fargate when launched").

use emrguard_model::aws::eks::FargateProfile;
use emrguard_model::{EstateIndex, Located};

/// Selector wildcards: `*` any run of characters, `?` exactly one (the matcher suppressions use).
pub use emrguard_config::suppress::glob_match as glob;

/// A profile that places pods: active, or of unknown status (a `describe` without `status`).
fn live(p: &FargateProfile) -> bool {
    p.status
        .as_deref()
        .is_none_or(|s| s.eq_ignore_ascii_case("ACTIVE"))
}

/// The live Fargate profile whose label-free selector takes every pod of `ns`, if any, with
/// that selector's namespace pattern.
pub fn whole_namespace_profile<'s>(
    index: &EstateIndex<'s>,
    ns: &str,
) -> Option<(&'s Located<FargateProfile>, &'s str)> {
    index
        .snap
        .fargate_profiles
        .iter()
        .filter(|p| live(p))
        .find_map(|p| {
            p.selectors
                .iter()
                .find(|s| s.labels.is_empty() && glob(&s.namespace, ns))
                .map(|s| (p, s.namespace.as_str()))
        })
}

/// When every EMR namespace runs all its pods on Fargate: the profiles that place them.
pub fn emr_on_fargate(index: &EstateIndex<'_>) -> Option<Vec<String>> {
    let mut names = Vec::new();
    let mut any = false;
    for ns in index.emr_namespaces() {
        any = true;
        let (p, _) = whole_namespace_profile(index, ns)?;
        if !names.contains(&p.fargate_profile_name) {
            names.push(p.fargate_profile_name.clone());
        }
    }
    any.then_some(names)
}

/// The note node-credential rules add when EMR's pods never run on EC2 nodes.
pub fn emr_on_fargate_note(index: &EstateIndex<'_>) -> Option<String> {
    let names = emr_on_fargate(index)?;
    Some(format!(
        "Every EMR namespace runs all its pods on Fargate (profile{} {}), so EMR job pods never run on these nodes; other pods on them still can reach IMDS.",
        if names.len() == 1 { "" } else { "s" },
        names.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::glob;
    use proptest::prelude::*;

    #[test]
    fn wildcards() {
        assert!(glob("spark-*", "spark-team-a"));
        assert!(glob("spark-?", "spark-a"));
        assert!(!glob("spark-?", "spark-ab"));
        assert!(glob("*", ""));
        assert!(glob("a*b*c", "aXXbYYc"));
        assert!(!glob("a*b*c", "aXXbYY"));
        assert!(glob("emr", "emr"));
        assert!(!glob("emr", "emr-1"));
    }

    /// The same language as a regex (the reference).
    fn reference(p: &str, t: &str) -> bool {
        let mut re = String::from("^");
        for c in p.chars() {
            match c {
                '*' => re.push_str(".*"),
                '?' => re.push('.'),
                c => re.push_str(&regex::escape(&c.to_string())),
            }
        }
        re.push('$');
        regex::Regex::new(&re).is_ok_and(|r| r.is_match(t))
    }

    proptest! {
        #[test]
        fn agrees_with_a_regex(p in "[ab*?-]{0,8}", t in "[ab-]{0,10}") {
            prop_assert_eq!(glob(&p, &t), reference(&p, &t));
        }
    }
}
