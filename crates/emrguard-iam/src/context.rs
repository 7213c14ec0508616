//! The request context a decision is made in: condition-key values (`aws:SourceIp`,
//! `oidc.eks.../id/X:sub`, `emr-containers:ExecutionRoleArn`...).
//!
//! A key the context does not mention is *unknown* (conditions on it make the decision
//! [`crate::Decision::Conditional`]) unless the context is [`Context::closed`], where every
//! unmentioned key is *absent* (as in a real request). A key can also be marked absent
//! explicitly with [`Context::with_absent`].

use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct Context {
    /// lower-cased key -> values (`None`: known to be absent)
    values: HashMap<String, Option<Vec<String>>>,
    closed: bool,
}

/// What the context says about a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    Values(&'a [String]),
    Absent,
    Unknown,
}

impl Context {
    /// An open context: keys it does not mention are unknown.
    pub fn new() -> Self {
        Context::default()
    }

    /// A closed context: keys it does not mention are absent from the request.
    pub fn closed() -> Self {
        Context {
            values: HashMap::new(),
            closed: true,
        }
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Set a single-valued key.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.set(key, vec![value.into()]);
        self
    }

    /// Set a multi-valued key (`aws:TagKeys`, `aws:PrincipalServiceNamesList`).
    pub fn with_values<I, S>(mut self, key: &str, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.set(key, values.into_iter().map(Into::into).collect());
        self
    }

    /// Mark a key as absent from the request.
    pub fn with_absent(mut self, key: &str) -> Self {
        self.set_absent(key);
        self
    }

    pub fn set(&mut self, key: &str, values: Vec<String>) {
        self.values.insert(key.to_ascii_lowercase(), Some(values));
    }

    pub fn set_absent(&mut self, key: &str) {
        self.values.insert(key.to_ascii_lowercase(), None);
    }

    /// What the context says about `key` (case-insensitive).
    pub fn lookup(&self, key: &str) -> Lookup<'_> {
        let found = if key.bytes().any(|b| b.is_ascii_uppercase()) {
            self.values.get(&key.to_ascii_lowercase())
        } else {
            self.values.get(key)
        };
        match found {
            Some(Some(v)) => Lookup::Values(v),
            Some(None) => Lookup::Absent,
            None if self.closed => Lookup::Absent,
            None => Lookup::Unknown,
        }
    }
}

/// A piece of a string that may contain policy variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    /// Raw text: `*` and `?` in it are wildcards where the element allows them.
    Raw(String),
    /// A character produced by `${*}`, `${?}` or `${$}`: always literal.
    Escaped(char),
    /// `${key}` or `${key, 'default'}`; key lower-cased.
    Var {
        key: String,
        default: Option<String>,
    },
}

/// Split a policy string into raw text, escapes and variables. Returns `None` when the string
/// has no `${`, so the caller can use it as is.
pub(crate) fn parse_vars(s: &str) -> Option<Vec<Part>> {
    if !s.contains("${") {
        return None;
    }
    let mut parts = Vec::new();
    let mut raw = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        let (before, after) = rest.split_at(i);
        raw.push_str(before);
        let inner_and_more = after.get(2..).unwrap_or("");
        let Some(end) = inner_and_more.find('}') else {
            // Unterminated: literal text.
            raw.push_str(after);
            rest = "";
            break;
        };
        let inner = inner_and_more.get(..end).unwrap_or("");
        rest = inner_and_more.get(end + 1..).unwrap_or("");
        let part = match inner.trim() {
            "*" => Part::Escaped('*'),
            "?" => Part::Escaped('?'),
            "$" => Part::Escaped('$'),
            other => {
                let (key, default) = match other.split_once(',') {
                    Some((k, d)) => {
                        let d = d.trim();
                        let d = d
                            .strip_prefix('\'')
                            .and_then(|d| d.strip_suffix('\''))
                            .unwrap_or(d);
                        (k.trim(), Some(d.to_owned()))
                    }
                    None => (other, None),
                };
                Part::Var {
                    key: key.to_ascii_lowercase(),
                    default,
                }
            }
        };
        if !raw.is_empty() {
            parts.push(Part::Raw(std::mem::take(&mut raw)));
        }
        parts.push(part);
    }
    raw.push_str(rest);
    if !raw.is_empty() {
        parts.push(Part::Raw(raw));
    }
    Some(parts)
}

