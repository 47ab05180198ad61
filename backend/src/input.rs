//! Parsing what a form or a request sends, once, into the backend's types: ids, numbers,
//! `key=value` lines, checkboxes. Every failure is a validation error on the field it is about,
//! saying how to fix it; the server functions, the REST API and the upload handler all use these.

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::error::{Error, Result};

/// An id sent back by a page (a hidden field, a URL segment).
pub fn id(field: &'static str, raw: &str) -> Result<Uuid> {
    raw.trim().parse().map_err(|_| Error::invalid(field, "not a valid id; reload the page"))
}

/// A whole number typed into a field.
pub fn whole_number(field: &'static str, raw: &str) -> Result<i32> {
    raw.trim().parse().map_err(|_| Error::invalid(field, "enter a whole number"))
}

/// CORS origins as a form takes them: separated by commas, spaces or lines, blanks dropped.
pub fn origins(raw: &str) -> Vec<String> {
    raw.split([',', '\n', ' '])
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A checkbox: ticked when it sends `yes`.
pub fn ticked(value: Option<&str>) -> bool {
    value == Some("yes")
}

/// `key=value` lines of a textarea (blank ones skipped); keys are trimmed, values too when
/// `trim_values`. A line without `=` is an error on `field` that says `how`.
pub fn key_values(
    field: &'static str,
    text: &str,
    how: &str,
    trim_values: bool,
) -> Result<BTreeMap<String, String>> {
    let mut pairs = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((key, value)) = line.split_once('=') else {
            return Err(Error::invalid(field, format!("'{line}': {how}")));
        };
        let value = if trim_values { value.trim() } else { value };
        pairs.insert(key.trim().to_owned(), value.to_owned());
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_values_name_the_line_that_is_wrong() {
        let pairs = key_values("tags", " team = pay \n\nA=b=c", "key=value", true).expect("parses");
        assert_eq!(pairs["team"], "pay");
        assert_eq!(pairs["A"], "b=c");
        let error = key_values("tags", "ok=1\nnot a pair", "key=value", true).unwrap_err();
        assert!(
            matches!(&error, Error::Validation { field: "tags", message } if message.contains("'not a pair'")),
            "{error}"
        );
    }

    #[test]
    fn ids_and_numbers_fail_on_their_field() {
        assert!(matches!(id("run", "nope"), Err(Error::Validation { field: "run", .. })));
        assert_eq!(whole_number("memory_mb", " 128 ").expect("number"), 128);
        assert!(matches!(whole_number("memory_mb", "1.5"), Err(Error::Validation { .. })));
        assert!(ticked(Some("yes")) && !ticked(Some("on")) && !ticked(None));
    }
}
