//! Email addresses as the console accepts them for invitations and sign-in: a pragmatic
//! subset of RFC 5321 (what Cognito and people actually use), normalised to lower case.

use crate::ValidationError;
use serde::{Deserialize, Serialize};

/// A syntactically plausible, lower-cased email address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// `local@domain.tld`: at most 254 characters, a local part of at most 64 characters of
    /// letters, digits and `.!#$%&'*+/=?^_`{|}~-` (no leading, trailing or double dot), a domain
    /// of dot-separated labels of letters, digits and inner hyphens with at least one dot.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let bad = |message: &str| Err(ValidationError::new("email", message));
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return bad("Enter an email address.");
        }
        if email.len() > 254 {
            return bad("An email address has at most 254 characters.");
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return bad("An email address looks like name@example.org.");
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| c.is_ascii_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c));
        let domain_ok = domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !local_ok || !domain_ok {
            return bad("An email address looks like name@example.org.");
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausible_addresses_are_accepted_and_lower_cased() {
        for (raw, want) in [
            ("ada@example.org", "ada@example.org"),
            ("  Ada.Lovelace+R@Stats.Example.CO.UK ", "ada.lovelace+r@stats.example.co.uk"),
            ("o'brien@example.ie", "o'brien@example.ie"),
            ("x@a-b.io", "x@a-b.io"),
        ] {
            assert_eq!(EmailAddress::parse(raw).map(|e| e.to_string()), Ok(want.to_owned()), "{raw}");
        }
    }

    #[test]
    fn malformed_addresses_are_refused_with_a_message_for_the_email_field() {
        let long_local = format!("{}@example.org", "a".repeat(65));
        let too_long = format!("a@{}.org", "b".repeat(250));
        for raw in [
            "",
            "   ",
            "ada",
            "ada@",
            "@example.org",
            "ada@example",
            "ada@@example.org",
            "ada lovelace@example.org",
            "ada@exa mple.org",
            ".ada@example.org",
            "ada.@example.org",
            "a..da@example.org",
            "ada@-example.org",
            "ada@example..org",
            "\"ada\"@example.org",
            "ada@exam\nple.org",
            "<script>@example.org",
            "ada\u{0}@example.org",
            "adá@example.org",
            long_local.as_str(),
            too_long.as_str(),
        ] {
            let e = EmailAddress::parse(raw).expect_err(raw);
            assert_eq!(e.field, "email", "{raw:?}");
            assert!(!e.message.is_empty());
        }
    }
}
