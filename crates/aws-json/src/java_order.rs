//! The order in which Cognito lists the members of a set: a Java `HashSet`
//! of strings iterates by bucket (`String.hashCode`, spread by `h ^ h >>> 16`,
//! masked by the table's capacity), and within a bucket in insertion order.
//! AWS's captured answers show it for enum sets in validation messages
//! (`[OPTIONAL, OFF, ON]`, `[implicit, client_credentials, code]`) and for
//! an app client's attribute, flow, provider and scope lists.

/// Java's `String.hashCode` (over UTF-16 code units, wrapping).
fn java_hash(s: &str) -> u32 {
    s.encode_utf16().fold(0u32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(u32::from(unit))
    })
}

/// `items` without repeats, in the order a `HashSet` filled with them in
/// this order iterates: 16 buckets, doubled while the set is over three
/// quarters full.
pub fn hash_set_order<S: AsRef<str>>(items: &[S]) -> Vec<String> {
    let mut unique: Vec<&str> = Vec::with_capacity(items.len());
    for item in items {
        if !unique.contains(&item.as_ref()) {
            unique.push(item.as_ref());
        }
    }
    let mut capacity: usize = 16;
    while unique.len() * 4 > capacity * 3 {
        capacity *= 2;
    }
    let bucket = |s: &str| {
        let h = java_hash(s);
        ((h ^ (h >> 16)) as usize) & (capacity - 1)
    };
    let mut indexed: Vec<(usize, usize, &str)> = unique
        .into_iter()
        .enumerate()
        .map(|(i, s)| (bucket(s), i, s))
        .collect();
    indexed.sort_unstable();
    indexed.into_iter().map(|(_, _, s)| s.to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::hash_set_order;

    #[test]
    fn orders_as_aws_answers_show() {
        // Captured enum sets of validation messages.
        assert_eq!(
            hash_set_order(&["OFF", "ON", "OPTIONAL"]),
            ["OPTIONAL", "OFF", "ON"]
        );
        assert_eq!(
            hash_set_order(&["code", "implicit", "client_credentials"]),
            ["implicit", "client_credentials", "code"]
        );
        // An app client's lists in AWS's examples.
        assert_eq!(
            hash_set_order(&["email", "address", "preferred_username"]),
            ["address", "preferred_username", "email"]
        );
        assert_eq!(
            hash_set_order(&[
                "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                "ALLOW_USER_PASSWORD_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH"
            ]),
            [
                "ALLOW_USER_PASSWORD_AUTH",
                "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH"
            ]
        );
        assert_eq!(
            hash_set_order(&["Google", "Facebook", "MyOIDC"]),
            ["Google", "MyOIDC", "Facebook"]
        );
        // Repeats are dropped.
        assert_eq!(hash_set_order(&["code", "code"]), ["code"]);
    }
}
