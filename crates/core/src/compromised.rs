//! The list of compromised passwords (`serve --compromised-passwords`)
//! that threat protection's compromised-credentials check consults: SHA-1
//! digests of passwords known from breaches, one a line, in the format of
//! Have I Been Pwned's Pwned Passwords (`<40 hex digits>[:<count>]`, LF or
//! CRLF), sorted by digest as that list is published.
//!
//! The file is searched where it lies, by a binary search of a few short
//! reads, so even the whole published list (about a billion lines) takes
//! no memory. When it is opened, a file of up to [`FULL_CHECK_BYTES`] is
//! checked line by line (well formed and in order); of a larger one, the
//! first and last [`EDGE_CHECK_BYTES`]. A line the search reads that is
//! not well formed makes the lookup an error, never a wrong answer.

use std::cmp::Ordering;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Files up to this size are checked whole when opened.
pub const FULL_CHECK_BYTES: u64 = 256 << 20;
/// Of a larger file, this much of its start and of its end is checked.
pub const EDGE_CHECK_BYTES: u64 = 1 << 20;
/// The longest line read: 40 digits, ':', a count, CR LF.
const MAX_LINE: usize = 64;
/// Below this span the search reads the rest of it at once.
const SCAN_BYTES: u64 = 8192;

/// A digest as the file spells it, in upper case.
type Key = [u8; 40];

/// An open list of compromised passwords.
#[derive(Debug)]
pub struct CompromisedPasswords {
    file: File,
    len: u64,
    path: PathBuf,
}

/// The digest of one line (without its newline), in upper case; `None`
/// when the line is not `<40 hex digits>[:<count>][\r]`.
fn key_of(line: &[u8]) -> Option<Key> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let (digits, count) = match line.len() {
        40 => (line, &b""[..]),
        n if n > 41 && line[40] == b':' => (&line[..40], &line[41..]),
        _ => return None,
    };
    if !digits.iter().all(u8::is_ascii_hexdigit) || !count.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut key = [0u8; 40];
    for (k, d) in key.iter_mut().zip(digits) {
        *k = d.to_ascii_uppercase();
    }
    Some(key)
}

/// The key of a password: its SHA-1 in upper-case hex.
fn key_of_password(password: &str) -> Key {
    let hex = cognate_crypto::digest::hex(&cognate_crypto::digest::sha1(password.as_bytes()));
    let mut key = [0u8; 40];
    for (k, d) in key.iter_mut().zip(hex.as_bytes()) {
        *k = d.to_ascii_uppercase();
    }
    key
}

fn malformed(offset: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("byte {offset}: not a line of a SHA-1 digest"),
    )
}

/// Checks that the lines `reader` gives are well formed and in order;
/// `place` names a line for the error (its number, or the byte offset of
/// the checked part).
fn check_lines(reader: impl BufRead, place: impl Fn(u64) -> String) -> Result<(), String> {
    let mut previous: Option<Key> = None;
    for (index, line) in reader.split(b'\n').enumerate() {
        let line = line.map_err(|e| e.to_string())?;
        let Some(key) = key_of(&line) else {
            return Err(format!(
                "{}: not a SHA-1 digest (40 hexadecimal digits, optionally ':' and a count)",
                place(index as u64)
            ));
        };
        if previous.is_some_and(|p| p > key) {
            return Err(format!(
                "{}: out of order (the lines must be sorted by digest, as Pwned Passwords publishes them)",
                place(index as u64)
            ));
        }
        previous = Some(key);
    }
    Ok(())
}

impl CompromisedPasswords {
    /// Opens and checks the list; the error names the file and the line.
    pub fn open(path: &Path) -> Result<Self, String> {
        Self::open_checking(path, FULL_CHECK_BYTES, EDGE_CHECK_BYTES)
    }

