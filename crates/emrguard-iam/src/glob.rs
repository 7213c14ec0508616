//! Wildcard matching as IAM does it: `*` matches any run of characters (also empty, also `:` and
//! `/`), `?` matches exactly one character. Patterns are compiled once into a small matcher with
//! fast paths for the common shapes (`*`, `literal`, `prefix*`, `*suffix`, `*infix*`).
//!
//! Matching is byte-exact (case-sensitive). Case-insensitive callers (actions,
//! `StringEqualsIgnoreCase`) lower-case both sides first.

/// One token of a pattern after policy variables are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    Lit(String),
    Star,
    One,
}

/// Tokenize a raw pattern: `*` and `?` are wildcards, everything else literal.
pub(crate) fn tokenize(pattern: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut lit = String::new();
    for c in pattern.chars() {
        match c {
            '*' | '?' => {
                if !lit.is_empty() {
                    out.push(Tok::Lit(std::mem::take(&mut lit)));
                }
                out.push(if c == '*' { Tok::Star } else { Tok::One });
            }
            _ => lit.push(c),
        }
    }
    if !lit.is_empty() {
        out.push(Tok::Lit(lit));
    }
    out
}

/// A fixed-length piece between two stars: literals and `?`.
#[derive(Debug, Clone)]
pub(crate) struct Seg(Box<[SegTok]>);

#[derive(Debug, Clone)]
pub(crate) enum SegTok {
    Lit(Box<str>),
    One,
}

impl Seg {
    /// Length in characters (fixed for a segment).
    fn char_len(&self) -> usize {
        self.0
            .iter()
            .map(|t| match t {
                SegTok::Lit(s) => s.chars().count(),
                SegTok::One => 1,
            })
            .sum()
    }

    /// Match this segment at byte offset `at` of `text`; the end offset on success.
    fn match_at(&self, text: &str, at: usize) -> Option<usize> {
        let mut pos = at;
        for t in self.0.iter() {
            let rest = text.get(pos..)?;
            match t {
                SegTok::Lit(s) => {
                    if !rest.starts_with(&**s) {
                        return None;
                    }
                    pos += s.len();
                }
                SegTok::One => {
                    let c = rest.chars().next()?;
                    pos += c.len_utf8();
                }
            }
        }
        Some(pos)
    }

    /// Leftmost match starting at or after `from` whose end is at most `limit`.
    fn find_from(&self, text: &str, from: usize, limit: usize) -> Option<usize> {
        let mut start = from;
        loop {
            if start > limit {
                return None;
            }
            if let Some(end) = self.match_at(text, start) {
                if end <= limit {
                    return Some(end);
                }
                // Segments are fixed-length: a later start only ends later.
                return None;
            }
            let c = text.get(start..)?.chars().next()?;
            start += c.len_utf8();
        }
    }
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone)]
pub(crate) enum Glob {
    /// `*` (or `**`...): matches everything.
    Any,
    Exact(Box<str>),
    Prefix(Box<str>),
    Suffix(Box<str>),
    Contains(Box<str>),
    General {
        segs: Box<[Seg]>,
        lead: bool,
        trail: bool,
    },
}

impl Glob {
    /// Compile a raw pattern (`*`, `?` wildcards; no escapes).
    pub(crate) fn new(pattern: &str) -> Glob {
        // Fast paths without tokenizing: no `?`, and stars only at the ends.
        let b = pattern.as_bytes();
        if !b.contains(&b'?') {
            let lead = b.first() == Some(&b'*');
            let trail = b.len() > 1 && b.last() == Some(&b'*');
            let inner = pattern.trim_start_matches('*').trim_end_matches('*');
            if !inner.contains('*') {
                return match (
                    inner.is_empty(),
                    lead || pattern.starts_with('*'),
                    trail || (pattern.len() > 1 && pattern.ends_with('*')),
                ) {
                    (true, false, false) => Glob::Exact("".into()),
                    (true, _, _) => Glob::Any,
                    (false, false, false) => Glob::Exact(inner.into()),
                    (false, true, false) => Glob::Suffix(inner.into()),
                    (false, false, true) => Glob::Prefix(inner.into()),
                    (false, true, true) => Glob::Contains(inner.into()),
                };
            }
        }
        Glob::from_tokens(&tokenize(pattern))
    }

