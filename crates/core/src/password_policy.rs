//! A pool's password policy applied to a proposed password, with Cognito's
//! InvalidPasswordException messages.

use crate::error::{Error, ErrorKind};
use crate::model::PasswordPolicy;

/// The characters Cognito counts as symbols (space counts too).
pub const SYMBOLS: &str = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ";

/// Longest password Cognito accepts.
pub const MAX_PASSWORD_LEN: usize = 256;

/// Checks a new user's `password` (SignUp) against `policy`; the first
/// failed rule decides the message.
pub fn check(policy: &PasswordPolicy, password: &str) -> Result<(), Error> {
    check_worded(policy, password, "Password did not conform with policy")
}

/// Checks a password that replaces one (ChangePassword,
/// ConfirmForgotPassword, AdminSetUserPassword, NEW_PASSWORD_REQUIRED):
/// Cognito words these refusals differently from SignUp's ("does not
/// conform to policy"), and apps match both texts.
pub fn check_change(policy: &PasswordPolicy, password: &str) -> Result<(), Error> {
    check_worded(policy, password, "Password does not conform to policy")
}

fn check_worded(policy: &PasswordPolicy, password: &str, prefix: &str) -> Result<(), Error> {
    let fail = |what: &str| {
        Err(Error::new(
            ErrorKind::InvalidPassword,
            format!("{prefix}: {what}"),
        ))
    };
    if password.chars().count() < policy.minimum_length as usize {
        return fail("Password not long enough");
    }
    if password.len() > MAX_PASSWORD_LEN {
        return fail("Password is too long");
    }
    if policy.require_lowercase && !password.chars().any(|c| c.is_ascii_lowercase()) {
        return fail("Password must have lowercase characters");
    }
    if policy.require_uppercase && !password.chars().any(|c| c.is_ascii_uppercase()) {
        return fail("Password must have uppercase characters");
    }
    if policy.require_numbers && !password.chars().any(|c| c.is_ascii_digit()) {
        return fail("Password must have numeric characters");
    }
    if policy.require_symbols && !password.chars().any(|c| SYMBOLS.contains(c)) {
        return fail("Password must have symbol characters");
    }
    Ok(())
}

/// A random password that satisfies `policy` (for AdminCreateUser without one).
pub fn generate_temporary(policy: &PasswordPolicy) -> String {
    let len = (policy.minimum_length as usize).max(12);
    let mut pw = cognate_crypto::random::alnum(len.saturating_sub(4));
    pw.push_str(&cognate_crypto::random::lower_alnum(1).replace(char::is_numeric, "k"));
    pw.push('Q');
    pw.push_str(&cognate_crypto::random::digits(1));
    pw.push('!');
    pw
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(pw: &str) -> String {
        check(&PasswordPolicy::default(), pw)
            .err()
            .map(|e| e.message)
            .unwrap_or_default()
    }

    #[test]
    fn default_policy_messages() {
        assert_eq!(
            msg("Ab1!"),
            "Password did not conform with policy: Password not long enough"
        );
        assert_eq!(
            msg("ABCDEFG1!"),
            "Password did not conform with policy: Password must have lowercase characters"
        );
        assert_eq!(
            msg("abcdefg1!"),
            "Password did not conform with policy: Password must have uppercase characters"
        );
        assert_eq!(
            msg("Abcdefgh!"),
            "Password did not conform with policy: Password must have numeric characters"
        );
        assert_eq!(
            msg("Abcdefgh1"),
            "Password did not conform with policy: Password must have symbol characters"
        );
        assert_eq!(msg("MySuperSecurePassw0rd!"), "");
        assert_eq!(msg("Pass word1"), "");
        assert_eq!(
            check_change(&PasswordPolicy::default(), "Ab1!")
                .err()
                .map(|e| e.message)
                .as_deref(),
            Some("Password does not conform to policy: Password not long enough")
        );
    }

    #[test]
    fn generated_passwords_pass_the_policy() {
        for _ in 0..20 {
            assert!(check(
                &PasswordPolicy::default(),
                &generate_temporary(&PasswordPolicy::default())
            )
            .is_ok());
        }
    }
}
