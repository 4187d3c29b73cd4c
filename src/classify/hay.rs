//! A response body as the chunks hyper delivered it, read in place: the
//! classifier's searches run over each chunk's bytes where they lie, and a
//! marker that straddles a boundary is found in a small window stitched on
//! the stack from the bytes either side of it (at most twice the longest
//! marker). Positions are offsets into the whole body, as if it were one
//! slice, so the scan reads the same whether the body came in one chunk or
//! many.
//!
//! The only bytes copied are those windows and, in [`Hay::copy`], short
//! stretches the classifier reads as a whole when they straddle a chunk
//! boundary (the names after "Reviews served by:", an Envoy local reply).

use memchr::memmem::Finder;

/// Most chunks a [`Hay`] reads in place. A body that came in more is made
/// contiguous by its reader first (the lane copies it into its buffer).
pub const MAX_PARTS: usize = 8;

/// Longest needle [`Hay::find`] can find across a chunk boundary; every
/// marker of `markers.rs` is shorter (checked by a test there).
pub(super) const MAX_NEEDLE: usize = 96;

/// A body in up to [`MAX_PARTS`] chunks, borrowed.
#[derive(Clone, Copy)]
pub struct Hay<'a> {
    parts: [&'a [u8]; MAX_PARTS],
    /// `starts[i]`: the body offset of `parts[i]`; `starts[n]` the length.
    starts: [usize; MAX_PARTS + 1],
    n: usize,
}

impl<'a> Hay<'a> {
    /// A body that is one slice.
    #[inline]
    pub fn whole(body: &'a [u8]) -> Hay<'a> {
        let mut starts = [0; MAX_PARTS + 1];
        starts[1] = body.len();
        let mut parts: [&[u8]; MAX_PARTS] = [&[]; MAX_PARTS];
        parts[0] = body;
        Hay {
            parts,
            starts,
            n: 1,
        }
    }

    /// A body in `parts`, in order; `None` when there are more than
    /// [`MAX_PARTS`] (empty parts are skipped and do not count).
    pub fn parts<P: AsRef<[u8]>>(parts: &'a [P]) -> Option<Hay<'a>> {
        let mut hay = Hay {
            parts: [&[]; MAX_PARTS],
            starts: [0; MAX_PARTS + 1],
            n: 0,
        };
        for part in parts.iter().map(AsRef::as_ref).filter(|p| !p.is_empty()) {
            if hay.n == MAX_PARTS {
                return None;
            }
            hay.parts[hay.n] = part;
            hay.starts[hay.n + 1] = hay.starts[hay.n] + part.len();
            hay.n += 1;
        }
        Some(hay)
    }

    /// The whole body as one slice, when it is in one chunk (or none).
    #[inline]
    pub fn contiguous(&self) -> Option<&'a [u8]> {
        match self.n {
            0 => Some(&[]),
            1 => Some(self.parts[0]),
            _ => None,
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.starts[self.n]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The chunk holding offset `at` (`at < len`).
    #[inline]
    fn part_of(&self, at: usize) -> usize {
        let mut i = 0;
        while self.starts[i + 1] <= at {
            i += 1;
        }
        i
    }

    /// The bytes of `from..to` that lie in chunk `i` (clamped).
    #[inline]
    fn piece(&self, i: usize, from: usize, to: usize) -> &'a [u8] {
        let (start, end) = (self.starts[i], self.starts[i + 1]);
        let a = from.max(start).min(end) - start;
        let b = to.min(end).max(start) - start;
        &self.parts[i][a..b.max(a)]
    }

    #[inline]
    pub fn byte(&self, at: usize) -> Option<u8> {
        if self.n == 1 {
            return self.parts[0].get(at).copied();
        }
        self.byte_in_parts(at)
    }

    #[inline(never)]
    fn byte_in_parts(&self, at: usize) -> Option<u8> {
        (at < self.len()).then(|| {
            let i = self.part_of(at);
            self.parts[i][at - self.starts[i]]
        })
    }

    /// The first `finder` match in `from..to` (bounds past the end are
    /// clamped), as a body offset.
    #[inline]
    pub fn find(&self, finder: &Finder<'_>, from: usize, to: usize) -> Option<usize> {
        let to = to.min(self.len());
        if from >= to {
            return None;
        }
        if self.n == 1 {
            return finder.find(&self.parts[0][from..to]).map(|i| from + i);
        }
        self.find_in_parts(finder, from, to)
    }

    #[inline(never)]
    fn find_in_parts(&self, finder: &Finder<'_>, from: usize, to: usize) -> Option<usize> {
        let needle = finder.needle().len();
        debug_assert!(needle <= MAX_NEEDLE);
        let first = self.part_of(from);
        let start = self.starts[first];
        if to <= self.starts[first + 1] {
            // Most searches are short and end in the chunk they start in.
            return finder
                .find(&self.parts[first][from - start..to - start])
                .map(|i| from + i);
        }
        for i in first..self.n {
            if self.starts[i] >= to {
                break;
            }
            if i > first {
                // Matches across the boundary at `starts[i]` start before
                // it and so before anything wholly inside chunk `i`.
                if let Some(at) = self.across(finder, self.starts[i], from, to) {
                    return Some(at);
                }
            }
            let piece = self.piece(i, from, to);
            if let Some(hit) = finder.find(piece) {
                return Some(self.starts[i].max(from) + hit);
            }
        }
        None
    }

    /// A match of `finder` in `from..to` that starts before `boundary` and
    /// ends after it: searched in the stitched bytes around it.
    fn across(
        &self,
        finder: &Finder<'_>,
        boundary: usize,
        from: usize,
        to: usize,
    ) -> Option<usize> {
        let reach = finder.needle().len().saturating_sub(1);
        if reach == 0 {
            return None;
        }
        let start = boundary.saturating_sub(reach).max(from);
        let end = (boundary + reach).min(to);
        let mut window = [0u8; 2 * MAX_NEEDLE];
        let bytes = self.copy(start, end, &mut window);
        finder
            .find(bytes)
            .map(|i| start + i)
            .filter(|&at| at < boundary)
    }

    /// Every `finder` match in `from..to`, counted (overlaps as
    /// `memmem::find_iter` does not count them: each search resumes after
    /// the previous match's start).
    pub fn find_iter<'f>(&'f self, finder: &'f Finder<'_>, from: usize, to: usize) -> FindIter<'f> {
        FindIter {
            hay: self,
            finder,
            at: from,
            to,
        }
    }

