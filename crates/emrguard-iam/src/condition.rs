//! Condition operators and their evaluation.
//!
//! Every operator family of the IAM policy grammar: `String*`, `Numeric*`, `Date*`, `Bool`,
//! `BinaryEquals`, `IpAddress`/`NotIpAddress`, `Arn*`, `Null`, the `...IfExists` suffix and the
//! `ForAllValues:`/`ForAnyValue:` set prefixes. Semantics follow the IAM User Guide ("IAM JSON
//! policy elements: Condition operators" and "Multivalued context keys"):
//!
//! - several values for one key: OR (for negated operators: the context value matches none);
//! - a key missing from the request: the condition is false, except for negated operators
//!   (true), `...IfExists` (true), `Null` and `ForAllValues:` (true);
//! - `ForAnyValue:` is true when at least one request value satisfies the operator, `ForAllValues:`
//!   when every request value does;
//! - policy variables (`${aws:username}`) in values are substituted from the context (2012-10-17
//!   policies only).

use crate::context::{parse_vars, resolve, tokens_to_string, Context, Lookup, Part, Resolved};
use crate::glob::Glob;
use base64::Engine;
use std::net::IpAddr;

/// Three-valued result: the context may not say enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tri {
    True,
    False,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BaseOperator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

const OPERATORS: [(&str, BaseOperator); 27] = [
    ("StringEquals", BaseOperator::StringEquals),
    ("StringNotEquals", BaseOperator::StringNotEquals),
    (
        "StringEqualsIgnoreCase",
        BaseOperator::StringEqualsIgnoreCase,
    ),
    (
        "StringNotEqualsIgnoreCase",
        BaseOperator::StringNotEqualsIgnoreCase,
    ),
    ("StringLike", BaseOperator::StringLike),
    ("StringNotLike", BaseOperator::StringNotLike),
    ("NumericEquals", BaseOperator::NumericEquals),
    ("NumericNotEquals", BaseOperator::NumericNotEquals),
    ("NumericLessThan", BaseOperator::NumericLessThan),
    ("NumericLessThanEquals", BaseOperator::NumericLessThanEquals),
    ("NumericGreaterThan", BaseOperator::NumericGreaterThan),
    (
        "NumericGreaterThanEquals",
        BaseOperator::NumericGreaterThanEquals,
    ),
    ("DateEquals", BaseOperator::DateEquals),
    ("DateNotEquals", BaseOperator::DateNotEquals),
    ("DateLessThan", BaseOperator::DateLessThan),
    ("DateLessThanEquals", BaseOperator::DateLessThanEquals),
    ("DateGreaterThan", BaseOperator::DateGreaterThan),
    ("DateGreaterThanEquals", BaseOperator::DateGreaterThanEquals),
    ("Bool", BaseOperator::Bool),
    ("BinaryEquals", BaseOperator::BinaryEquals),
    ("IpAddress", BaseOperator::IpAddress),
    ("NotIpAddress", BaseOperator::NotIpAddress),
    ("ArnEquals", BaseOperator::ArnEquals),
    ("ArnLike", BaseOperator::ArnLike),
    ("ArnNotEquals", BaseOperator::ArnNotEquals),
    ("ArnNotLike", BaseOperator::ArnNotLike),
    ("Null", BaseOperator::Null),
];

