//! Byte offsets to lines, for locations in JSON files.

/// 1-based line and column of byte `offset` in `bytes`.
pub fn line_col(bytes: &[u8], offset: usize) -> (usize, usize) {
    let upto = bytes.get(..offset).unwrap_or(bytes);
    let line = memchr::memchr_iter(b'\n', upto).count() + 1;
    let col = match memchr::memrchr(b'\n', upto) {
        Some(p) => offset - p,
        None => offset + 1,
    };
    (line, col)
}

/// Counts lines up to increasing offsets without rescanning from the start each time.
pub struct LineCursor<'a> {
    src: &'a str,
    offset: usize,
    line: usize,
}

impl<'a> LineCursor<'a> {
    pub fn new(src: &'a str) -> Self {
        LineCursor {
            src,
            offset: 0,
            line: 1,
        }
    }

    /// Line (1-based) of the object whose text is `part`, a slice of the source.
    pub fn line_of(&mut self, part: &str) -> Option<u32> {
        let base = self.src.as_ptr() as usize;
        let p = part.as_ptr() as usize;
        if p < base || p > base + self.src.len() {
            return None;
        }
        let off = p - base;
        if off < self.offset {
            self.offset = 0;
            self.line = 1;
        }
        let bytes = self.src.as_bytes().get(self.offset..off)?;
        self.line += memchr::memchr_iter(b'\n', bytes).count();
        self.offset = off;
        u32::try_from(self.line).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column() {
        assert_eq!(line_col(b"ab\ncd", 4), (2, 2));
        assert_eq!(line_col(b"ab", 0), (1, 1));
        assert_eq!(line_col(b"ab", 99), (1, 100));
    }

    #[test]
    fn cursor_moves_forward_and_back() {
        let src = "a\nb\nc\nd";
        let mut c = LineCursor::new(src);
        assert_eq!(c.line_of(&src[4..]), Some(3));
        assert_eq!(c.line_of(&src[6..]), Some(4));
        assert_eq!(c.line_of(&src[2..]), Some(2));
        let elsewhere = String::from("elsewhere");
        assert_eq!(c.line_of(&elsewhere), None);
    }
}