    /// Whether `needle` is at `at`.
    #[inline]
    pub fn starts_with(&self, at: usize, needle: &[u8]) -> bool {
        if self.n == 1 {
            return self.parts[0]
                .get(at..)
                .is_some_and(|r| r.starts_with(needle));
        }
        self.starts_with_in_parts(at, needle)
    }

    #[inline(never)]
    fn starts_with_in_parts(&self, at: usize, needle: &[u8]) -> bool {
        if at + needle.len() > self.len() {
            return false;
        }
        if needle.is_empty() {
            return true;
        }
        let i = self.part_of(at);
        let start = self.starts[i];
        if at + needle.len() <= self.starts[i + 1] {
            return self.parts[i][at - start..].starts_with(needle);
        }
        let mut rest = needle;
        let mut i = self.part_of(at.min(self.len().saturating_sub(1)));
        let mut pos = at;
        while !rest.is_empty() {
            let piece = self.piece(i, pos, pos + rest.len());
            if !rest.starts_with(piece) {
                return false;
            }
            rest = &rest[piece.len()..];
            pos += piece.len();
            i += 1;
        }
        true
    }

    /// The first `a` or `b` in `from..to`.
    #[inline]
    pub fn find_either(&self, a: u8, b: u8, from: usize, to: usize) -> Option<usize> {
        let to = to.min(self.len());
        if from >= to {
            return None;
        }
        if self.n == 1 {
            return memchr::memchr2(a, b, &self.parts[0][from..to]).map(|i| from + i);
        }
        (self.part_of(from)..self.n)
            .take_while(|&i| self.starts[i] < to)
            .find_map(|i| {
                let piece = self.piece(i, from, to);
                memchr::memchr2(a, b, piece).map(|hit| self.starts[i].max(from) + hit)
            })
    }

    /// The bytes of `from..to` (clamped) when they lie in one chunk.
    #[inline]
    pub fn slice(&self, from: usize, to: usize) -> Option<&'a [u8]> {
        let to = to.min(self.len());
        if from >= to {
            return Some(&[]);
        }
        if self.n == 1 {
            return Some(&self.parts[0][from..to]);
        }
        let i = self.part_of(from);
        (to <= self.starts[i + 1]).then(|| self.piece(i, from, to))
    }

    /// The bytes of `from..to` as one slice: borrowed when they lie in one
    /// chunk, else copied into `out` (at most `out.len()` bytes: the rest
    /// is cut off, so callers pass a range no longer than `out`).
    pub fn copy<'b>(&self, from: usize, to: usize, out: &'b mut [u8]) -> &'b [u8]
    where
        'a: 'b,
    {
        let to = to.min(self.len()).min(from + out.len());
        if from >= to {
            return &[];
        }
        if self.n == 1 {
            return &self.parts[0][from..to];
        }
        let first = self.part_of(from);
        if self.starts[first + 1] >= to {
            return self.piece(first, from, to);
        }
        let mut filled = 0;
        for i in first..self.n {
            if self.starts[i] >= to {
                break;
            }
            let piece = self.piece(i, from, to);
            out[filled..filled + piece.len()].copy_from_slice(piece);
            filled += piece.len();
        }
        &out[..filled]
    }

    /// `from..to` with ASCII whitespace trimmed off both ends.
    pub fn trim(&self, mut from: usize, mut to: usize) -> (usize, usize) {
        to = to.min(self.len());
        if self.n == 1 {
            let from = from.min(to);
            let rest = self.parts[0][from..to].trim_ascii_start();
            let start = to - rest.len();
            return (start, start + rest.trim_ascii_end().len());
        }
        while from < to && self.byte(from).is_some_and(|b| b.is_ascii_whitespace()) {
            from += 1;
        }
        while to > from && self.byte(to - 1).is_some_and(|b| b.is_ascii_whitespace()) {
            to -= 1;
        }
        (from, to)
    }
}