impl BaseOperator {
    pub fn name(self) -> &'static str {
        OPERATORS
            .iter()
            .find(|(_, o)| *o == self)
            .map_or("", |(n, _)| n)
    }

    /// Operators that are true when the value matches none of the policy values.
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            BaseOperator::StringNotEquals
                | BaseOperator::StringNotEqualsIgnoreCase
                | BaseOperator::StringNotLike
                | BaseOperator::NumericNotEquals
                | BaseOperator::DateNotEquals
                | BaseOperator::NotIpAddress
                | BaseOperator::ArnNotEquals
                | BaseOperator::ArnNotLike
        )
    }

    fn positive(self) -> BaseOperator {
        match self {
            BaseOperator::StringNotEquals => BaseOperator::StringEquals,
            BaseOperator::StringNotEqualsIgnoreCase => BaseOperator::StringEqualsIgnoreCase,
            BaseOperator::StringNotLike => BaseOperator::StringLike,
            BaseOperator::NumericNotEquals => BaseOperator::NumericEquals,
            BaseOperator::DateNotEquals => BaseOperator::DateEquals,
            BaseOperator::NotIpAddress => BaseOperator::IpAddress,
            BaseOperator::ArnNotEquals => BaseOperator::ArnEquals,
            BaseOperator::ArnNotLike => BaseOperator::ArnLike,
            other => other,
        }
    }

    /// Operators whose values may hold `*`/`?` wildcards.
    fn wildcards(self) -> bool {
        matches!(
            self.positive(),
            BaseOperator::StringLike | BaseOperator::ArnLike | BaseOperator::ArnEquals
        )
    }

    /// Operators whose values may hold policy variables.
    fn variables(self) -> bool {
        matches!(
            self.positive(),
            BaseOperator::StringEquals
                | BaseOperator::StringEqualsIgnoreCase
                | BaseOperator::StringLike
                | BaseOperator::ArnEquals
                | BaseOperator::ArnLike
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetOperator {
    ForAllValues,
    ForAnyValue,
}

/// A parsed condition operator (`ForAnyValue:StringLikeIfExists`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operator {
    pub base: BaseOperator,
    pub if_exists: bool,
    pub set: Option<SetOperator>,
}

impl Operator {
    /// Parse an operator; `None` when unknown. Operator names are matched case-insensitively.
    pub fn parse(s: &str) -> Option<Operator> {
        let (set, rest) = if let Some(r) = strip_prefix_ci(s, "ForAllValues:") {
            (Some(SetOperator::ForAllValues), r)
        } else if let Some(r) = strip_prefix_ci(s, "ForAnyValue:") {
            (Some(SetOperator::ForAnyValue), r)
        } else {
            (None, s)
        };
        let (if_exists, base) = match strip_suffix_ci(rest, "IfExists") {
            Some(b) => (true, b),
            None => (false, rest),
        };
        let base = OPERATORS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(base))
            .map(|(_, o)| *o)?;
        if base == BaseOperator::Null && if_exists {
            return None;
        }
        Some(Operator {
            base,
            if_exists,
            set,
        })
    }
}

fn strip_prefix_ci<'a>(s: &'a str, p: &str) -> Option<&'a str> {
    let head = s.get(..p.len())?;
    if head.eq_ignore_ascii_case(p) {
        s.get(p.len()..)
    } else {
        None
    }
}

fn strip_suffix_ci<'a>(s: &'a str, p: &str) -> Option<&'a str> {
    let cut = s.len().checked_sub(p.len())?;
    let tail = s.get(cut..)?;
    if tail.eq_ignore_ascii_case(p) {
        s.get(..cut)
    } else {
        None
    }
}

/// A policy value, precompiled where possible.
#[derive(Debug, Clone)]
pub(crate) enum CondValue {
    /// No variables: the text, and a wildcard matcher for `*Like`/`Arn*` operators.
    Plain { text: Box<str>, glob: Option<Glob> },
    /// With variables: resolved per request.
    Vars(Vec<Part>),
}

/// One `operator: { key: values }` entry of a statement's `Condition`.
#[derive(Debug, Clone)]
pub(crate) struct ConditionBlock {
    /// `None` when the operator is unknown: the block is then never satisfied with certainty.
    pub op: Option<Operator>,
    pub op_text: Box<str>,
    pub key: Box<str>,
    pub key_lower: Box<str>,
    pub values: Vec<Box<str>>,
    compiled: Vec<CondValue>,
}

