//! Rule selection (`--select` / `--ignore`, config `select` / `ignore`): by rule id, id prefix
//! or practice slug, the more specific winning.

use crate::{registry, Rule, RuleMeta};
use emrguard_model::Practice;

/// The id families of the catalogue, valid as prefixes even before they have rules.
pub const ID_PREFIXES: [&str; 7] = ["IAM", "NET", "IMG", "POD", "TEN", "RBAC", "NODE"];

/// A reference to rules: a practice, an id prefix or one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Practice(Practice),
    /// Upper-case id prefix (`RBAC`, `NET00`).
    Prefix(String),
    Rule(&'static str),
}

impl Selector {
    /// Parse `rbac`, `RBAC`, `rbac00`, `RBAC001` (case-insensitive). The error explains and
    /// suggests the closest valid reference.
    pub fn parse(s: &str) -> Result<Selector, String> {
        let t = s.trim();
        if let Some(p) = Practice::ALL
            .into_iter()
            .find(|p| p.slug().eq_ignore_ascii_case(t))
        {
            return Ok(Selector::Practice(p));
        }
        let up = t.to_ascii_uppercase();
        if let Some(r) = registry().iter().find(|r| r.meta().id == up) {
            return Ok(Selector::Rule(r.meta().id));
        }
        let letters = up.chars().take_while(char::is_ascii_alphabetic).count();
        let well_formed = letters > 0
            && up.chars().skip(letters).all(|c| c.is_ascii_digit())
            && up.len() <= letters + 3;
        let family = up.get(..letters).unwrap_or("");
        if well_formed && up.len() < letters + 3 && ID_PREFIXES.contains(&family) {
            return Ok(Selector::Prefix(up));
        }
        if well_formed
            && up.len() < letters + 3
            && registry().iter().any(|r| r.meta().id.starts_with(&up))
        {
            return Ok(Selector::Prefix(up));
        }
        let mut candidates: Vec<&str> = registry().iter().map(|r| r.meta().id).collect();
        candidates.extend(ID_PREFIXES);
        candidates.extend(Practice::ALL.iter().map(|p| p.slug()));
        let hint = emrguard_config::suggest(t, candidates.iter().copied())
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_default();
        if well_formed && up.len() == letters + 3 {
            Err(format!("no rule `{t}`{hint} (`emrguard rules` lists them)"))
        } else {
            Err(format!(
                "`{t}` is not a rule id, id prefix ({}) or practice ({}){hint}",
                ID_PREFIXES.join(", "),
                Practice::ALL.map(|p| p.slug()).join(", ")
            ))
        }
    }

    pub fn matches(&self, m: &RuleMeta) -> bool {
        match self {
            Selector::Practice(p) => m.practice == *p,
            Selector::Prefix(p) => m.id.starts_with(p.as_str()),
            Selector::Rule(id) => m.id == *id,
        }
    }

    /// Practice < prefix (longer is more specific) < rule id.
    pub fn specificity(&self) -> (u8, usize) {
        match self {
            Selector::Practice(_) => (0, 0),
            Selector::Prefix(p) => (1, p.len()),
            Selector::Rule(_) => (2, 0),
        }
    }
}

/// The rules to run. An empty `select` means every rule. For each rule, the most specific
/// matching reference of `select` and of `ignore` are compared: the more specific wins, and
/// `ignore` wins a tie. Errors name the first reference that is not valid.
pub fn select(select: &[String], ignore: &[String]) -> Result<Vec<&'static dyn Rule>, String> {
    let parse = |list: &[String]| -> Result<Vec<Selector>, String> {
        list.iter().map(|s| Selector::parse(s)).collect()
    };
    let sel = parse(select)?;
    let ign = parse(ignore)?;
    let best = |list: &[Selector], m: &RuleMeta| {
        list.iter()
            .filter(|s| s.matches(m))
            .map(Selector::specificity)
            .max()
    };
    Ok(registry()
        .iter()
        .copied()
        .filter(|r| {
            let m = r.meta();
            let s = best(&sel, m);
            let i = best(&ign, m);
            if sel.is_empty() {
                i.is_none()
            } else {
                match (s, i) {
                    (None, _) => false,
                    (Some(_), None) => true,
                    (Some(s), Some(i)) => s > i,
                }
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ids(v: &[&'static dyn Rule]) -> Vec<&'static str> {
        v.iter().map(|r| r.meta().id).collect()
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn parses_references() {
        assert_eq!(
            Selector::parse("pod-credentials").unwrap(),
            Selector::Practice(Practice::PodCredentials)
        );
        assert_eq!(Selector::parse("net001").unwrap(), Selector::Rule("NET001"));
        assert_eq!(
            Selector::parse("NET").unwrap(),
            Selector::Prefix("NET".into())
        );
        assert_eq!(
            Selector::parse("net00").unwrap(),
            Selector::Prefix("NET00".into())
        );
        assert_eq!(
            Selector::parse("TEN").unwrap(),
            Selector::Prefix("TEN".into())
        );
        let e = Selector::parse("NET999").unwrap_err();
        assert!(e.starts_with("no rule `NET999`"), "{e}");
        let e = Selector::parse("pod-credential").unwrap_err();
        assert!(e.contains("did you mean `pod-credentials`?"), "{e}");
        assert!(Selector::parse("NETX").is_err());
        assert!(Selector::parse("").is_err());
    }

    #[test]
    fn the_more_specific_wins() {
        let all = ids(&select(&[], &[]).unwrap());
        assert_eq!(all, ids(registry()));
        let net = ids(&select(&s(&["endpoint-access"]), &[]).unwrap());
        assert!(net.iter().all(|i| i.starts_with("NET")) && net.contains(&"NET001"));
        // Ignore a practice, select one rule back.
        let v = ids(&select(&[], &s(&["endpoint-access"])).unwrap());
        assert!(!v.iter().any(|i| i.starts_with("NET")));
        let v = ids(&select(&s(&["NET001", "pod-credentials"]), &s(&["endpoint-access"])).unwrap());
        assert!(v.contains(&"NET001") && !v.contains(&"NET002") && v.contains(&"POD001"));
        // A rule id beats its prefix in ignore.
        let v = ids(&select(&s(&["NET"]), &s(&["NET002"])).unwrap());
        assert!(v.contains(&"NET001") && !v.contains(&"NET002"));
        // A longer prefix beats a shorter one; a tie goes to ignore.
        let v = ids(&select(&s(&["NET00"]), &s(&["NET"])).unwrap());
        assert!(v.contains(&"NET001"));
        let v = ids(&select(&s(&["NET"]), &s(&["net"])).unwrap());
        assert!(v.is_empty());
        assert!(select(&s(&["nope"]), &[]).is_err());
    }
}
