//! What a pool-limited access key (`admin.credentials[].pools`) may do,
//! decided after its signature is verified and before the request is
//! validated or dispatched.
//!
//! * An operation naming a pool (`UserPoolId`, or the pool ARN of the tag
//!   operations) is allowed when that pool is in the key's list; a request
//!   that names no pool is refused.
//! * `ListUserPools` answers only the allowed pools (filtered per page, so
//!   a page may hold fewer than `MaxResults`; `NextToken` still works).
//! * `DescribeUserPoolDomain` (it names a domain, not a pool) answers an
//!   empty description, as for an unknown domain, when the domain belongs
//!   to another pool.
//! * Every other operation that names no pool (`CreateUserPool`,
//!   the account's provisioned limits, `GetClientToken`, ...) is refused.
//!
//! Refusals are `AccessDeniedException` in IAM's words.

use axum::http::StatusCode;
use serde_json::Value;

use crate::error::ApiError;
use crate::model;
use crate::sigv4::Grant;

/// What must happen to a successful answer for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    None,
    ListUserPools,
    DescribeUserPoolDomain,
}

const TAG_OPERATIONS: &[&str] = &["ListTagsForResource", "TagResource", "UntagResource"];

/// Whether the grant allows `operation` with this body.
pub fn check(
    grant: &Grant,
    operation: &str,
    body: &[u8],
    region: &str,
    account_id: &str,
) -> Result<Filter, ApiError> {
    let Grant::Pools { key, pools } = grant else {
        return Ok(Filter::None);
    };
    if !model::knows(operation) {
        return Ok(Filter::None);
    }
    match operation {
        "ListUserPools" => return Ok(Filter::ListUserPools),
        "DescribeUserPoolDomain" => return Ok(Filter::DescribeUserPoolDomain),
        _ => {}
    }
    let request: Option<Value> = serde_json::from_slice(body).ok();
    let member = |name: &str| {
        request
            .as_ref()
            .and_then(|r| r.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let pool = if TAG_OPERATIONS.contains(&operation) {
        member("ResourceArn").and_then(|arn| pool_of_arn(&arn).map(str::to_owned))
    } else if model::names_pool(operation) {
        member("UserPoolId")
    } else {
        None
    };
    let resource = match &pool {
        Some(p) => format!("arn:aws:cognito-idp:{region}:{account_id}:userpool/{p}"),
        None => "*".to_owned(),
    };
    match pool {
        Some(p) if pools.contains(&p) => Ok(Filter::None),
        _ => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "AccessDeniedException",
            format!(
                "User: arn:aws:iam::{account_id}:user/{key} is not authorized to perform: cognito-idp:{operation} on resource: {resource}"
            ),
        )),
    }
}

/// The pool id of `arn:aws:cognito-idp:<region>:<account>:userpool/<id>`.
fn pool_of_arn(arn: &str) -> Option<&str> {
    let (_, rest) = arn.split_once(":userpool/")?;
    Some(rest.split('/').next().unwrap_or(rest)).filter(|p| !p.is_empty())
}

/// The answer as the grant may see it.
pub fn filter(grant: &Grant, filter: Filter, mut answer: Value) -> Value {
    let Grant::Pools { pools, .. } = grant else {
        return answer;
    };
    let allowed = |id: Option<&Value>| {
        id.and_then(Value::as_str)
            .is_some_and(|id| pools.iter().any(|p| p == id))
    };
    match filter {
        Filter::None => {}
        Filter::ListUserPools => {
            if let Some(list) = answer.get_mut("UserPools").and_then(Value::as_array_mut) {
                list.retain(|p| allowed(p.get("Id")));
            }
        }
        Filter::DescribeUserPoolDomain => {
            if let Some(d) = answer.get_mut("DomainDescription") {
                if d.get("UserPoolId").is_some() && !allowed(d.get("UserPoolId")) {
                    *d = Value::Object(Default::default());
                }
            }
        }
    }
    answer
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use serde_json::json;

    fn limited() -> Grant {
        Grant::Pools {
            key: "AKIDPOOL".into(),
            pools: vec!["us-east-1_Mine".to_owned()].into(),
        }
    }

    fn run(op: &str, body: Value) -> Result<Filter, ApiError> {
        check(
            &limited(),
            op,
            body.to_string().as_bytes(),
            "us-east-1",
            "000000000000",
        )
    }

    #[test]
    fn pool_limited_keys() {
        assert_eq!(
            run(
                "AdminGetUser",
                json!({"UserPoolId": "us-east-1_Mine", "Username": "a"})
            ),
            Ok(Filter::None)
        );
        let e = run(
            "AdminGetUser",
            json!({"UserPoolId": "us-east-1_Other", "Username": "a"}),
        )
        .unwrap_err();
        assert_eq!(e.type_name, "AccessDeniedException");
        assert_eq!(
            e.message,
            "User: arn:aws:iam::000000000000:user/AKIDPOOL is not authorized to perform: cognito-idp:AdminGetUser on resource: arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_Other"
        );
        assert!(run("AdminGetUser", json!({"Username": "a"})).is_err());
        assert!(run("CreateUserPool", json!({"PoolName": "p"})).is_err());
        assert!(run("GetProvisionedLimit", json!({})).is_err());
        assert_eq!(
            run(
                "TagResource",
                json!({"ResourceArn": "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_Mine", "Tags": {}})
            ),
            Ok(Filter::None)
        );
        assert!(run("TagResource", json!({"ResourceArn": "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_Other"})).is_err());
        assert_eq!(
            run("ListUserPools", json!({"MaxResults": 10})),
            Ok(Filter::ListUserPools)
        );
        assert_eq!(
            run("DescribeUserPoolDomain", json!({"Domain": "d"})),
            Ok(Filter::DescribeUserPoolDomain)
        );
        assert_eq!(
            check(&Grant::All, "CreateUserPool", b"{}", "r", "a"),
            Ok(Filter::None)
        );
    }

    #[test]
    fn answers_are_filtered() {
        let list = json!({"UserPools": [{"Id": "us-east-1_Mine"}, {"Id": "us-east-1_Other"}], "NextToken": "t"});
        assert_eq!(
            filter(&limited(), Filter::ListUserPools, list.clone()),
            json!({"UserPools": [{"Id": "us-east-1_Mine"}], "NextToken": "t"})
        );
        assert_eq!(
            filter(&Grant::All, Filter::ListUserPools, list.clone()),
            list
        );
        let other = json!({"DomainDescription": {"UserPoolId": "us-east-1_Other", "Domain": "d"}});
        assert_eq!(
            filter(&limited(), Filter::DescribeUserPoolDomain, other),
            json!({"DomainDescription": {}})
        );
        let mine = json!({"DomainDescription": {"UserPoolId": "us-east-1_Mine", "Domain": "d"}});
        assert_eq!(
            filter(&limited(), Filter::DescribeUserPoolDomain, mine.clone()),
            mine
        );
    }
}
