//! The AWS JSON 1.1 requests of every operation, as `POST /` serves them
//! after the signature check: the model's constraints (`model::validate`),
//! then the operation's own shape parsing and checks and the service call
//! (`operation::dispatch`), against a real service over SQLite.
//!
//! Input: `<OperationName>\n<JSON body>`. No answer may be a 5xx.
#![no_main]

use cognate_aws_json::{model, operation};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(nl) = data.iter().position(|b| *b == b'\n') else {
        return;
    };
    let Ok(op) = std::str::from_utf8(&data[..nl]) else {
        return;
    };
    let Some(op) = operation::MODEL_OPERATIONS.iter().find(|o| **o == op) else {
        return;
    };
    let body = &data[nl + 1..];
    let w = cognate_fuzz::world();
    w.rt.block_on(async {
        let _ = model::knows(op);
        let _ = model::names_pool(op);
        let checked = if operation::IMPLEMENTED.contains(op) {
            model::validate(op, body)
        } else {
            Ok(())
        };
        let result = match checked {
            Ok(()) => operation::dispatch(&w.svc, op, body).await,
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            assert!(
                !e.status.is_server_error(),
                "{op} answered {} {}: {}",
                e.status,
                e.type_name,
                e.message
            );
        }
    });
});