impl ConditionBlock {
    pub(crate) fn new(op_text: &str, key: &str, values: Vec<Box<str>>, vars_enabled: bool) -> Self {
        let op = Operator::parse(op_text);
        let compiled = values
            .iter()
            .map(|v| {
                let parts = if vars_enabled && op.is_some_and(|o| o.base.variables()) {
                    parse_vars(v)
                } else {
                    None
                };
                match parts {
                    Some(p) => CondValue::Vars(p),
                    None => {
                        let glob = match op {
                            Some(o) if o.base.positive() == BaseOperator::StringLike => {
                                Some(Glob::new(v))
                            }
                            _ => None,
                        };
                        CondValue::Plain {
                            text: v.clone(),
                            glob,
                        }
                    }
                }
            })
            .collect();
        ConditionBlock {
            op,
            op_text: op_text.into(),
            key: key.into(),
            key_lower: key.to_ascii_lowercase().into(),
            values,
            compiled,
        }
    }

    /// Evaluate against the context.
    pub(crate) fn eval(&self, ctx: &Context) -> Tri {
        let Some(op) = self.op else {
            return Tri::Unknown;
        };
        let lookup = ctx.lookup(&self.key_lower);
        if op.base == BaseOperator::Null {
            let want_absent = match lookup {
                Lookup::Unknown => return Tri::Unknown,
                Lookup::Absent => true,
                Lookup::Values(v) => v.is_empty(),
            };
            let any = self
                .values
                .iter()
                .any(|p| p.eq_ignore_ascii_case("true") == want_absent);
            return tri(any);
        }
        let negated = op.base.is_negated();
        let positive = op.base.positive();
        let vals = match lookup {
            Lookup::Unknown => return Tri::Unknown,
            Lookup::Absent => {
                return match op.set {
                    Some(SetOperator::ForAllValues) => Tri::True,
                    Some(SetOperator::ForAnyValue) => tri(op.if_exists),
                    None => tri(op.if_exists || negated),
                };
            }
            Lookup::Values(v) => v,
        };
        // Does one request value match any policy value (positive operator)?
        let one = |v: &str| -> Tri {
            let mut unknown = false;
            for cv in &self.compiled {
                match match_value(positive, cv, v, ctx) {
                    Tri::True => return Tri::True,
                    Tri::Unknown => unknown = true,
                    Tri::False => {}
                }
            }
            if unknown {
                Tri::Unknown
            } else {
                Tri::False
            }
        };
        let per_value = |v: &str| -> Tri {
            let r = one(v);
            if negated {
                not(r)
            } else {
                r
            }
        };
        match op.set {
            None => {
                if vals.is_empty() {
                    return tri(op.if_exists || negated);
                }
                // Any request value matching any policy value.
                let r = any_of(vals.iter().map(|v| one(v)));
                if negated {
                    not(r)
                } else {
                    r
                }
            }
            Some(SetOperator::ForAnyValue) => any_of(vals.iter().map(|v| per_value(v))),
            Some(SetOperator::ForAllValues) => all_of(vals.iter().map(|v| per_value(v))),
        }
    }

    /// The context keys this block depends on: its key and the variables in its values.
    pub(crate) fn unknown_keys(&self, ctx: &Context) -> Vec<String> {
        let mut out = Vec::new();
        if self.op.is_some() && ctx.lookup(&self.key_lower) == Lookup::Unknown {
            out.push(self.key.to_string());
        }
        for cv in &self.compiled {
            if let CondValue::Vars(parts) = cv {
                for p in parts {
                    if let Part::Var { key, .. } = p {
                        if ctx.lookup(key) == Lookup::Unknown && !out.contains(key) {
                            out.push(key.clone());
                        }
                    }
                }
            }
        }
        out
    }
}

fn tri(b: bool) -> Tri {
    if b {
        Tri::True
    } else {
        Tri::False
    }
}

fn not(t: Tri) -> Tri {
    match t {
        Tri::True => Tri::False,
        Tri::False => Tri::True,
        Tri::Unknown => Tri::Unknown,
    }
}

