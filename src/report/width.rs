//! How wide the console is assumed to be, and the two tools that keep
//! every line within it: [`fit`] wraps prose at its separators, [`Columns`]
//! sizes each table column from its longest value (a 16- or 30-character
//! target name shifts the columns, it does not push them out of line).

/// Columns of every console line: a 100-column terminal, or the usual
/// 80-column one with room for a long target name, still shows each line
/// whole.
pub const WIDTH: usize = 100;

fn len(text: &str) -> usize {
    text.chars().count()
}

/// Wraps each line of `text` longer than [`WIDTH`] after a `, ` or `; `
/// (else at a space), continuing under its own indentation plus `indent`.
pub fn fit(text: &str, indent: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let lead = len(line) - len(line.trim_start());
        out.push_str(&wrap(line, lead + indent));
    }
    out
}

/// One line wrapped to [`WIDTH`], continuation lines starting with `indent`
/// spaces. A piece with no break in it stays whole.
pub fn wrap(line: &str, indent: usize) -> String {
    let mut out = String::new();
    let mut rest = line;
    let mut first = true;
    loop {
        let room = if first {
            WIDTH
        } else {
            WIDTH - indent.min(WIDTH - 20)
        };
        if len(rest) <= room {
            out.push_str(rest);
            return out;
        }
        let Some(cut) = break_before(rest, room) else {
            out.push_str(rest);
            return out;
        };
        out.push_str(rest[..cut].trim_end());
        out.push('\n');
        out.push_str(&" ".repeat(indent.min(WIDTH - 20)));
        rest = rest[cut..].trim_start();
        first = false;
    }
}

/// The byte offset to break `line` at so its first part has at most `room`
/// characters: after the last `, `/`; ` that fits, else the last space.
fn break_before(line: &str, room: usize) -> Option<usize> {
    let limit = line.char_indices().nth(room).map_or(line.len(), |(i, _)| i);
    let head = &line[..limit];
    let lead = head.len() - head.trim_start().len();
    let after_separator = [", ", "; "]
        .iter()
        .filter_map(|sep| head.rfind(sep).map(|i| i + 1))
        .max()
        .filter(|i| *i > lead + 1);
    after_separator.or_else(|| head.rfind(' ').filter(|i| *i > lead))
}

