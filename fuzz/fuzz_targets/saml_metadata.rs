//! A SAML identity provider's metadata as CreateIdentityProvider reads it
//! (`MetadataFile`, or a MetadataURL's answer): any bytes, parsed for the
//! HTTP-Redirect endpoints. It may refuse; it must not panic.
#![no_main]

use cognate_core::service::saml_metadata::idp_endpoints;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(xml) = std::str::from_utf8(data) {
        if let Ok(e) = idp_endpoints(xml) {
            assert!(!e.sso_redirect.is_empty());
        }
    }
});