/// Result of substituting variables.
pub(crate) enum Resolved {
    /// Tokens ready for a wildcard matcher (or concatenation for exact matching).
    Tokens(Vec<crate::glob::Tok>),
    /// A variable is not in the (open) context: the key is returned.
    Unknown(String),
    /// A variable is absent and has no default: the value matches nothing.
    Absent,
}

pub(crate) fn resolve(parts: &[Part], ctx: &Context, wildcards: bool) -> Resolved {
    use crate::glob::Tok;
    let mut toks: Vec<Tok> = Vec::new();
    let push_lit = |toks: &mut Vec<Tok>, s: &str| match toks.last_mut() {
        Some(Tok::Lit(l)) => l.push_str(s),
        _ => toks.push(Tok::Lit(s.to_owned())),
    };
    for p in parts {
        match p {
            Part::Raw(r) => {
                if wildcards {
                    for t in crate::glob::tokenize(r) {
                        match t {
                            Tok::Lit(l) => push_lit(&mut toks, &l),
                            other => toks.push(other),
                        }
                    }
                } else {
                    push_lit(&mut toks, r);
                }
            }
            Part::Escaped(c) => push_lit(&mut toks, c.encode_utf8(&mut [0u8; 4])),
            Part::Var { key, default } => match ctx.lookup(key) {
                Lookup::Values(v) => match v.first() {
                    Some(val) => push_lit(&mut toks, val),
                    None => match default {
                        Some(d) => push_lit(&mut toks, d),
                        None => return Resolved::Absent,
                    },
                },
                Lookup::Absent => match default {
                    Some(d) => push_lit(&mut toks, d),
                    None => return Resolved::Absent,
                },
                // With a default the outcome still depends on the key: unknown.
                Lookup::Unknown => return Resolved::Unknown(key.clone()),
            },
        }
    }
    Resolved::Tokens(toks)
}

/// Concatenate tokens back into a plain string (for exact comparisons).
pub(crate) fn tokens_to_string(toks: &[crate::glob::Tok]) -> String {
    use crate::glob::Tok;
    let mut s = String::new();
    for t in toks {
        match t {
            Tok::Lit(l) => s.push_str(l),
            Tok::Star => s.push('*'),
            Tok::One => s.push('?'),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_parse() {
        assert_eq!(parse_vars("plain"), None);
        let p = parse_vars("home/${aws:username}/${*}x${aws:PrincipalTag/team, 'none'}").unwrap();
        assert_eq!(
            p,
            vec![
                Part::Raw("home/".into()),
                Part::Var {
                    key: "aws:username".into(),
                    default: None
                },
                Part::Raw("/".into()),
                Part::Escaped('*'),
                Part::Raw("x".into()),
                Part::Var {
                    key: "aws:principaltag/team".into(),
                    default: Some("none".into())
                },
            ]
        );
    }

    #[test]
    fn lookup_modes() {
        let c = Context::new()
            .with("aws:username", "bob")
            .with_absent("aws:SourceIp");
        assert_eq!(
            c.lookup("AWS:UserName"),
            Lookup::Values(&["bob".to_owned()])
        );
        assert_eq!(c.lookup("aws:sourceip"), Lookup::Absent);
        assert_eq!(c.lookup("aws:SourceVpc"), Lookup::Unknown);
        assert_eq!(Context::closed().lookup("x:y"), Lookup::Absent);
    }
}
