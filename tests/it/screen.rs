//! A small terminal emulator for the pseudo-terminal tests: what a person would *see* after
//! the bytes a prompt wrote, not the bytes themselves. It understands what console and
//! dialoguer send (printable text with xterm's autowrap at the last column, `\r`, `\n`,
//! backspace, cursor up/down/left/right/column, erase in line and display, colours and
//! cursor show/hide, which change nothing visible here) and keeps the lines that scrolled off
//! the top, so a stale copy of a prompt cannot hide there.

pub struct Screen {
    cols: usize,
    rows: usize,
    /// The visible rows, top first.
    lines: Vec<Vec<char>>,
    /// Rows that scrolled off the top, oldest first.
    scrolled: Vec<String>,
    row: usize,
    col: usize,
    /// The cursor stands past the last column: the next printable character wraps first.
    pending_wrap: bool,
    pub cursor_visible: bool,
}

impl Screen {
    pub fn new(cols: usize, rows: usize) -> Screen {
        Screen {
            cols,
            rows,
            lines: vec![vec![' '; cols]; rows],
            scrolled: Vec::new(),
            row: 0,
            col: 0,
            pending_wrap: false,
            cursor_visible: true,
        }
    }

    fn line_feed(&mut self) {
        if self.row + 1 < self.rows {
            self.row += 1;
        } else {
            let top = self.lines.remove(0);
            self.scrolled
                .push(top.iter().collect::<String>().trim_end().to_string());
            self.lines.push(vec![' '; self.cols]);
        }
    }

    fn put(&mut self, c: char) {
        if self.pending_wrap {
            self.pending_wrap = false;
            self.col = 0;
            self.line_feed();
        }
        self.lines[self.row][self.col] = c;
        if self.col + 1 == self.cols {
            self.pending_wrap = true;
        } else {
            self.col += 1;
        }
    }

    fn csi(&mut self, params: &str, end: char) {
        let private = params.starts_with('?');
        let nums: Vec<usize> = params
            .trim_start_matches('?')
            .split(';')
            .map(|p| p.parse().unwrap_or(0))
            .collect();
        let n = nums.first().copied().unwrap_or(0).max(1);
        let arg = nums.first().copied().unwrap_or(0);
        match end {
            'A' => self.row = self.row.saturating_sub(n),
            'B' => self.row = (self.row + n).min(self.rows - 1),
            'C' => self.col = (self.col + n).min(self.cols - 1),
            'D' => self.col = self.col.saturating_sub(n),
            'G' => self.col = (n - 1).min(self.cols - 1),
            'H' | 'f' => {
                self.row = (n - 1).min(self.rows - 1);
                self.col = (nums.get(1).copied().unwrap_or(1).max(1) - 1).min(self.cols - 1);
            }
            'K' => {
                let line = &mut self.lines[self.row];
                let range = match arg {
                    0 => self.col..self.cols,
                    1 => 0..self.col + 1,
                    _ => 0..self.cols,
                };
                for i in range {
                    line[i] = ' ';
                }
            }
            'J' => {
                let (from, to) = match arg {
                    0 => (self.row + 1, self.rows),
                    1 => (0, self.row),
                    _ => (0, self.rows),
                };
                for r in from..to {
                    self.lines[r] = vec![' '; self.cols];
                }
                if arg == 0 {
                    for i in self.col..self.cols {
                        self.lines[self.row][i] = ' ';
                    }
                }
            }
            'h' | 'l' if private && arg == 25 => self.cursor_visible = end == 'h',
            _ => {}
        }
        if !matches!(end, 'm' | 'h' | 'l') {
            self.pending_wrap = false;
        }
    }

    /// Feeds output as the terminal receives it.
    pub fn feed(&mut self, text: &str) {
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\x1b' => match chars.next() {
                    Some('[') => {
                        let mut params = String::new();
                        while let Some(&p) = chars.peek() {
                            if p.is_ascii_digit() || p == ';' || p == '?' {
                                params.push(p);
                                chars.next();
                            } else {
                                break;
                            }
                        }
                        if let Some(end) = chars.next() {
                            self.csi(&params, end);
                        }
                    }
                    // ESC 7, ESC 8, ESC ( B ...: nothing visible here.
                    Some('(') | Some(')') => {
                        chars.next();
                    }
                    _ => {}
                },
                '\r' => {
                    self.col = 0;
                    self.pending_wrap = false;
                }
                '\n' => {
                    self.pending_wrap = false;
                    self.line_feed();
                }
                '\x08' => {
                    self.col = self.col.saturating_sub(1);
                    self.pending_wrap = false;
                }
                '\t' => self.col = ((self.col / 8 + 1) * 8).min(self.cols - 1),
                c if c.is_control() => {}
                c => self.put(c),
            }
        }
    }

    /// The visible rows, trailing blanks trimmed, without the empty rows at the bottom.
    pub fn visible(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .lines
            .iter()
            .map(|l| l.iter().collect::<String>().trim_end().to_string())
            .collect();
        while out.last().is_some_and(|l| l.is_empty()) {
            out.pop();
        }
        out
    }

    /// Everything: the rows that scrolled away, then the visible ones.
    pub fn all(&self) -> Vec<String> {
        let mut out = self.scrolled.clone();
        out.extend(self.visible());
        out
    }

    /// How many rows, scrolled away or visible, contain `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.all().iter().filter(|l| l.contains(needle)).count()
    }

    pub fn text(&self) -> String {
        self.visible().join("\n")
    }
}

#[test]
fn screen_wraps_at_the_last_column_and_clears_what_it_is_told() {
    let mut s = Screen::new(10, 3);
    s.feed("0123456789abc\r\n");
    assert_eq!(s.visible(), ["0123456789", "abc"]);
    // Two rows up, clear each, as console's clear_last_lines does.
    s.feed("\x1b[2A\r\x1b[2K\x1b[1B\r\x1b[2K\x1b[1B\x1b[2Ax");
    assert_eq!(s.visible(), ["x"]);
    s.feed("\r\n1\r\n2\r\n3");
    assert_eq!(s.all(), ["x", "1", "2", "3"]);
    s.feed("\x1b[?25l");
    assert!(!s.cursor_visible);
    s.feed("\x1b[?25h");
    assert!(s.cursor_visible);
}
