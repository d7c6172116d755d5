//! The ListUsers `Filter` parser (`name = "value"`, `name ^= "value"`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Err(e) = cognate_core::service::parse_filter(s) {
            assert!(
                e.kind == cognate_core::ErrorKind::InvalidParameter,
                "{s:?}: {e:?}"
            );
        }
    }
});