/// The least room the free-text last column of a [`Columns`] table keeps
/// beside the others (less when its longest cell is shorter); with less it
/// goes under its row.
const LAST_COLUMN_ROOM: usize = 24;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A table whose columns are as wide as their widest cell. The last column
/// is free text (e.g. `refused 1599, reset 1`): when a row would pass
/// [`WIDTH`] it wraps at its commas, continuing under that column.
pub struct Columns {
    indent: usize,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Columns {
    /// `headers` with the alignment of their column.
    pub fn new(indent: usize, headers: &[(&str, Align)]) -> Columns {
        Columns {
            indent,
            align: headers.iter().map(|(_, a)| *a).collect(),
            rows: vec![headers.iter().map(|(h, _)| h.to_string()).collect()],
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The header and every row, one line each (more when the last column wraps).
    pub fn render(&self) -> String {
        let columns = self.align.len();
        let mut widths = vec![0; columns];
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row).take(columns - 1) {
                *w = (*w).max(len(cell));
            }
        }
        let before_last: usize = widths[..columns - 1].iter().sum::<usize>() + 2 * (columns - 1);
        let longest_last = self
            .rows
            .iter()
            .filter_map(|r| r.get(columns - 1))
            .map(|c| len(c))
            .max()
            .unwrap_or(0);
        let room = longest_last.min(LAST_COLUMN_ROOM);
        let column = Some(self.indent + before_last).filter(|c| *c + room <= WIDTH);
        let mut out = String::new();
        for row in &self.rows {
            let mut line = " ".repeat(self.indent);
            for (i, cell) in row.iter().enumerate().take(columns - 1) {
                if i > 0 {
                    line.push_str("  ");
                }
                let pad = " ".repeat(widths[i] - len(cell));
                match self.align[i] {
                    Align::Left => {
                        line.push_str(cell);
                        line.push_str(&pad);
                    }
                    Align::Right => {
                        line.push_str(&pad);
                        line.push_str(cell);
                    }
                }
            }
            let last = row.get(columns - 1).map_or("", String::as_str);
            if last.is_empty() || column.is_none() {
                line.truncate(line.trim_end().len());
            }
            out.push_str(&line);
            if !last.is_empty() {
                // Wrapped within its own column (never before it), or, when
                // the columns before leave it too little room, on lines of its
                // own under the row.
                let (column, lead) = match column {
                    Some(column) => (column, "  "),
                    None => (self.indent + 4, "\n"),
                };
                let text = wrap(&format!("{}{last}", " ".repeat(column)), column);
                out.push_str(lead);
                out.push_str(if lead == "\n" {
                    &text
                } else {
                    text.trim_start()
                });
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_wraps_after_its_commas_under_its_indentation() {
        let long = format!("  x: {}", ["refused 1599"; 12].join(", "));
        let wrapped = fit(&long, 2);
        let lines: Vec<&str> = wrapped.lines().collect();
        assert_eq!(lines.len(), 2, "{wrapped}");
        assert!(lines.iter().all(|l| len(l) <= WIDTH), "{wrapped}");
        assert!(lines[0].ends_with("refused 1599,"), "{wrapped}");
        assert!(lines[1].starts_with("    refused 1599"), "{wrapped}");
        assert_eq!(wrapped.replace(",\n    ", ", "), long);
        assert_eq!(fit("short\n  lines", 2), "short\n  lines");
    }

    #[test]
    fn columns_are_as_wide_as_their_longest_cell() {
        let mut t = Columns::new(
            0,
            &[
                ("target", Align::Left),
                ("requests", Align::Right),
                ("failures", Align::Left),
            ],
        );
        t.row(vec![
            "primary-eu-west1".into(),
            "6000".into(),
            "refused 3".into(),
        ]);
        t.row(vec!["all".into(), "123456789".into(), String::new()]);
        assert_eq!(
            t.render(),
            "target             requests  failures\n\
             primary-eu-west1       6000  refused 3\n\
             all               123456789\n"
        );
    }

    #[test]
    fn a_last_column_with_too_little_room_goes_under_its_row() {
        let mut t = Columns::new(0, &[("target", Align::Left), ("failures", Align::Left)]);
        t.row(vec!["a".repeat(WIDTH - 10), "refused 20, reset 1".into()]);
        t.row(vec!["b".into(), String::new()]);
        let short = {
            let mut t = Columns::new(0, &[("target", Align::Left), ("result", Align::Left)]);
            t.row(vec!["a".repeat(WIDTH - 10), "pass".into()]);
            t.render()
        };
        assert_eq!(
            short.lines().nth(1),
            Some(format!("{}  pass", "a".repeat(WIDTH - 10)).as_str())
        );
        assert_eq!(
            t.render(),
            format!(
                "target\n    failures\n{}\n    refused 20, reset 1\nb\n",
                "a".repeat(WIDTH - 10)
            )
        );
    }

    #[test]
    fn the_last_column_wraps_under_itself() {
        let mut t = Columns::new(2, &[("scope", Align::Left), ("failures", Align::Left)]);
        let failures = ["connect_timeout 12345"; 6].join(", ");
        t.row(vec!["a".repeat(30), failures.clone()]);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.iter().all(|l| len(l) <= WIDTH), "{text}");
        assert_eq!(lines.len(), 4, "{text}");
        let column = 2 + 30 + 2;
        for line in &lines[1..] {
            assert_eq!(line.find("connect_timeout"), Some(column), "{text}");
        }
        assert_eq!(lines[0].find("failures"), Some(column), "{text}");
    }
}
