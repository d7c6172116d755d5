//! Request paths, normalised once before routing so that the route a path
//! matches and the path the backend receives are the same resource.
//!
//! Like API Gateway, the path is percent-decoded once before it is matched
//! against the route templates. Then, unlike a gateway that matches one
//! spelling and forwards another:
//!
//! - `.` and `..` segments are resolved (RFC 3986, 5.2.4) and repeated
//!   slashes merged, before matching;
//! - what is ambiguous is refused (`400`): an encoded slash or backslash
//!   (`%2F`, `%5C`), a raw backslash, an encoded control byte (`%00`-`%1F`,
//!   `%7F`), a malformed escape, a dot segment spelled with an encoded dot
//!   (`%2e`, `.%2E`), or bytes that are not UTF-8 once decoded;
//! - the backend receives the same decoded path in one canonical encoding
//!   (unreserved characters, sub-delims, `:` and `@` as they are, every
//!   other byte as upper-case `%XX`), so a backend that decodes it once sees
//!   what was matched;
//! - a trailing slash is ignored when matching (`/items/` matches
//!   `/items`, as frameworks with lenient routing would serve it) and kept
//!   in the forwarded path.
//!
//! Matching is case-sensitive, as in API Gateway.
//!
//! A path already in canonical form (the common case) is matched and
//! forwarded as it is, without allocating.

use std::borrow::Cow;

/// A request path as routing sees it.
pub(crate) struct Normalized<'a> {
    /// What the routes are matched against: decoded, dot segments resolved,
    /// slashes merged, without a trailing slash (except `/` itself).
    pub matching: Cow<'a, str>,
    /// The path to forward when it is not the request's own (canonical
    /// encoding, trailing slash kept).
    pub canonical: Option<String>,
}

/// A path refused as ambiguous or malformed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct BadPath;

/// Bytes that stay raw in a canonical path: unreserved, sub-delims, `:`,
/// `@` (RFC 3986 `pchar` without `%`) and `/`.
const fn raw_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
                    | b'/'
            );
        i += 1;
    }
    t
}

const RAW: [bool; 256] = raw_table();

/// Whether `path` needs no work: only raw bytes, and no segment that is
/// empty or starts with a dot (a cheap superset of the dot segments).
fn is_canonical(path: &[u8]) -> bool {
    let mut previous = 0u8;
    for &b in path {
        if !RAW[b as usize] || (previous == b'/' && (b == b'/' || b == b'.')) {
            return false;
        }
        previous = b;
    }
    true
}

