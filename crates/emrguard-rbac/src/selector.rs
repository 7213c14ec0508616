//! Label selectors, as `metav1.LabelSelectorAsSelector` reads them for ClusterRole aggregation.
//!
//! - `matchLabels` and `matchExpressions` are ANDed.
//! - An empty selector (`{}`) selects every ClusterRole, as in the API server.
//! - `In`/`NotIn` need at least one value; `Exists`/`DoesNotExist` take none. A selector that
//!   breaks these rules is invalid: the aggregation controller then fails for that role, so it
//!   selects nothing here and the graph reports it.
//! - `NotIn` also matches objects without the key (`DoesNotExist` semantics for the key).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Req {
    Eq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

/// A compiled selector. No requirements = selects everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector(Vec<Req>);

impl Selector {
    pub fn compile(sel: &LabelSelector) -> Result<Selector, String> {
        let mut reqs = Vec::new();
        for (k, v) in sel.match_labels.iter().flatten() {
            reqs.push(Req::Eq(k.clone(), v.clone()));
        }
        for e in sel.match_expressions.iter().flatten() {
            let values = e.values.clone().unwrap_or_default();
            let key = e.key.clone();
            let req = match e.operator.as_str() {
                "In" | "NotIn" if values.is_empty() => {
                    return Err(format!(
                        "operator {} on key `{}` needs at least one value",
                        e.operator, e.key
                    ))
                }
                "Exists" | "DoesNotExist" if !values.is_empty() => {
                    return Err(format!(
                        "operator {} on key `{}` takes no values",
                        e.operator, e.key
                    ))
                }
                "In" => Req::In(key, values),
                "NotIn" => Req::NotIn(key, values),
                "Exists" => Req::Exists(key),
                "DoesNotExist" => Req::DoesNotExist(key),
                other => {
                    return Err(format!(
                        "unknown selector operator `{other}` on key `{}`",
                        e.key
                    ))
                }
            };
            reqs.push(req);
        }
        Ok(Selector(reqs))
    }

    pub fn matches(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k));
        self.0.iter().all(|r| match r {
            Req::Eq(k, v) => get(k) == Some(v),
            Req::In(k, vs) => get(k).is_some_and(|x| vs.contains(x)),
            Req::NotIn(k, vs) => get(k).is_none_or(|x| !vs.contains(x)),
            Req::Exists(k) => get(k).is_some(),
            Req::DoesNotExist(k) => get(k).is_none(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn expr(key: &str, op: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: if values.is_empty() {
                None
            } else {
                Some(values.iter().map(|s| s.to_string()).collect())
            },
        }
    }

    #[test]
    fn operators() {
        let l = labels(&[("a", "1"), ("b", "2")]);
        let sel = |e: Vec<LabelSelectorRequirement>| {
            Selector::compile(&LabelSelector {
                match_expressions: Some(e),
                match_labels: None,
            })
            .unwrap()
        };
        assert!(sel(vec![expr("a", "In", &["1", "3"])]).matches(Some(&l)));
        assert!(!sel(vec![expr("a", "In", &["3"])]).matches(Some(&l)));
        assert!(sel(vec![expr("c", "NotIn", &["1"])]).matches(Some(&l)));
        assert!(!sel(vec![expr("a", "NotIn", &["1"])]).matches(Some(&l)));
        assert!(sel(vec![expr("a", "Exists", &[])]).matches(Some(&l)));
        assert!(!sel(vec![expr("c", "Exists", &[])]).matches(Some(&l)));
        assert!(sel(vec![expr("c", "DoesNotExist", &[])]).matches(None));
        assert!(!sel(vec![expr("a", "DoesNotExist", &[])]).matches(Some(&l)));
    }

    #[test]
    fn empty_selects_everything_and_labels_are_anded() {
        assert!(Selector::compile(&LabelSelector::default())
            .unwrap()
            .matches(None));
        let s = Selector::compile(&LabelSelector {
            match_labels: Some(labels(&[("a", "1")])),
            match_expressions: Some(vec![expr("b", "Exists", &[])]),
        })
        .unwrap();
        assert!(s.matches(Some(&labels(&[("a", "1"), ("b", "x")]))));
        assert!(!s.matches(Some(&labels(&[("a", "1")]))));
    }

    #[test]
    fn invalid_selectors_are_errors() {
        for e in [
            expr("a", "In", &[]),
            expr("a", "Exists", &["x"]),
            expr("a", "Gt", &["1"]),
        ] {
            assert!(Selector::compile(&LabelSelector {
                match_expressions: Some(vec![e]),
                match_labels: None
            })
            .is_err());
        }
    }
}
