//! The config file loader (`src/config.rs` of the binary, included here
//! by path with the two modules it names): YAML parsing into the typed
//! file with file/line/key errors, the admin credentials check, the
//! gateway section's validation (`Gateway::build`, as `check-config` runs
//! it), and reconciling the pools, clients and users into a real service.
//! Any text must give a value or a clear error, never a panic.
#![no_main]
#![allow(dead_code)]

#[path = "../../src/config.rs"]
mod config;
#[path = "../../src/keys.rs"]
mod keys;
#[path = "../../src/lambda.rs"]
mod lambda;

use std::path::Path;
use std::sync::Arc;

use cognate_gateway::LocalPools;
use cognate_token::{JwksSource, KeySet, Revocation};
use libfuzzer_sys::fuzz_target;

/// Local pools as `check-config` sees them: issuers, no keys.
struct NoPools;

impl LocalPools for NoPools {
    fn issuer(&self, pool_id: &str) -> String {
        format!("http://check-config/{pool_id}")
    }
    fn jwks(&self, _pool_id: &str) -> Arc<dyn JwksSource> {
        Arc::new(cognate_token::StaticJwks(KeySet::default()))
    }
    fn revocation(&self, _pool_id: &str) -> Option<Arc<dyn Revocation>> {
        None
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.yaml");
    let Ok(file) = config::parse(path, text) else {
        return;
    };
    let _ = config::admin_credentials(Some((path, &file)), None, None);
    let w = cognate_fuzz::world();
    w.rt.block_on(async {
        if let Some(g) = &file.gateway {
            let _ = cognate_gateway::Gateway::build(g, Some(Arc::new(NoPools)));
        }
        let _ = config::apply(&w.svc, path, &file).await;
    });
});
