//! Writes small geo-IP databases in the MaxMind DB format (version 2.0,
//! IPv4 search tree, 24-bit records), as `serve --geoip-database` reads
//! them, for tests that need addresses placed in cities: the published
//! databases are licensed downloads. The layout follows the MaxMind DB
//! specification: the search tree, 16 zero bytes, the data section, and
//! the metadata after its marker.

use std::path::{Path, PathBuf};

/// A place of a test database: an IPv4 network in CIDR notation and its
/// city, country and time zone.
pub struct Place<'a> {
    pub network: &'a str,
    pub city: &'a str,
    pub country: &'a str,
    pub time_zone: &'a str,
}

/// A control byte (and its extended-type and size bytes).
fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    let (low, extra): (u8, Vec<u8>) = match size {
        0..29 => (size as u8, vec![]),
        29..285 => (29, vec![(size - 29) as u8]),
        285..65821 => (30, ((size - 285) as u16).to_be_bytes().to_vec()),
        _ => (31, ((size - 65821) as u32).to_be_bytes()[1..].to_vec()),
    };
    if kind <= 7 {
        out.push(kind << 5 | low);
    } else {
        out.push(low);
        out.push(kind - 7);
    }
    out.extend(extra);
}

fn string(out: &mut Vec<u8>, s: &str) {
    control(out, 2, s.len());
    out.extend(s.as_bytes());
}

/// An unsigned integer of type `kind` (5: uint16, 6: uint32, 9: uint64).
fn unsigned(out: &mut Vec<u8>, kind: u8, value: u64) {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    control(out, kind, 8 - skip);
    out.extend(&bytes[skip..]);
}

/// `{"names": {key: value}}`.
fn names(out: &mut Vec<u8>, key: &str, value: &str) {
    control(out, 7, 1);
    string(out, "names");
    control(out, 7, 1);
    string(out, key);
    string(out, value);
}

fn record(out: &mut Vec<u8>, place: &Place) {
    control(out, 7, 3);
    string(out, "city");
    names(out, "en", place.city);
    string(out, "country");
    names(out, "en", place.country);
    string(out, "location");
    control(out, 7, 1);
    string(out, "time_zone");
    string(out, place.time_zone);
}

#[derive(Clone, Copy)]
enum Slot {
    Empty,
    Node(usize),
    Data(usize),
}

/// Writes a database placing `places` (networks that do not overlap) at
/// `dir/name`.
pub fn write(dir: &Path, name: &str, places: &[Place]) -> PathBuf {
    let mut data = Vec::new();
    let mut nodes: Vec<[Slot; 2]> = vec![[Slot::Empty, Slot::Empty]];
    for place in places {
        let offset = data.len();
        record(&mut data, place);
        let (address, prefix) = place.network.split_once('/').expect("a CIDR network");
        let bits = u32::from(address.parse::<std::net::Ipv4Addr>().expect("IPv4"));
        let prefix: u32 = prefix.parse().expect("a prefix length");
        let mut node = 0;
        for i in 0..prefix {
            let bit = ((bits >> (31 - i)) & 1) as usize;
            if i + 1 == prefix {
                nodes[node][bit] = Slot::Data(offset);
            } else {
                node = match nodes[node][bit] {
                    Slot::Node(next) => next,
                    _ => {
                        nodes.push([Slot::Empty, Slot::Empty]);
                        let next = nodes.len() - 1;
                        nodes[node][bit] = Slot::Node(next);
                        next
                    }
                };
            }
        }
    }
    let count = nodes.len();
    let value = |slot: Slot| match slot {
        Slot::Empty => count,
        Slot::Node(n) => n,
        Slot::Data(offset) => count + 16 + offset,
    };
    let mut file = Vec::new();
    for [left, right] in &nodes {
        file.extend(&(value(*left) as u32).to_be_bytes()[1..]);
        file.extend(&(value(*right) as u32).to_be_bytes()[1..]);
    }
    file.extend([0u8; 16]);
    file.extend(&data);
    file.extend(b"\xAB\xCD\xEFMaxMind.com");
    let mut meta = Vec::new();
    control(&mut meta, 7, 9);
    string(&mut meta, "binary_format_major_version");
    unsigned(&mut meta, 5, 2);
    string(&mut meta, "binary_format_minor_version");
    unsigned(&mut meta, 5, 0);
    string(&mut meta, "build_epoch");
    unsigned(&mut meta, 9, 1_700_000_000);
    string(&mut meta, "database_type");
    string(&mut meta, "GeoLite2-City");
    string(&mut meta, "description");
    control(&mut meta, 7, 1);
    string(&mut meta, "en");
    string(&mut meta, "cognate test places");
    string(&mut meta, "ip_version");
    unsigned(&mut meta, 5, 4);
    string(&mut meta, "languages");
    control(&mut meta, 11, 1);
    string(&mut meta, "en");
    string(&mut meta, "node_count");
    unsigned(&mut meta, 6, count as u64);
    string(&mut meta, "record_size");
    unsigned(&mut meta, 5, 24);
    file.extend(meta);
    let path = dir.join(name);
    std::fs::write(&path, file).expect("write the database");
    path
}