fn any_of(it: impl Iterator<Item = Tri>) -> Tri {
    let mut unknown = false;
    for t in it {
        match t {
            Tri::True => return Tri::True,
            Tri::Unknown => unknown = true,
            Tri::False => {}
        }
    }
    if unknown {
        Tri::Unknown
    } else {
        Tri::False
    }
}

fn all_of(it: impl Iterator<Item = Tri>) -> Tri {
    let mut unknown = false;
    for t in it {
        match t {
            Tri::False => return Tri::False,
            Tri::Unknown => unknown = true,
            Tri::True => {}
        }
    }
    if unknown {
        Tri::Unknown
    } else {
        Tri::True
    }
}

/// Match one request value against one policy value with a positive operator.
fn match_value(op: BaseOperator, cv: &CondValue, v: &str, ctx: &Context) -> Tri {
    let (pattern, glob): (&str, Option<&Glob>) = match cv {
        CondValue::Plain { text, glob } => (text, glob.as_ref()),
        CondValue::Vars(parts) => match resolve(parts, ctx, op.wildcards()) {
            Resolved::Unknown(_) => return Tri::Unknown,
            Resolved::Absent => return Tri::False,
            Resolved::Tokens(toks) => {
                return tri(match op {
                    BaseOperator::StringLike => Glob::from_tokens(&toks).matches(v),
                    BaseOperator::ArnEquals | BaseOperator::ArnLike => {
                        // Variables resolved into literals; wildcards kept as tokens.
                        let resolved = tokens_to_string(&toks);
                        crate::glob::arn_like(&resolved, v)
                    }
                    BaseOperator::StringEqualsIgnoreCase => {
                        tokens_to_string(&toks).eq_ignore_ascii_case(v)
                    }
                    _ => tokens_to_string(&toks) == v,
                });
            }
        },
    };
    tri(match op {
        BaseOperator::StringEquals => pattern == v,
        BaseOperator::StringEqualsIgnoreCase => pattern.eq_ignore_ascii_case(v),
        BaseOperator::StringLike => match glob {
            Some(g) => g.matches(v),
            None => crate::glob::wildcard_match(pattern, v),
        },
        BaseOperator::NumericEquals
        | BaseOperator::NumericLessThan
        | BaseOperator::NumericLessThanEquals
        | BaseOperator::NumericGreaterThan
        | BaseOperator::NumericGreaterThanEquals => {
            match (v.trim().parse::<f64>(), pattern.trim().parse::<f64>()) {
                (Ok(a), Ok(b)) => compare(op, a, b),
                _ => false,
            }
        }
        BaseOperator::DateEquals
        | BaseOperator::DateLessThan
        | BaseOperator::DateLessThanEquals
        | BaseOperator::DateGreaterThan
        | BaseOperator::DateGreaterThanEquals => match (parse_date(v), parse_date(pattern)) {
            (Some(a), Some(b)) => compare(op, a, b),
            _ => false,
        },
        BaseOperator::Bool => match (parse_bool(v), parse_bool(pattern)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        BaseOperator::BinaryEquals => {
            let e = base64::engine::general_purpose::STANDARD;
            match (e.decode(v.trim()), e.decode(pattern.trim())) {
                (Ok(a), Ok(b)) => a == b,
                _ => v == pattern,
            }
        }
        BaseOperator::IpAddress => ip_in(v, pattern),
        BaseOperator::ArnEquals | BaseOperator::ArnLike => crate::glob::arn_like(pattern, v),
        // Negated and Null operators never reach here.
        _ => false,
    })
}

fn compare(op: BaseOperator, a: f64, b: f64) -> bool {
    match op {
        BaseOperator::NumericEquals | BaseOperator::DateEquals => a == b,
        BaseOperator::NumericLessThan | BaseOperator::DateLessThan => a < b,
        BaseOperator::NumericLessThanEquals | BaseOperator::DateLessThanEquals => a <= b,
        BaseOperator::NumericGreaterThan | BaseOperator::DateGreaterThan => a > b,
        BaseOperator::NumericGreaterThanEquals | BaseOperator::DateGreaterThanEquals => a >= b,
        _ => false,
    }
}

pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("true") {
        Some(true)
    } else if t.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Parse a date as IAM accepts it: epoch seconds, or ISO 8601 (`2020-01-01`,
/// `2020-01-01T00:00:00Z`, fractional seconds, `+hh:mm` offsets). Returns epoch seconds.
pub(crate) fn parse_date(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<f64>() {
        return Some(n);
    }
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = s.get(from..from + len)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let year = num(0, 4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let month = num(5, 2)?;
    let day = num(8, 2)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut secs = 0f64;
    let mut i = 10;
    if matches!(b.get(10), Some(b'T') | Some(b't') | Some(b' ')) {
        let h = num(11, 2)?;
        if b.get(13) != Some(&b':') {
            return None;
        }
        let m = num(14, 2)?;
        i = 16;
        let mut sec = 0f64;
        if b.get(16) == Some(&b':') {
            sec = num(17, 2)? as f64;
            i = 19;
            if b.get(19) == Some(&b'.') {
                let mut j = 20;
                while b.get(j).is_some_and(|c| c.is_ascii_digit()) {
                    j += 1;
                }
                let frac: f64 = s.get(19..j)?.parse().ok()?;
                sec += frac;
                i = j;
            }
        }
        if h > 24 || m > 59 {
            return None;
        }
        secs = (h * 3600 + m * 60) as f64 + sec;
        match b.get(i) {
            None => {}
            Some(b'Z') | Some(b'z') if i + 1 == b.len() => {}
            Some(&c) if c == b'+' || c == b'-' => {
                let oh = num(i + 1, 2)?;
                let om = if b.get(i + 3) == Some(&b':') {
                    num(i + 4, 2)?
                } else {
                    num(i + 3, 2).unwrap_or(0)
                };
                let off = (oh * 3600 + om * 60) as f64;
                secs -= if c == b'+' { off } else { -off };
            }
            _ => return None,
        }
    } else if b.len() != i {
        return None;
    }
    Some(days_from_civil(year, month, day) as f64 * 86400.0 + secs)
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Parse `10.0.0.0/8`, `2001:db8::/32` or a bare address.
pub(crate) fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let s = s.trim();
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l.parse::<u8>().ok()?)),
        None => (s, None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = len.unwrap_or(max);
    if len > max {
        return None;
    }
    Some((ip, len))
}

fn ip_in(v: &str, cidr: &str) -> bool {
    let (Some((net, len)), Ok(ip)) = (parse_cidr(cidr), v.trim().parse::<IpAddr>()) else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let mask = if len == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(len))
            };
            (u32::from(n) & mask) == (u32::from(a) & mask)
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(len))
            };
            (u128::from(n) & mask) == (u128::from(a) & mask)
        }
        _ => false,
    }
}