    pub(crate) fn from_tokens(toks: &[Tok]) -> Glob {
        // Split on stars.
        let mut segs: Vec<Vec<SegTok>> = vec![Vec::new()];
        let mut lead = false;
        let mut trail = false;
        for (i, t) in toks.iter().enumerate() {
            match t {
                Tok::Star => {
                    if i == 0 {
                        lead = true;
                    }
                    if i + 1 == toks.len() {
                        trail = true;
                    }
                    if segs.last().is_some_and(|s| !s.is_empty()) {
                        segs.push(Vec::new());
                    }
                }
                Tok::One => {
                    if let Some(s) = segs.last_mut() {
                        s.push(SegTok::One);
                    }
                }
                Tok::Lit(l) => {
                    if let Some(s) = segs.last_mut() {
                        match s.last_mut() {
                            Some(SegTok::Lit(prev)) => {
                                let mut joined = String::from(&**prev);
                                joined.push_str(l);
                                *prev = joined.into_boxed_str();
                            }
                            _ => s.push(SegTok::Lit(l.as_str().into())),
                        }
                    }
                }
            }
        }
        let has_star = toks.contains(&Tok::Star);
        let segs: Vec<Seg> = segs
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(|s| Seg(s.into_boxed_slice()))
            .collect();
        let single_lit = |segs: &[Seg]| -> Option<Box<str>> {
            match segs {
                [Seg(toks)] => match &**toks {
                    [SegTok::Lit(s)] => Some(s.clone()),
                    _ => None,
                },
                _ => None,
            }
        };
        if !has_star {
            if segs.is_empty() {
                return Glob::Exact("".into());
            }
            if let Some(s) = single_lit(&segs) {
                return Glob::Exact(s);
            }
            return Glob::General {
                segs: segs.into_boxed_slice(),
                lead: false,
                trail: false,
            };
        }
        if segs.is_empty() {
            return Glob::Any;
        }
        if let Some(s) = single_lit(&segs) {
            return match (lead, trail) {
                (true, true) => Glob::Contains(s),
                (true, false) => Glob::Suffix(s),
                (false, true) => Glob::Prefix(s),
                (false, false) => Glob::General {
                    segs: segs.into_boxed_slice(),
                    lead,
                    trail,
                },
            };
        }
        Glob::General {
            segs: segs.into_boxed_slice(),
            lead,
            trail,
        }
    }

    pub(crate) fn is_any(&self) -> bool {
        matches!(self, Glob::Any)
    }

    pub(crate) fn matches(&self, text: &str) -> bool {
        match self {
            Glob::Any => true,
            Glob::Exact(s) => text == &**s,
            Glob::Prefix(s) => text.starts_with(&**s),
            Glob::Suffix(s) => text.ends_with(&**s),
            Glob::Contains(s) => text.contains(&**s),
            Glob::General { segs, lead, trail } => general_match(segs, *lead, *trail, text),
        }
    }
}

fn general_match(segs: &[Seg], lead: bool, trail: bool, text: &str) -> bool {
    let Some((first, rest)) = segs.split_first() else {
        // No segments: only stars (handled as Any) or the empty pattern.
        return text.is_empty() || lead || trail;
    };
    if !lead && !trail && rest.is_empty() {
        return first.match_at(text, 0) == Some(text.len());
    }
    // Where the last segment must start when the pattern does not end with a star.
    let (middle, last_start) = if trail {
        (segs, text.len())
    } else {
        let Some((last, before)) = segs.split_last() else {
            return false;
        };
        let n = last.char_len();
        let mut start = text.len();
        for _ in 0..n {
            let Some(c) = text.get(..start).and_then(|s| s.chars().next_back()) else {
                return false;
            };
            start -= c.len_utf8();
        }
        if last.match_at(text, start) != Some(text.len()) {
            return false;
        }
        (before, start)
    };
    let mut pos = 0usize;
    let mut iter = middle.iter();
    if !lead {
        let Some(first) = iter.next() else {
            // Pattern is a single segment followed by nothing, handled above; or the only
            // segment is the last one, already checked: it must then start at 0.
            return last_start == 0;
        };
        match first.match_at(text, 0) {
            Some(end) if end <= last_start => pos = end,
            _ => return false,
        }
    }
    for seg in iter {
        match seg.find_from(text, pos, last_start) {
            Some(end) => pos = end,
            None => return false,
        }
    }
    pos <= last_start
}

