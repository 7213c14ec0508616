//! Where an object came from: file, JSON pointer inside the (decoded) document, and line.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SourceLoc {
    /// The file as given on the command line (relative paths stay relative).
    pub file: Arc<str>,
    /// RFC 6901 pointer into the document; for multi-document YAML it starts at the document
    /// (the line tells which document).
    pub pointer: String,
    /// 1-based line where the object starts, when known.
    pub line: Option<u32>,
}

impl SourceLoc {
    pub fn new(file: impl Into<Arc<str>>, pointer: impl Into<String>, line: Option<u32>) -> Self {
        SourceLoc {
            file: file.into(),
            pointer: pointer.into(),
            line,
        }
    }

    /// A location below this one: `/RoleDetailList/3` + `RolePolicyList` ...
    pub fn child(&self, token: impl fmt::Display) -> SourceLoc {
        let tok = token.to_string().replace('~', "~0").replace('/', "~1");
        SourceLoc {
            file: self.file.clone(),
            pointer: format!("{}/{}", self.pointer, tok),
            line: self.line,
        }
    }
}

impl fmt::Display for SourceLoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if !self.pointer.is_empty() {
            write!(f, " ({})", self.pointer)?;
        }
        Ok(())
    }
}

/// A value with the place it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    pub value: T,
    pub loc: SourceLoc,
}

impl<T> Located<T> {
    pub fn new(value: T, loc: SourceLoc) -> Self {
        Located { value, loc }
    }
}

impl<T> std::ops::Deref for Located<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_escapes_tokens() {
        let l = SourceLoc::new("f.json", "/a", None);
        assert_eq!(l.child("b/c~d").pointer, "/a/b~1c~0d");
        assert_eq!(l.child(3).pointer, "/a/3");
    }
}