fn without_trailing_slash(path: &str) -> &str {
    match path.strip_suffix('/') {
        Some(rest) if !rest.is_empty() => rest,
        _ => path,
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Normalises a request's path (see the module doc). A path that does not
/// start with `/` (`*`) is left as it is: no route matches it.
pub(crate) fn normalize(path: &str) -> Result<Normalized<'_>, BadPath> {
    let bytes = path.as_bytes();
    if bytes.first() != Some(&b'/') {
        return Ok(Normalized {
            matching: Cow::Borrowed(path),
            canonical: None,
        });
    }
    if is_canonical(bytes) {
        return Ok(Normalized {
            matching: Cow::Borrowed(without_trailing_slash(path)),
            canonical: None,
        });
    }
    // Decoded segments, dot segments resolved, empty ones dropped.
    let mut segments: Vec<Vec<u8>> = Vec::new();
    let mut trailing_slash = false;
    for raw in bytes[1..].split(|b| *b == b'/') {
        let mut segment = Vec::with_capacity(raw.len());
        let mut encoded_dot = false;
        let mut i = 0;
        while i < raw.len() {
            let b = raw[i];
            if b == b'%' {
                let high = raw.get(i + 1).copied().and_then(hex).ok_or(BadPath)?;
                let low = raw.get(i + 2).copied().and_then(hex).ok_or(BadPath)?;
                let decoded = high << 4 | low;
                if matches!(decoded, b'/' | b'\\' | 0x00..=0x1F | 0x7F) {
                    return Err(BadPath);
                }
                encoded_dot |= decoded == b'.';
                segment.push(decoded);
                i += 3;
            } else if b == b'\\' {
                return Err(BadPath);
            } else {
                segment.push(b);
                i += 1;
            }
        }
        trailing_slash = true;
        match segment.as_slice() {
            b"" => {}
            b"." | b".." if encoded_dot => return Err(BadPath),
            b"." => {}
            b".." => {
                segments.pop();
            }
            _ => {
                segments.push(segment);
                trailing_slash = false;
            }
        }
    }
    let mut matching = String::with_capacity(path.len());
    let mut canonical = String::with_capacity(path.len() + 8);
    for segment in &segments {
        let text = std::str::from_utf8(segment).map_err(|_| BadPath)?;
        matching.push('/');
        matching.push_str(text);
        canonical.push('/');
        for &b in segment {
            if RAW[b as usize] {
                canonical.push(char::from(b));
            } else {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                canonical.push('%');
                canonical.push(char::from(HEX[usize::from(b >> 4)]));
                canonical.push(char::from(HEX[usize::from(b & 0xF)]));
            }
        }
    }
    if matching.is_empty() {
        matching.push('/');
    }
    if trailing_slash || segments.is_empty() {
        canonical.push('/');
    }
    Ok(Normalized {
        matching: Cow::Owned(matching),
        canonical: (canonical != path).then_some(canonical),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(path: &str) -> Result<(String, String), BadPath> {
        normalize(path).map(|n| {
            let forwarded = n.canonical.clone().unwrap_or_else(|| path.to_owned());
            (n.matching.into_owned(), forwarded)
        })
    }

    #[test]
    fn canonical_paths_are_borrowed() {
        for path in ["/", "/dev/items/42", "/a/b.c/d:e@f;g=h", "/x/"] {
            let n = normalize(path).unwrap();
            assert!(matches!(n.matching, Cow::Borrowed(_)), "{path}");
            assert!(n.canonical.is_none(), "{path}");
        }
        assert_eq!(normalize("/x/").unwrap().matching, "/x");
        assert_eq!(normalize("/").unwrap().matching, "/");
    }

    #[test]
    fn paths_are_decoded_once_and_dot_segments_resolved() {
        let cases = [
            // (request, matched, forwarded)
            ("/dev/%65cho", "/dev/echo", "/dev/echo"),
            ("/dev/./echo", "/dev/echo", "/dev/echo"),
            ("/dev/x/../echo", "/dev/echo", "/dev/echo"),
            ("/dev/../../echo", "/echo", "/echo"),
            ("//dev//echo//", "/dev/echo", "/dev/echo/"),
            ("/dev/echo/.", "/dev/echo", "/dev/echo/"),
            ("/dev/echo/..", "/dev", "/dev/"),
            ("/.well-known/x", "/.well-known/x", "/.well-known/x"),
            ("/a/file%2Etxt", "/a/file.txt", "/a/file.txt"),
            ("/a/...", "/a/...", "/a/..."),
            ("/a%20b", "/a b", "/a%20b"),
            ("/caf%c3%a9", "/café", "/caf%C3%A9"),
            ("/café", "/café", "/caf%C3%A9"),
            ("/100%25", "/100%", "/100%25"),
            ("/%7B%22a%22%7D", "/{\"a\"}", "/%7B%22a%22%7D"),
            ("/q%3F%23", "/q?#", "/q%3F%23"),
            ("/%2B%3A", "/+:", "/+:"),
            ("/..", "/", "/"),
            ("//", "/", "/"),
        ];
        for (request, matched, forwarded) in cases {
            assert_eq!(
                norm(request),
                Ok((matched.to_owned(), forwarded.to_owned())),
                "{request}"
            );
        }
    }

    #[test]
    fn ambiguous_paths_are_refused() {
        for path in [
            "/dev/%2e/echo",
            "/dev/%2E%2E/echo",
            "/dev/.%2e/echo",
            "/dev/%2e./echo",
            "/a%2Fb",
            "/a%2fb",
            "/a%5Cb",
            "/a\\b",
            "/a%00",
            "/a%0A",
            "/a%7F",
            "/a%",
            "/a%6",
            "/a%zz",
            "/a%ff",
        ] {
            assert!(norm(path).is_err(), "{path}");
        }
    }
}
