//! Query strings for links that carry a page's filters.

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `k=v&…` of the pairs with a value.
pub fn query(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Whether `next` is a path on this console to go to after signing in: it starts with one `/`,
/// and holds no backslash, whitespace or control character (browsers drop tabs and newlines from
/// URLs, so `/\t/evil.example` would become `//evil.example`, another site).
pub fn is_local_path(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.chars().any(|c| c == '\\' || c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_plain_paths_on_this_console_are_local() {
        for ok in ["/", "/admin?tab=1", "/labs/3#step"] {
            assert!(super::is_local_path(ok), "{ok}");
        }
        for bad in [
            "//evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\\evil",
            "https://x",
            " /x",
            "",
        ] {
            assert!(!super::is_local_path(bad), "{bad:?}");
        }
    }

    #[test]
    fn values_are_encoded_and_empty_ones_left_out() {
        let pairs = [("q", "a b&c".to_owned()), ("tag", String::new()), ("x", "é".to_owned())];
        assert_eq!(super::query(&pairs), "q=a%20b%26c&x=%C3%A9");
    }
}