    /// [`open`](Self::open) with the sizes of the checks as parameters.
    fn open_checking(path: &Path, full_check: u64, edge_check: u64) -> Result<Self, String> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|e| format!("{name}: {e}"))?;
        let len = file.metadata().map_err(|e| format!("{name}: {e}"))?.len();
        let clone = || file.try_clone().map_err(|e| format!("{name}: {e}"));
        if len <= full_check {
            check_lines(BufReader::new(clone()?), |i| {
                format!("{name}, line {}", i + 1)
            })?;
        } else {
            // The part read may end inside a line: only whole lines count.
            let mut head = Vec::new();
            clone()?
                .take(edge_check)
                .read_to_end(&mut head)
                .map_err(|e| format!("{name}: {e}"))?;
            head.truncate(head.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1));
            check_lines(&head[..], |i| format!("{name}, line {}", i + 1))?;
            let mut tail = clone()?;
            let from = len - edge_check;
            tail.seek(SeekFrom::Start(from))
                .map_err(|e| format!("{name}: {e}"))?;
            let mut tail = BufReader::new(tail);
            // The first line read there may be the end of a longer one.
            let mut partial = Vec::new();
            tail.read_until(b'\n', &mut partial)
                .map_err(|e| format!("{name}: {e}"))?;
            check_lines(tail, |i| {
                format!("{name}, line {} of the last {edge_check} bytes", i + 2)
            })?;
        }
        Ok(CompromisedPasswords {
            file,
            len,
            path: path.to_owned(),
        })
    }

    /// The file's path, for the start-up log.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether `password` is on the list. Blocking: a handful of reads.
    pub fn contains(&self, password: &str) -> io::Result<bool> {
        self.contains_key(&key_of_password(password))
    }

    fn contains_key(&self, target: &Key) -> io::Result<bool> {
        // A line holding the target, if any, starts in [lo, hi); lo is
        // always the start of a line.
        let (mut lo, mut hi) = (0u64, self.len);
        while hi - lo > SCAN_BYTES {
            let mid = lo + (hi - lo) / 2;
            let start = self.line_start_from(mid)?;
            if start >= hi {
                hi = mid;
                continue;
            }
            let (key, next) = self.line_at(start)?;
            match key.cmp(target) {
                Ordering::Equal => return Ok(true),
                Ordering::Less => lo = next,
                Ordering::Greater => hi = start,
            }
        }
        let mut buf = vec![0u8; (hi - lo) as usize + MAX_LINE];
        let n = self.read_at(lo, &mut buf)?;
        buf.truncate(n);
        let mut pos = 0usize;
        while pos < buf.len() && lo + (pos as u64) < hi {
            let end = buf[pos..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(buf.len(), |i| pos + i);
            let key = key_of(&buf[pos..end]).ok_or_else(|| malformed(lo + pos as u64))?;
            match key.cmp(target) {
                Ordering::Equal => return Ok(true),
                Ordering::Greater => return Ok(false),
                Ordering::Less => pos = end + 1,
            }
        }
        Ok(false)
    }

    /// The start of the first line that starts at or after `offset` (> 0),
    /// or the file's length.
    fn line_start_from(&self, offset: u64) -> io::Result<u64> {
        let mut buf = [0u8; MAX_LINE];
        let n = self.read_at(offset - 1, &mut buf)?;
        match buf[..n].iter().position(|&b| b == b'\n') {
            Some(i) => Ok(offset + i as u64),
            None if n < MAX_LINE => Ok(self.len),
            None => Err(malformed(offset)),
        }
    }

    /// The key of the line starting at `start`, and where the next begins.
    fn line_at(&self, start: u64) -> io::Result<(Key, u64)> {
        let mut buf = [0u8; MAX_LINE];
        let n = self.read_at(start, &mut buf)?;
        let (end, next) = match buf[..n].iter().position(|&b| b == b'\n') {
            Some(i) => (i, start + i as u64 + 1),
            None if n < MAX_LINE => (n, self.len),
            None => return Err(malformed(start)),
        };
        let key = key_of(&buf[..end]).ok_or_else(|| malformed(start))?;
        Ok((key, next))
    }

    /// Fills `buf` from `offset` as far as the file goes.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let mut filled = 0;
        while filled < buf.len() {
            match self
                .file
                .read_at(&mut buf[filled..], offset + filled as u64)
            {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(filled)
    }
}

#[cfg(test)]
mod tests;