/// Check a policy value against the operator's type; a message when it cannot be valid.
pub(crate) fn validate_value(op: BaseOperator, v: &str) -> Option<String> {
    let ok = match op.positive() {
        BaseOperator::NumericEquals
        | BaseOperator::NumericLessThan
        | BaseOperator::NumericLessThanEquals
        | BaseOperator::NumericGreaterThan
        | BaseOperator::NumericGreaterThanEquals => v.trim().parse::<f64>().is_ok(),
        BaseOperator::DateEquals
        | BaseOperator::DateLessThan
        | BaseOperator::DateLessThanEquals
        | BaseOperator::DateGreaterThan
        | BaseOperator::DateGreaterThanEquals => v.contains("${") || parse_date(v).is_some(),
        BaseOperator::Bool | BaseOperator::Null => v.contains("${") || parse_bool(v).is_some(),
        BaseOperator::IpAddress => parse_cidr(v).is_some(),
        BaseOperator::BinaryEquals => base64::engine::general_purpose::STANDARD
            .decode(v.trim())
            .is_ok(),
        _ => true,
    };
    if ok {
        None
    } else {
        Some(format!("`{v}` is not a valid value for {}", op.name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(op: &str, key: &str, vals: &[&str]) -> ConditionBlock {
        ConditionBlock::new(op, key, vals.iter().map(|v| (*v).into()).collect(), true)
    }

    #[test]
    fn operator_parsing() {
        let o = Operator::parse("ForAnyValue:StringLikeIfExists").unwrap();
        assert_eq!(o.base, BaseOperator::StringLike);
        assert!(o.if_exists);
        assert_eq!(o.set, Some(SetOperator::ForAnyValue));
        assert!(Operator::parse("StringEqualz").is_none());
        assert!(Operator::parse("NullIfExists").is_none());
        assert_eq!(
            Operator::parse("stringequals").unwrap().base,
            BaseOperator::StringEquals
        );
    }

    #[test]
    fn string_and_missing_keys() {
        let b = block("StringEquals", "aws:PrincipalTag/team", &["a", "b"]);
        assert_eq!(
            b.eval(&Context::new().with("aws:principaltag/TEAM", "b")),
            Tri::True
        );
        assert_eq!(
            b.eval(&Context::new().with("aws:PrincipalTag/team", "c")),
            Tri::False
        );
        assert_eq!(b.eval(&Context::new()), Tri::Unknown);
        assert_eq!(b.eval(&Context::closed()), Tri::False);
        let n = block("StringNotEquals", "aws:PrincipalTag/team", &["a"]);
        assert_eq!(n.eval(&Context::closed()), Tri::True);
        assert_eq!(
            n.eval(&Context::new().with("aws:PrincipalTag/team", "a")),
            Tri::False
        );
        let ie = block("StringEqualsIfExists", "k:x", &["a"]);
        assert_eq!(ie.eval(&Context::closed()), Tri::True);
        let like = block(
            "StringLike",
            "k:sub",
            &["system:serviceaccount:ns:emr-containers-sa-*-*-1-abc"],
        );
        assert_eq!(
            like.eval(&Context::new().with(
                "k:sub",
                "system:serviceaccount:ns:emr-containers-sa-spark-driver-1-abc"
            )),
            Tri::True
        );
        assert_eq!(
            like.eval(&Context::new().with(
                "k:sub",
                "system:serviceaccount:other:emr-containers-sa-spark-driver-1-abc"
            )),
            Tri::False
        );
        let ic = block("StringEqualsIgnoreCase", "k:x", &["ABC"]);
        assert_eq!(ic.eval(&Context::new().with("k:x", "abc")), Tri::True);
    }

    #[test]
    fn set_operators() {
        let all = block("ForAllValues:StringEquals", "aws:TagKeys", &["a", "b"]);
        assert_eq!(
            all.eval(&Context::new().with_values("aws:TagKeys", ["a", "b"])),
            Tri::True
        );
        assert_eq!(
            all.eval(&Context::new().with_values("aws:TagKeys", ["a", "c"])),
            Tri::False
        );
        assert_eq!(all.eval(&Context::closed()), Tri::True);
        let any = block("ForAnyValue:StringEquals", "aws:TagKeys", &["a"]);
        assert_eq!(
            any.eval(&Context::new().with_values("aws:TagKeys", ["c", "a"])),
            Tri::True
        );
        assert_eq!(any.eval(&Context::closed()), Tri::False);
        let anyneg = block("ForAnyValue:StringNotEquals", "aws:TagKeys", &["a"]);
        assert_eq!(
            anyneg.eval(&Context::new().with_values("aws:TagKeys", ["a", "b"])),
            Tri::True
        );
        let allneg = block("ForAllValues:StringNotEquals", "aws:TagKeys", &["a"]);
        assert_eq!(
            allneg.eval(&Context::new().with_values("aws:TagKeys", ["a", "b"])),
            Tri::False
        );
    }

    #[test]
    fn other_families() {
        let num = block("NumericLessThan", "aws:MultiFactorAuthAge", &["3600"]);
        assert_eq!(
            num.eval(&Context::new().with("aws:MultiFactorAuthAge", "100")),
            Tri::True
        );
        assert_eq!(
            num.eval(&Context::new().with("aws:MultiFactorAuthAge", "7200")),
            Tri::False
        );
        let date = block(
            "DateGreaterThan",
            "aws:CurrentTime",
            &["2020-01-01T00:00:00Z"],
        );
        assert_eq!(
            date.eval(&Context::new().with("aws:CurrentTime", "2021-06-01")),
            Tri::True
        );
        assert_eq!(
            date.eval(&Context::new().with("aws:CurrentTime", "1500000000")),
            Tri::False
        );
        let b = block("Bool", "aws:SecureTransport", &["false"]);
        assert_eq!(
            b.eval(&Context::new().with("aws:SecureTransport", "FALSE")),
            Tri::True
        );
        let ip = block(
            "IpAddress",
            "aws:SourceIp",
            &["10.0.0.0/8", "2001:db8::/32"],
        );
        assert_eq!(
            ip.eval(&Context::new().with("aws:SourceIp", "10.1.2.3")),
            Tri::True
        );
        assert_eq!(
            ip.eval(&Context::new().with("aws:SourceIp", "2001:db8::1")),
            Tri::True
        );
        assert_eq!(
            ip.eval(&Context::new().with("aws:SourceIp", "11.0.0.1")),
            Tri::False
        );
        let nip = block("NotIpAddress", "aws:SourceIp", &["10.0.0.0/8"]);
        assert_eq!(
            nip.eval(&Context::new().with("aws:SourceIp", "11.0.0.1")),
            Tri::True
        );
        let arn = block(
            "ArnLike",
            "emr-containers:ExecutionRoleArn",
            &["arn:aws:iam::*:role/MyRole*"],
        );
        assert_eq!(
            arn.eval(&Context::new().with(
                "emr-containers:ExecutionRoleArn",
                "arn:aws:iam::1:role/MyRole2"
            )),
            Tri::True
        );
        let null = block("Null", "aws:TokenIssueTime", &["true"]);
        assert_eq!(null.eval(&Context::closed()), Tri::True);
        assert_eq!(
            null.eval(&Context::new().with("aws:TokenIssueTime", "x")),
            Tri::False
        );
        assert_eq!(null.eval(&Context::new()), Tri::Unknown);
        let bin = block("BinaryEquals", "k:b", &["QmluYXJ5VmFsdWU="]);
        assert_eq!(
            bin.eval(&Context::new().with("k:b", "QmluYXJ5VmFsdWU=")),
            Tri::True
        );
    }

    #[test]
    fn variables_in_values() {
        let b = block("StringLike", "s3:prefix", &["home/${aws:username}/*"]);
        let ctx = Context::new()
            .with("aws:username", "bob")
            .with("s3:prefix", "home/bob/x");
        assert_eq!(b.eval(&ctx), Tri::True);
        let ctx = Context::new().with("s3:prefix", "home/bob/x");
        assert_eq!(b.eval(&ctx), Tri::Unknown);
        assert_eq!(b.unknown_keys(&ctx), vec!["aws:username".to_owned()]);
        let esc = block("StringEquals", "k:x", &["a${*}b"]);
        assert_eq!(esc.eval(&Context::new().with("k:x", "a*b")), Tri::True);
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-02"), Some(86400.0));
        assert_eq!(parse_date("1970-01-01T01:00:00Z"), Some(3600.0));
        assert_eq!(parse_date("1970-01-01T01:00:00+01:00"), Some(0.0));
        assert_eq!(parse_date("1970-01-01T00:00:00.5Z"), Some(0.5));
        assert!(parse_date("yesterday").is_none());
    }
}