/// `true` when `text` matches the wildcard `pattern` (`*`, `?`), case-sensitively.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    Glob::new(pattern).matches(text)
}

/// `true` when `pattern` (as in a policy's `Action`) matches `action`, case-insensitively.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    Glob::new(&pattern.to_ascii_lowercase()).matches(&action.to_ascii_lowercase())
}

/// `true` when the `Resource` pattern matches the resource ARN (case-sensitive; `*` may span
/// colons, as IAM documents for a trailing `*` in an ARN segment).
pub fn resource_matches(pattern: &str, resource: &str) -> bool {
    Glob::new(pattern).matches(resource)
}

/// `ArnLike`/`ArnEquals`: each of the six colon-separated components is matched separately; the
/// last component takes the rest of the ARN (resource ids may contain colons).
pub fn arn_like(pattern: &str, arn: &str) -> bool {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    if p.len() != a.len() {
        // Not ARN-shaped on one side: fall back to a plain wildcard match of the whole string.
        return p.len() < 6 && a.len() < 6 && wildcard_match(pattern, arn);
    }
    p.iter().zip(a.iter()).all(|(p, a)| wildcard_match(p, a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("*", "abc"));
        assert!(wildcard_match("", ""));
        assert!(!wildcard_match("", "a"));
        assert!(wildcard_match("abc", "abc"));
        assert!(!wildcard_match("abc", "abcd"));
        assert!(wildcard_match("ab*", "abcd"));
        assert!(wildcard_match("*cd", "abcd"));
        assert!(wildcard_match("*bc*", "abcd"));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a?c", "ac"));
        assert!(wildcard_match("a*b*c", "aXbYc"));
        assert!(wildcard_match("a*b*c", "abc"));
        assert!(!wildcard_match("a*b*c", "acb"));
        assert!(wildcard_match("*a*a", "aaa"));
        assert!(wildcard_match("?*", "é"));
        assert!(!wildcard_match("??", "é"));
        assert!(wildcard_match("a**b", "ab"));
        assert!(wildcard_match("*?", "x"));
        assert!(!wildcard_match("*?", ""));
    }

    #[test]
    fn actions_case_insensitive() {
        assert!(action_matches("s3:Get*", "s3:getobject"));
        assert!(action_matches("IAM:*Policy*", "iam:PutRolePolicy"));
        assert!(!action_matches("s3:Get*", "s3:PutObject"));
    }

    #[test]
    fn resources_case_sensitive() {
        assert!(resource_matches(
            "arn:aws:s3:::bucket/*",
            "arn:aws:s3:::bucket/a/b"
        ));
        assert!(!resource_matches(
            "arn:aws:s3:::Bucket/*",
            "arn:aws:s3:::bucket/a"
        ));
    }

    #[test]
    fn arn_like_per_component() {
        assert!(arn_like(
            "arn:aws:iam::*:role/emr-*",
            "arn:aws:iam::111122223333:role/emr-x"
        ));
        assert!(!arn_like(
            "arn:aws:iam::*:role/emr-*",
            "arn:aws:iam::111122223333:user/emr-x"
        ));
        // `*` in the account component does not swallow the next colon
        assert!(!arn_like("arn:aws:iam::*", "arn:aws:iam::1:role/x"));
        assert!(arn_like("arn:aws:s3:::b/*", "arn:aws:s3:::b/k:with:colons"));
    }
}
