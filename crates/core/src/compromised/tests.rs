use std::io::Write;

use super::*;

/// The upper-case SHA-1 of a password, as the published list spells it.
fn hex_key(password: &str) -> String {
    String::from_utf8(key_of_password(password).to_vec()).unwrap()
}

/// A list of the digests of `passwords`, sorted, each line formatted by `line`.
fn list_file(
    passwords: &[String],
    line: impl Fn(usize, &str) -> String,
) -> tempfile::NamedTempFile {
    let mut keys: Vec<String> = passwords.iter().map(|p| hex_key(p)).collect();
    keys.sort();
    let mut file = tempfile::NamedTempFile::new().unwrap();
    for (i, key) in keys.iter().enumerate() {
        file.write_all(line(i, key).as_bytes()).unwrap();
    }
    file.flush().unwrap();
    file
}

fn passwords(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}")).collect()
}

#[test]
fn every_listed_password_is_found_and_no_other() {
    // Sizes around the search's scan window and far above it.
    for n in [0, 1, 2, 3, 150, 190, 200, 1000, 5000] {
        let listed = passwords("listed", n);
        let file = list_file(&listed, |i, key| {
            format!("{key}:{}\r\n", i * 37 % 100_000 + 1)
        });
        let list = CompromisedPasswords::open(file.path()).unwrap();
        for p in &listed {
            assert!(list.contains(p).unwrap(), "{n} lines: {p} not found");
        }
        for p in passwords("other", 300) {
            assert!(!list.contains(&p).unwrap(), "{n} lines: {p} found");
        }
    }
}

#[test]
fn digests_alone_in_lower_case_without_a_last_newline() {
    let listed = passwords("plain", 3000);
    let file = list_file(&listed, |i, key| {
        let sep = if i == 0 { "" } else { "\n" };
        format!("{sep}{}", key.to_ascii_lowercase())
    });
    let list = CompromisedPasswords::open(file.path()).unwrap();
    for p in &listed {
        assert!(list.contains(p).unwrap(), "{p}");
    }
    assert!(!list.contains("not-listed").unwrap());
}

#[test]
fn the_first_and_last_digests_and_those_beyond_them() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    let mut keys: Vec<String> = passwords("edge", 400).iter().map(|p| hex_key(p)).collect();
    keys.push("0".repeat(40));
    keys.push("F".repeat(40));
    keys.sort();
    for k in &keys {
        writeln!(file, "{k}:1").unwrap();
    }
    let list = CompromisedPasswords::open(file.path()).unwrap();
    for k in &keys {
        let key: Key = k.as_bytes().try_into().unwrap();
        assert!(list.contains_key(&key).unwrap(), "{k}");
    }
    // Just below the first after 0000…, just above the one before FFFF….
    let mut below: Key = keys[1].as_bytes().try_into().unwrap();
    below[39] = if below[39] == b'0' { b'1' } else { b'0' };
    let listed_below = keys.iter().any(|k| k.as_bytes() == below);
    assert_eq!(list.contains_key(&below).unwrap(), listed_below);
    let mut above = [b'F'; 40];
    above[39] = b'E';
    assert!(!list.contains_key(&above).unwrap());
}

#[test]
fn a_list_out_of_order_is_refused_naming_the_line() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "{}:3", "1".repeat(40)).unwrap();
    writeln!(file, "{}:2", "3".repeat(40)).unwrap();
    writeln!(file, "{}:9", "2".repeat(40)).unwrap();
    let err = CompromisedPasswords::open(file.path()).unwrap_err();
    assert!(err.contains(", line 3: out of order"), "{err}");
    assert!(err.starts_with(&file.path().display().to_string()), "{err}");
}

#[test]
fn a_line_that_is_not_a_digest_is_refused_naming_it() {
    for bad in [
        "password123",
        &"G".repeat(40),
        &format!("{}:", "A".repeat(40)),
        &format!("{}:12x", "A".repeat(40)),
        &"A".repeat(41),
        "",
    ] {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "{}:3", "0".repeat(40)).unwrap();
        writeln!(file, "{bad}").unwrap();
        let err = CompromisedPasswords::open(file.path()).unwrap_err();
        assert!(err.contains(", line 2: not a SHA-1 digest"), "{bad}: {err}");
    }
    let missing = CompromisedPasswords::open(Path::new("/nonexistent/pwned.txt")).unwrap_err();
    assert!(missing.starts_with("/nonexistent/pwned.txt: "), "{missing}");
}

#[test]
fn a_large_list_is_checked_at_its_start_and_end() {
    let listed = passwords("large", 4000);
    let file = list_file(&listed, |_, key| format!("{key}:5\n"));
    // As if the file were above the whole-file limit: 4 KiB at each end.
    let list = CompromisedPasswords::open_checking(file.path(), 1024, 4096).unwrap();
    for p in listed.iter().step_by(7) {
        assert!(list.contains(p).unwrap());
    }

    // A disorder at the end is found there...
    let mut text = std::fs::read_to_string(file.path()).unwrap();
    text.push_str(&format!("{}:1\n", "0".repeat(40)));
    std::fs::write(file.path(), &text).unwrap();
    let err = CompromisedPasswords::open_checking(file.path(), 1024, 4096).unwrap_err();
    assert!(
        err.contains("of the last 4096 bytes: out of order"),
        "{err}"
    );

    // ...and a bad line in the middle, past both checks, makes the lookup
    // that reads it an error, not an answer.
    let mut lines: Vec<String> = list_file(&listed, |_, key| format!("{key}:5\n"))
        .path()
        .to_str()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let middle = lines.len() / 2;
    lines[middle] = "not a digest at all, and longer than any line of the list".repeat(2);
    std::fs::write(file.path(), lines.join("\n") + "\n").unwrap();
    let list = CompromisedPasswords::open_checking(file.path(), 1024, 4096).unwrap();
    let found: Vec<io::Result<bool>> = listed.iter().map(|p| list.contains(p)).collect();
    assert!(found.iter().any(|r| r.is_err()));
    assert!(
        found.iter().all(|r| !matches!(r, Ok(false))),
        "a listed password read as absent"
    );
}
