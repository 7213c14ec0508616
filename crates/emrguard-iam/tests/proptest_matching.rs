//! Wildcard matching against a naive reference (regex), and set operations against BTreeSet.

// Integration-test helpers outside `#[test]` functions: failing loudly is what a test wants.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use emrguard_iam::{
    action_matches, arn_like, resource_matches, wildcard_match, ActionSet, Catalogue,
};
use proptest::prelude::*;
use std::collections::BTreeSet;

/// Reference: translate `*` -> `.*`, `?` -> `.`, everything else literal, anchored.
fn reference(pattern: &str, text: &str, case_insensitive: bool) -> bool {
    reference_regex(pattern, case_insensitive).is_match(text)
}

fn reference_regex(pattern: &str, case_insensitive: bool) -> regex::Regex {
    let mut re = String::from(if case_insensitive { "(?is)^" } else { "(?s)^" });
    for c in pattern.chars() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re).unwrap()
}

fn reference_arn(pattern: &str, arn: &str) -> bool {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    if p.len() != a.len() {
        return p.len() < 6 && a.len() < 6 && reference(pattern, arn, false);
    }
    p.iter().zip(a.iter()).all(|(p, a)| reference(p, a, false))
}

/// Small alphabets make matches likely.
fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just('a'),
            Just('b'),
            Just(':'),
            Just('/'),
            Just('é'),
            Just('A')
        ],
        0..12,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn pattern() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just('a'),
            Just('b'),
            Just(':'),
            Just('/'),
            Just('é'),
            Just('A'),
            Just('*'),
            Just('?')
        ],
        0..10,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn arn() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("aws"), Just("aws-cn")],
        prop_oneof![Just("s3"), Just("iam"), Just("emr-containers")],
        prop_oneof![Just(""), Just("us-east-1")],
        prop_oneof![Just(""), Just("111122223333"), Just("444455556666")],
        text(),
    )
        .prop_map(|(p, s, r, a, res)| format!("arn:{p}:{s}:{r}:{a}:{res}"))
}

fn arn_pattern() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("aws"), Just("*"), Just("aws*")],
        prop_oneof![Just("s3"), Just("*"), Just("i?m"), Just("emr-*")],
        prop_oneof![Just(""), Just("*"), Just("us-*")],
        prop_oneof![Just(""), Just("*"), Just("1111*"), Just("444455556666")],
        pattern(),
    )
        .prop_map(|(p, s, r, a, res)| format!("arn:{p}:{s}:{r}:{a}:{res}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn wildcard_agrees_with_regex(p in pattern(), t in text()) {
        prop_assert_eq!(wildcard_match(&p, &t), reference(&p, &t, false), "pattern {:?} text {:?}", p, t);
        prop_assert_eq!(resource_matches(&p, &t), reference(&p, &t, false));
    }

    #[test]
    fn actions_are_case_insensitive(p in pattern(), t in text()) {
        // ASCII case folding only (action names are ASCII).
        let expected = reference(&p.to_ascii_lowercase(), &t.to_ascii_lowercase(), false);
        prop_assert_eq!(action_matches(&p, &t), expected);
        prop_assert_eq!(action_matches(&p.to_ascii_uppercase(), &t), expected);
    }

    #[test]
    fn arn_like_agrees_with_reference(p in arn_pattern(), a in arn()) {
        prop_assert_eq!(arn_like(&p, &a), reference_arn(&p, &a), "pattern {:?} arn {:?}", p, a);
    }

}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

    #[test]
    fn expansion_agrees_with_naive_scan(seed in 0u32..22000, cut in 0usize..12, len in 0usize..6, q in any::<bool>(), svc_wild in any::<bool>()) {
        // Build a pattern from a real action by replacing a piece with `*` or `?`.
        let cat = Catalogue::global();
        let name = cat.action_name(seed % cat.len());
        let (svc, act) = name.split_once(':').unwrap();
        let chars: Vec<char> = act.chars().collect();
        let start = cut.min(chars.len());
        let end = (start + len).min(chars.len());
        let mut a: String = chars[..start].iter().collect();
        a.push(if q { '?' } else { '*' });
        a.extend(chars[end..].iter());
        let svc_part = if svc_wild { format!("{}*", &svc[..1]) } else { svc.to_uppercase() };
        let pat = format!("{svc_part}:{a}");
        let got = cat.expand(&pat);
        let re = reference_regex(&pat, true);
        let naive: Vec<u32> = (0..cat.len()).filter(|&i| re.is_match(&cat.action_name(i))).collect();
        prop_assert_eq!(got.to_vec(), naive, "pattern {}", pat);
    }

    #[test]
    fn action_set_ops_agree_with_btreeset(
        a in proptest::collection::vec(0u32..3000, 0..1500),
        b in proptest::collection::vec(0u32..3000, 0..40),
    ) {
        let u = 3000;
        let (sa, sb) = (ActionSet::from_ids(a.clone(), u), ActionSet::from_ids(b.clone(), u));
        let (ra, rb): (BTreeSet<u32>, BTreeSet<u32>) = (a.into_iter().collect(), b.into_iter().collect());
        prop_assert_eq!(sa.to_vec(), ra.iter().copied().collect::<Vec<_>>());
        prop_assert_eq!(sa.union(&sb).to_vec(), ra.union(&rb).copied().collect::<Vec<_>>());
        prop_assert_eq!(sa.intersection(&sb).to_vec(), ra.intersection(&rb).copied().collect::<Vec<_>>());
        prop_assert_eq!(sb.intersection(&sa).to_vec(), ra.intersection(&rb).copied().collect::<Vec<_>>());
        prop_assert_eq!(sa.difference(&sb).to_vec(), ra.difference(&rb).copied().collect::<Vec<_>>());
        prop_assert_eq!(sb.difference(&sa).to_vec(), rb.difference(&ra).copied().collect::<Vec<_>>());
        prop_assert_eq!(sa.intersects(&sb), !ra.is_disjoint(&rb));
        prop_assert_eq!(sa.is_superset(&sb), ra.is_superset(&rb));
        prop_assert_eq!(sa.len(), ra.len());
        prop_assert_eq!(sa.count_in(100..2100), ra.range(100..2100).count());
    }
}
