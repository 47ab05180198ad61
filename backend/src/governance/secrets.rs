//! Environment variables that look like secrets: by name (a password, a token, a key) with a
//! literal value, or by the shape of the value (an AWS access key id, a private key, a GitHub or
//! Slack token, a JWT). A reference to a secret store is not a secret. Findings name the
//! variable, never its value.

/// Why the variable looks like a secret, or `None`.
pub fn looks_secret(name: &str, value: &str) -> Option<&'static str> {
    let value = value.trim();
    if value.is_empty() || is_reference(value) {
        return None;
    }
    if let Some(shape) = secret_shape(value) {
        return Some(shape);
    }
    let upper = name.to_ascii_uppercase();
    const NAMES: [&str; 9] = [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "API_KEY",
        "APIKEY",
        "PRIVATE_KEY",
        "ACCESS_KEY",
        "CREDENTIAL",
    ];
    // A flag or a length ("TOKEN_TTL=300", "USE_SECRET=true") is not the secret itself.
    let literal = value.len() >= 8 && !value.chars().all(|c| c.is_ascii_digit());
    (literal && NAMES.iter().any(|n| upper.contains(n)))
        .then_some("its name says it holds a secret")
}

/// A value that points at a secret rather than holding one.
fn is_reference(value: &str) -> bool {
    value.starts_with("arn:aws:secretsmanager:")
        || value.starts_with("arn:aws:ssm:")
        || value.starts_with("{{resolve:")
        || value.starts_with("ssm:")
        || value.starts_with("/aws/reference/secretsmanager/")
}

fn secret_shape(value: &str) -> Option<&'static str> {
    let alnum_upper = |s: &str| s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if value.len() == 20
        && (value.starts_with("AKIA") || value.starts_with("ASIA"))
        && alnum_upper(value)
    {
        return Some("its value is an AWS access key id");
    }
    if value.contains("-----BEGIN") && value.contains("PRIVATE KEY") {
        return Some("its value is a private key");
    }
    let token = |prefix: &str, min: usize| {
        value.starts_with(prefix)
            && value.len() >= prefix.len() + min
            && value[prefix.len()..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if ["ghp_", "gho_", "ghs_", "ghu_", "github_pat_"].iter().any(|p| token(p, 30)) {
        return Some("its value is a GitHub token");
    }
    if ["xoxb-", "xoxp-", "xoxa-", "xoxs-"].iter().any(|p| token(p, 20)) {
        return Some("its value is a Slack token");
    }
    if ["sk_live_", "rk_live_"].iter().any(|p| token(p, 20)) {
        return Some("its value is a Stripe secret key");
    }
    let parts: Vec<&str> = value.split('.').collect();
    if parts.len() == 3
        && parts[0].starts_with("eyJ")
        && parts[1].starts_with("eyJ")
        && parts[2].len() >= 16
    {
        return Some("its value is a JSON Web Token");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_found_by_name_or_shape_and_references_are_not() {
        assert!(looks_secret("DB_PASSWORD", "hunter2hunter2").is_some());
        assert!(looks_secret("STRIPE", "sk_live_abcdefghijklmnopqrstuvwx").is_some());
        assert!(looks_secret("KEY_ID", "AKIAIOSFODNN7EXAMPLE").is_some());
        assert!(looks_secret("X", "-----BEGIN RSA PRIVATE KEY-----\nMIIE").is_some());
        assert!(looks_secret("GH", "ghp_0123456789abcdefghijABCDEFGHIJ0123").is_some());
        assert!(
            looks_secret("AUTH", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ")
                .is_some()
        );
        assert_eq!(
            looks_secret("DB_PASSWORD", "arn:aws:secretsmanager:us-east-1:1:secret:db"),
            None
        );
        assert_eq!(looks_secret("TOKEN_TTL", "300"), None, "a number is not the secret");
        assert_eq!(looks_secret("USE_SECRET", "true"), None, "a flag is not the secret");
        assert_eq!(looks_secret("TABLE_NAME", "orders-production"), None);
        assert_eq!(looks_secret("GREETING", ""), None);
    }
}