/// [`Hay::find_iter`]'s iterator.
pub struct FindIter<'f> {
    hay: &'f Hay<'f>,
    finder: &'f Finder<'f>,
    at: usize,
    to: usize,
}

impl Iterator for FindIter<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let hit = self.hay.find(self.finder, self.at, self.to)?;
        // memmem's find_iter resumes after the whole match; so does this.
        self.at = hit + self.finder.needle().len().max(1);
        Some(hit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every way to cut `text` into three parts (two cut points).
    fn splits(text: &[u8]) -> impl Iterator<Item = [&[u8]; 3]> {
        (0..=text.len())
            .flat_map(move |a| (a..=text.len()).map(move |b| [&text[..a], &text[a..b], &text[b..]]))
    }

    #[test]
    fn finds_what_one_slice_finds_however_the_body_is_cut() {
        let text: &[u8] = b"xxabcabxabcaxxabcabc";
        let finders = [
            Finder::new(b"abc"),
            Finder::new(b"abcab"),
            Finder::new(b"x"),
        ];
        for parts in splits(text) {
            let hay = Hay::parts(&parts).unwrap();
            let whole = Hay::whole(text);
            for f in &finders {
                for from in 0..text.len() {
                    for to in from..=text.len() + 1 {
                        assert_eq!(hay.find(f, from, to), whole.find(f, from, to));
                    }
                }
                let all: Vec<usize> = hay.find_iter(f, 0, text.len()).collect();
                let expected: Vec<usize> = f.find_iter(text).collect();
                assert_eq!(all, expected, "{parts:?}");
            }
            for at in 0..=text.len() + 1 {
                assert_eq!(hay.byte(at), text.get(at).copied());
                for needle in [&b"abc"[..], b"xabca", b"c", b""] {
                    assert_eq!(
                        hay.starts_with(at, needle),
                        text.get(at..).is_some_and(|r| r.starts_with(needle))
                    );
                }
            }
            for from in 0..text.len() {
                for to in from..=text.len() {
                    let slice = &text[from..to];
                    assert_eq!(
                        hay.find_either(b'x', b'c', from, to),
                        memchr::memchr2(b'x', b'c', slice).map(|i| from + i)
                    );
                    let mut out = [0u8; 32];
                    assert_eq!(hay.copy(from, to, &mut out), slice);
                    // In place exactly when no cut falls inside the range.
                    let (a, b) = (parts[0].len(), parts[0].len() + parts[1].len());
                    let cut_inside = [a, b].iter().any(|&cut| from < cut && cut < to);
                    assert_eq!(hay.slice(from, to), (!cut_inside).then_some(slice));
                }
            }
        }
    }

    #[test]
    fn trims_whitespace_across_parts() {
        let parts: [&[u8]; 3] = [b"  a", b"b ", b" \n"];
        let hay = Hay::parts(&parts).unwrap();
        assert_eq!(hay.trim(0, hay.len()), (2, 4));
        assert_eq!(hay.trim(4, hay.len()), (7, 7));
        let whole = Hay::whole(b"  ab  \n");
        assert_eq!(whole.trim(0, whole.len()), (2, 4));
        assert_eq!(whole.trim(4, whole.len()), (7, 7));
        assert_eq!(whole.trim(3, 3), (3, 3));
    }

    #[test]
    fn more_parts_than_it_holds_are_refused() {
        let parts = vec![&b"a"[..]; MAX_PARTS + 1];
        assert!(Hay::parts(&parts).is_none());
        assert_eq!(Hay::parts(&parts[..MAX_PARTS]).unwrap().len(), MAX_PARTS);
        let with_empty = [&b""[..], b"ab", b"", b"c"];
        assert_eq!(Hay::parts(&with_empty).unwrap().len(), 3);
    }
}
