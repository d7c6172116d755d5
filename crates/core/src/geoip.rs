//! Where an address is: the server's geo-IP database (`serve
//! --geoip-database`), a MaxMind DB file of the City kind (GeoLite2-City,
//! GeoIP2-City, DB-IP's City Lite and others in that format), read with
//! the `maxminddb` crate. Threat protection uses it for the City, Country
//! and Timezone of auth events and the `{city}` and `{country}` of risk
//! notifications, and session listings for their LastLocation. Without a
//! database, those are unknown.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// What the events show of an address's place: English names, as the
/// AWS examples show them.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Place {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

impl Place {
    pub fn is_empty(&self) -> bool {
        self.city.is_none() && self.country.is_none() && self.timezone.is_none()
    }
}

/// The part of a City record that is read.
#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow, default)]
    city: Named<'a>,
    #[serde(borrow, default)]
    country: Named<'a>,
    #[serde(borrow, default)]
    location: Location<'a>,
}

#[derive(Deserialize, Default)]
struct Named<'a> {
    #[serde(borrow, default)]
    names: BTreeMap<&'a str, &'a str>,
}

impl Named<'_> {
    fn english(&self) -> Option<String> {
        self.names
            .get("en")
            .filter(|n| !n.is_empty())
            .map(|n| (*n).to_owned())
    }
}

#[derive(Deserialize, Default)]
struct Location<'a> {
    #[serde(borrow, default)]
    time_zone: Option<&'a str>,
}

/// An open geo-IP database (held in memory: a City database is some tens
/// of megabytes).
pub struct GeoIp {
    reader: maxminddb::Reader<Vec<u8>>,
    path: PathBuf,
}

impl GeoIp {
    /// Opens a database; the error names the file.
    pub fn open(path: &Path) -> Result<GeoIp, String> {
        let reader = maxminddb::Reader::open_readfile(path).map_err(|e| {
            format!(
                "{}: not a MaxMind DB (geo-IP) database: {e}",
                path.display()
            )
        })?;
        Ok(GeoIp {
            reader,
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The place of an address; empty where the database has none (or a
    /// record it cannot read, logged).
    pub fn locate(&self, ip: IpAddr) -> Place {
        let ip = ip.to_canonical();
        let found = self
            .reader
            .lookup(ip)
            .and_then(|result| result.decode::<Record>());
        match found {
            Ok(Some(record)) => Place {
                city: record.city.english(),
                country: record.country.english(),
                timezone: record
                    .location
                    .time_zone
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned),
            },
            Ok(None) => Place::default(),
            Err(e) => {
                // An IPv6 address in an IPv4 database lands here too.
                tracing::debug!(error = %e, "geo-IP lookup failed");
                Place::default()
            }
        }
    }
}
