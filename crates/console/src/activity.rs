//! The admins' own recent changes: every change the console makes is
//! logged on `cognate::audit` ([`crate::Auth::audit`]) and kept here too,
//! in a bounded in-memory ring (the newest [`KEPT`]), shown on
//! `/console/activity` and, for one user, on the user's page. Like the
//! console's sessions it is per instance and starts empty at each start;
//! the audit log is the durable record. A pool-limited key sees the
//! changes of its pools only.

use std::collections::VecDeque;
use std::sync::Mutex;

use axum::response::Response;
use axum::routing::get;
use axum::Router;
use cognate_aws_json::sigv4::Grant;
use minijinja::context;
use serde::Serialize;
use serde_json::json;

use crate::{encode, js, Auth, Shared};

/// How many changes are kept.
pub const KEPT: usize = 1000;

/// One change made in the console.
#[derive(Clone, Debug, Serialize)]
pub struct Change {
    /// Milliseconds since the epoch (the service's clock).
    pub at: i64,
    /// The access key id, or `development`.
    pub actor: String,
    /// The API operation (`AdminCreateUser`) or `RotateSigningKeys`.
    pub action: String,
    pub pool_id: String,
    /// What it changed: a name, a username, a client id.
    pub object: String,
}

#[derive(Default)]
pub struct Activity {
    ring: Mutex<VecDeque<Change>>,
}

impl Activity {
    pub fn record(&self, change: Change) {
        let mut ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        if ring.len() >= KEPT {
            ring.pop_back();
        }
        ring.push_front(change);
    }

    /// The changes `grant` may see that `keep` selects, newest first, at most `limit`.
    pub fn recent(
        &self,
        grant: &Grant,
        limit: usize,
        keep: impl Fn(&Change) -> bool,
    ) -> Vec<Change> {
        let ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        ring.iter()
            .filter(|c| match grant {
                Grant::All => true,
                Grant::Pools { pools, .. } => pools.contains(&c.pool_id),
            })
            .filter(|c| keep(c))
            .take(limit)
            .cloned()
            .collect()
    }
}

/// Changes as rows for a template.
pub(crate) fn rows(changes: &[Change]) -> Vec<serde_json::Value> {
    changes
        .iter()
        .map(|c| {
            json!({
                "at": crate::date(&json!(c.at.div_euclid(1000))),
                "actor": c.actor,
                "action": c.action,
                "pool_id": c.pool_id,
                "pool_href": (!c.pool_id.is_empty()).then(|| format!("/console/pools/{}", encode(&c.pool_id))),
                "object": c.object,
            })
        })
        .collect()
}

pub(crate) fn routes() -> Router<Shared> {
    Router::new().route("/console/activity", get(page))
}

async fn page(auth: Auth) -> Response {
    let changes = auth
        .console
        .activity
        .recent(&auth.session.grant, 200, |_| true);
    auth.page(
        "activity.html",
        context! { title => "Admin activity", changes => js(rows(&changes)), kept => KEPT },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn change(i: usize, pool: &str) -> Change {
        Change {
            at: i as i64,
            actor: "AK".into(),
            action: "AdminCreateUser".into(),
            pool_id: pool.into(),
            object: format!("user{i}"),
        }
    }

    #[test]
    fn the_ring_is_bounded_newest_first_and_filtered_by_grant() {
        let a = Activity::default();
        for i in 0..KEPT + 10 {
            a.record(change(i, if i % 2 == 0 { "p_A" } else { "p_B" }));
        }
        let all = a.recent(&Grant::All, usize::MAX, |_| true);
        assert_eq!(all.len(), KEPT);
        assert_eq!(all[0].object, format!("user{}", KEPT + 9));
        let limited = Grant::Pools {
            key: "AK".into(),
            pools: Arc::from(vec!["p_A".to_owned()]),
        };
        let mine = a.recent(&limited, usize::MAX, |_| true);
        assert!(mine.iter().all(|c| c.pool_id == "p_A"));
        assert_eq!(mine.len(), KEPT / 2);
    }
}
