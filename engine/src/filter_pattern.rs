//! CloudWatch Logs filter patterns, as FilterLogEvents (and metric filters and Live Tail) read them:
//!
//! - **terms**: `ERROR timeout` (all), `?ERROR ?WARN` (any; ignored beside plain terms, as AWS
//!   does), `-DEBUG` (none), `"quoted phrases"`, `%regular expressions%`; case-sensitive; empty
//!   matches everything;
//! - **JSON** `{ … }`: selectors `$.a.b`, `$.list[0]`; `=` and `!=` on strings (with `*`
//!   wildcards, quoted or not) and numbers, `<`, `<=`, `>`, `>=` on numbers, `IS TRUE`,
//!   `IS FALSE`, `IS NULL`, `EXISTS`, `NOT EXISTS`, `%regex%` values; `&&`, `||` and parentheses;
//! - **space-delimited** `[ip, user, ..., status = 5*, bytes > 1000]`: one name per field, `...`
//!   for any number of fields, conditions on named fields (`&&`/`||` inside one slot); a field is
//!   a run of non-spaces, a `"quoted string"` or a `[bracketed part]`.
//!
//! A selector that is not there matches no comparison (only `NOT EXISTS`).

use regex::Regex;
use serde_json::Value;

/// A parsed filter pattern.
#[derive(Debug)]
pub enum FilterPattern {
    All,
    Terms { required: Vec<Term>, any: Vec<Term>, excluded: Vec<Term> },
    Json(Expr),
    Delimited { fields: Vec<Slot>, condition: Option<Expr> },
}

/// A term of an unstructured pattern.
#[derive(Debug)]
pub enum Term {
    Text(String),
    Regex(Regex),
}

impl Term {
    fn found_in(&self, message: &str) -> bool {
        match self {
            Self::Text(text) => message.contains(text.as_str()),
            Self::Regex(regex) => regex.is_match(message),
        }
    }
}

/// One field of a space-delimited pattern.
#[derive(Debug, PartialEq)]
pub enum Slot {
    Named(String),
    Ellipsis,
}

/// A condition over a JSON event or a space-delimited event's named fields.
#[derive(Debug)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare { selector: String, op: Op, value: Operand },
    Is { selector: String, check: Check },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Check {
    True,
    False,
    Null,
    Exists,
    NotExists,
}

/// The right-hand side of a comparison.
#[derive(Debug)]
pub enum Operand {
    Number(f64),
    /// A string, `*` matching any run of characters.
    Text(String),
    Regex(Regex),
}

/// Why a pattern could not be read, in AWS's words where it has them.
#[derive(Debug, PartialEq, Eq)]
pub struct Invalid(pub String);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Invalid filter pattern: {}", self.0)
    }
}

fn invalid<T>(message: impl Into<String>) -> Result<T, Invalid> {
    Err(Invalid(message.into()))
}

fn regex(body: &str) -> Result<Regex, Invalid> {
    Regex::new(body)
        .map_err(|e| Invalid(format!("the regular expression %{body}% is not valid: {e}")))
}

impl FilterPattern {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(Self::All);
        }
        if let Some(inner) = raw.strip_prefix('{') {
            let inner = inner
                .strip_suffix('}')
                .map_or_else(|| invalid("a JSON pattern ends with }"), Ok)?;
            let mut tokens = Tokens::new(inner)?;
            let expr = tokens.expr(true)?;
            tokens.end()?;
            return Ok(Self::Json(expr));
        }
        if let Some(inner) = raw.strip_prefix('[') {
            let inner = inner
                .strip_suffix(']')
                .map_or_else(|| invalid("a space-delimited pattern ends with ]"), Ok)?;
            return Self::delimited(inner);
        }
        let (mut required, mut any, mut excluded) = (Vec::new(), Vec::new(), Vec::new());
        let mut rest = raw;
        while !rest.is_empty() {
            let (sign, body) = match rest.chars().next() {
                Some(c @ ('?' | '-')) => (Some(c), &rest[1..]),
                _ => (None, rest),
            };
            let (term, remainder) = if let Some(quoted) = body.strip_prefix('"') {
                let end = quoted.find('"').map_or_else(|| invalid("unclosed quote"), Ok)?;
                (Term::Text(quoted[..end].to_owned()), &quoted[end + 1..])
            } else if let Some(pattern) = body.strip_prefix('%') {
                let end = pattern.find('%').map_or_else(|| invalid("unclosed %regex%"), Ok)?;
                (Term::Regex(regex(&pattern[..end])?), &pattern[end + 1..])
            } else {
                let end = body.find(char::is_whitespace).unwrap_or(body.len());
                (Term::Text(body[..end].to_owned()), &body[end..])
            };
            if !matches!(&term, Term::Text(t) if t.is_empty()) {
                match sign {
                    Some('?') => any.push(term),
                    Some('-') => excluded.push(term),
                    _ => required.push(term),
                }
            }
            rest = remainder.trim_start();
        }
        // `?` terms beside plain terms are ignored, as CloudWatch does.
        if !required.is_empty() {
            any.clear();
        }
        Ok(Self::Terms { required, any, excluded })
    }

    fn delimited(inner: &str) -> Result<Self, Invalid> {
        let mut fields = Vec::new();
        let mut condition: Option<Expr> = None;
        for slot in split_top_level(inner, ',') {
            let slot = slot.trim();
            if slot == "..." {
                fields.push(Slot::Ellipsis);
                continue;
            }
            let name_end =
                slot.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(slot.len());
            let name = &slot[..name_end];
            if name.is_empty() {
                return invalid(format!("the field {slot:?} has no name"));
            }
            fields.push(Slot::Named(name.to_owned()));
            if name_end < slot.len() {
                let mut tokens = Tokens::new(slot)?;
                let expr = tokens.expr(false)?;
                tokens.end()?;
                condition = Some(match condition {
                    None => expr,
                    Some(before) => Expr::And(Box::new(before), Box::new(expr)),
                });
            }
        }
        if fields.is_empty() {
            return invalid("a space-delimited pattern names its fields");
        }
        Ok(Self::Delimited { fields, condition })
    }

    /// Whether `message` matches.
    pub fn matches(&self, message: &str) -> bool {
        match self {
            Self::All => true,
            Self::Terms { required, any, excluded } => {
                required.iter().all(|t| t.found_in(message))
                    && (any.is_empty() || any.iter().any(|t| t.found_in(message)))
                    && !excluded.iter().any(|t| t.found_in(message))
            }
            Self::Json(expr) => match serde_json::from_str::<Value>(message.trim()) {
                Ok(event) => expr.holds(&|selector| json_select(&event, selector).map(Found::Json)),
                Err(_) => false,
            },
            Self::Delimited { fields, condition } => {
                let words = split_fields(message);
                let Some(bound) = bind(fields, &words) else { return false };
                condition.as_ref().is_none_or(|c| {
                    c.holds(&|name| {
                        bound.iter().find(|(n, _)| *n == name).map(|(_, w)| Found::Text(w))
                    })
                })
            }
        }
    }
}

/// A selected value: from a JSON event, or a space-delimited field's text.
enum Found<'a> {
    Json(&'a Value),
    Text(&'a str),
}

impl Expr {
    fn holds<'a>(&self, select: &dyn Fn(&str) -> Option<Found<'a>>) -> bool {
        match self {
            Self::And(a, b) => a.holds(select) && b.holds(select),
            Self::Or(a, b) => a.holds(select) || b.holds(select),
            Self::Is { selector, check } => {
                let found = select(selector);
                match (check, found) {
                    (Check::NotExists, found) => found.is_none(),
                    (Check::Exists, found) => found.is_some(),
                    (Check::Null, Some(Found::Json(Value::Null))) => true,
                    (Check::True, Some(Found::Json(Value::Bool(true)))) => true,
                    (Check::False, Some(Found::Json(Value::Bool(false)))) => true,
                    _ => false,
                }
            }
            Self::Compare { selector, op, value } => {
                let Some(found) = select(selector) else { return false };
                compare(&found, *op, value)
            }
        }
    }
}

fn compare(found: &Found<'_>, op: Op, value: &Operand) -> bool {
    let text = match found {
        Found::Json(Value::String(s)) => Some(s.clone()),
        Found::Json(Value::Number(n)) => Some(n.to_string()),
        Found::Json(Value::Bool(b)) => Some(b.to_string()),
        Found::Json(_) => None,
        Found::Text(t) => Some((*t).to_owned()),
    };
    match value {
        Operand::Number(expected) => {
            let number = match found {
                Found::Json(Value::Number(n)) => n.as_f64(),
                Found::Json(_) => None,
                Found::Text(t) => t.parse::<f64>().ok(),
            };
            let Some(n) = number else { return false };
            match op {
                Op::Eq => n == *expected,
                Op::Ne => n != *expected,
                Op::Lt => n < *expected,
                Op::Le => n <= *expected,
                Op::Gt => n > *expected,
                Op::Ge => n >= *expected,
            }
        }
        Operand::Text(pattern) => {
            let Some(text) = text else { return false };
            let equal = wildcard(pattern, &text);
            match op {
                Op::Eq => equal,
                Op::Ne => !equal,
                _ => false,
            }
        }
        Operand::Regex(regex) => {
            let Some(text) = text else { return false };
            match op {
                Op::Eq => regex.is_match(&text),
                Op::Ne => !regex.is_match(&text),
                _ => false,
            }
        }
    }
}

/// Whether `text` is `pattern`, each `*` standing for any run of characters.
fn wildcard(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// `$.a.b[0].c` in `event`.
fn json_select<'a>(event: &'a Value, selector: &str) -> Option<&'a Value> {
    let path = selector.strip_prefix('$')?;
    let mut current = event;
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            current = current.get(&after[..end])?;
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            let index: usize = after[..end].trim().parse().ok()?;
            current = current.get(index)?;
            rest = &after[end + 1..];
        } else {
            return None;
        }
    }
    Some(current)
}

/// A message's space-delimited fields: runs of non-spaces, `"quoted strings"` and
/// `[bracketed parts]` each one field (without their quotes or brackets).
fn split_fields(message: &str) -> Vec<&str> {
    let mut fields = Vec::new();
    let mut rest = message.trim_start();
    while !rest.is_empty() {
        let (field, after) = match rest.as_bytes()[0] {
            b'"' => match rest[1..].find('"') {
                Some(end) => (&rest[1..=end], &rest[end + 2..]),
                None => (rest, ""),
            },
            b'[' => match rest[1..].find(']') {
                Some(end) => (&rest[1..=end], &rest[end + 2..]),
                None => (rest, ""),
            },
            _ => {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            }
        };
        fields.push(field);
        rest = after.trim_start();
    }
    fields
}

/// The fields' names bound to the message's words, `...` taking any number; `None` when the
/// counts cannot agree.
fn bind<'p, 'm>(slots: &'p [Slot], words: &[&'m str]) -> Option<Vec<(&'p str, &'m str)>> {
    match slots.split_first() {
        None => words.is_empty().then(Vec::new),
        Some((Slot::Named(name), rest)) => {
            let (word, others) = words.split_first()?;
            let mut bound = bind(rest, others)?;
            bound.push((name.as_str(), *word));
            Some(bound)
        }
        Some((Slot::Ellipsis, rest)) => {
            (0..=words.len()).find_map(|skip| bind(rest, &words[skip..]))
        }
    }
}

/// `text` split at `separator`s outside quotes, `%regex%` and parentheses.
fn split_top_level(text: &str, separator: char) -> Vec<&str> {
    let (mut parts, mut start, mut depth) = (Vec::new(), 0, 0i32);
    let (mut quoted, mut regex) = (false, false);
    for (i, c) in text.char_indices() {
        match c {
            '"' if !regex => quoted = !quoted,
            '%' if !quoted => regex = !regex,
            '(' if !quoted && !regex => depth += 1,
            ')' if !quoted && !regex => depth -= 1,
            c if c == separator && !quoted && !regex && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// The tokens of a condition.
#[derive(Debug, PartialEq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Op(Op),
    Quoted(String),
    Regex(String),
    Word(String),
}

struct Tokens {
    tokens: Vec<Token>,
    at: usize,
}

impl Tokens {
    fn new(text: &str) -> Result<Self, Invalid> {
        let mut tokens = Vec::new();
        let mut rest = text.trim_start();
        while let Some(c) = rest.chars().next() {
            let two = rest.get(..2).unwrap_or("");
            let (token, used) = match (c, two) {
                (_, "&&") => (Token::And, 2),
                (_, "||") => (Token::Or, 2),
                (_, "!=") => (Token::Op(Op::Ne), 2),
                (_, "<=") => (Token::Op(Op::Le), 2),
                (_, ">=") => (Token::Op(Op::Ge), 2),
                ('(', _) => (Token::Open, 1),
                (')', _) => (Token::Close, 1),
                ('=', _) => (Token::Op(Op::Eq), 1),
                ('<', _) => (Token::Op(Op::Lt), 1),
                ('>', _) => (Token::Op(Op::Gt), 1),
                ('"', _) => {
                    let end = rest[1..].find('"').map_or_else(|| invalid("unclosed quote"), Ok)?;
                    (Token::Quoted(rest[1..=end].to_owned()), end + 2)
                }
                ('%', _) => {
                    let end =
                        rest[1..].find('%').map_or_else(|| invalid("unclosed %regex%"), Ok)?;
                    (Token::Regex(rest[1..=end].to_owned()), end + 2)
                }
                _ => {
                    let end = rest
                        .find(|c: char| c.is_whitespace() || "()=!<>&|\"".contains(c))
                        .unwrap_or(rest.len());
                    if end == 0 {
                        return invalid(format!("unexpected {c:?}"));
                    }
                    (Token::Word(rest[..end].to_owned()), end)
                }
            };
            tokens.push(token);
            rest = rest[used..].trim_start();
        }
        Ok(Self { tokens, at: 0 })
    }

    fn next(&mut self) -> Option<&Token> {
        let token = self.tokens.get(self.at);
        self.at += 1;
        token
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn end(&self) -> Result<(), Invalid> {
        match self.peek() {
            None => Ok(()),
            Some(token) => invalid(format!("unexpected {token:?} after the condition")),
        }
    }

    /// `or := and ('||' and)*`
    fn expr(&mut self, json: bool) -> Result<Expr, Invalid> {
        let mut left = self.and(json)?;
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and(json)?));
        }
        Ok(left)
    }

    fn and(&mut self, json: bool) -> Result<Expr, Invalid> {
        let mut left = self.unary(json)?;
        while self.peek() == Some(&Token::And) {
            self.at += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary(json)?));
        }
        Ok(left)
    }

    fn unary(&mut self, json: bool) -> Result<Expr, Invalid> {
        let selector = match self.next() {
            Some(Token::Open) => {
                let inner = self.expr(json)?;
                return match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => invalid("a ( is not closed"),
                };
            }
            Some(Token::Word(word)) => word.clone(),
            other => return invalid(format!("expected a selector, found {other:?}")),
        };
        if json && !selector.starts_with("$.") && !selector.starts_with("$[") {
            return invalid(format!("a JSON selector starts with $. ({selector})"));
        }
        match self.next() {
            Some(Token::Op(op)) => {
                let op = *op;
                let value = match self.next() {
                    Some(Token::Quoted(text)) => Operand::Text(text.clone()),
                    Some(Token::Regex(body)) => Operand::Regex(regex(&body.clone())?),
                    Some(Token::Word(word)) => match word.parse::<f64>() {
                        Ok(n) => Operand::Number(n),
                        Err(_) => Operand::Text(word.clone()),
                    },
                    other => {
                        return invalid(format!("expected a value after {op:?}, found {other:?}"));
                    }
                };
                if matches!(value, Operand::Text(_) | Operand::Regex(_))
                    && !matches!(op, Op::Eq | Op::Ne)
                {
                    return invalid("<, <=, > and >= compare numbers");
                }
                Ok(Expr::Compare { selector, op, value })
            }
            Some(Token::Word(word)) => {
                let word = word.to_ascii_uppercase();
                let check = match word.as_str() {
                    "EXISTS" => Check::Exists,
                    "IS" => match self.next() {
                        Some(Token::Word(w)) => match w.to_ascii_uppercase().as_str() {
                            "TRUE" => Check::True,
                            "FALSE" => Check::False,
                            "NULL" => Check::Null,
                            _ => {
                                return invalid(format!(
                                    "IS {w}: use IS TRUE, IS FALSE or IS NULL"
                                ));
                            }
                        },
                        _ => return invalid("IS needs TRUE, FALSE or NULL"),
                    },
                    "NOT" => match self.next() {
                        Some(Token::Word(w)) if w.eq_ignore_ascii_case("EXISTS") => {
                            Check::NotExists
                        }
                        _ => return invalid("NOT needs EXISTS"),
                    },
                    _ => {
                        return invalid(format!(
                            "expected a comparison after {selector}, found {word}"
                        ));
                    }
                };
                Ok(Expr::Is { selector, check })
            }
            other => invalid(format!("expected a comparison after {selector}, found {other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, message: &str) -> bool {
        FilterPattern::parse(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}")).matches(message)
    }

    /// The examples of AWS's "Filter pattern syntax" page (and the Kotlin SDK's `filterPattern`
    /// reference), each with the events it matches and those it does not.
    #[test]
    fn terms_match_as_the_documentation_shows() {
        let events = [
            "[ERROR 400] BAD REQUEST",
            "[ERROR 401] UNAUTHORIZED REQUEST",
            "[WARN] UNAUTHORIZED REQUEST",
            "[ERROR 419] MISSING ARGUMENTS",
            "[ERROR 420] INVALID ARGUMENTS",
            "[INFO] Request served",
        ];
        let matching = |pattern: &str| -> Vec<usize> {
            (0..events.len()).filter(|&i| matches(pattern, events[i])).collect()
        };
        assert_eq!(matching(""), [0, 1, 2, 3, 4, 5]);
        assert_eq!(matching("ERROR"), [0, 1, 3, 4]);
        assert_eq!(matching("ERROR ARGUMENTS"), [3, 4]);
        assert_eq!(matching("?ERROR ?WARN"), [0, 1, 2, 3, 4]);
        assert_eq!(matching("\"INTERNAL SERVER ERROR\""), Vec::<usize>::new());
        assert_eq!(matching("\"UNAUTHORIZED REQUEST\""), [1, 2]);
        assert_eq!(matching("ERROR -ARGUMENTS"), [0, 1]);
        assert_eq!(matching("-ERROR"), [2, 5]);
        assert_eq!(
            matching("?ERROR ?ARGUMENTS REQUEST"),
            [0, 1, 2],
            "? ignored beside plain terms"
        );
        assert_eq!(matching("%ERROR 4[01]%"), [0, 1, 3]);
        assert_eq!(matching("%^\\[WARN%"), [2]);
        assert!(!matches("error", "[ERROR 400] BAD REQUEST"), "case-sensitive");
    }

    #[test]
    fn json_patterns_match_as_the_documentation_shows() {
        let trail = r#"{"eventType": "UpdateTrail", "sourceIPAddress": "123.123.123.123",
            "arrayKey": ["value", "another value"], "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
            "someInt": 123, "someFloat": 0.05, "someBool": true, "someNull": null, "someString": "abc"}"#;
        for (pattern, expected) in [
            ("{ $.eventType = \"UpdateTrail\" }", true),
            ("{ $.eventType = UpdateTrail }", true),
            ("{ $.eventType != \"UpdateTrail\" }", false),
            ("{ $.sourceIPAddress != 123.123.* }", false),
            ("{ $.sourceIPAddress = 123.123.* }", true),
            ("{ $.arrayKey[0] = \"value\" }", true),
            ("{ $.objectList[1].id = 2 }", true),
            ("{ $.someInt = 123 }", true),
            ("{ $.someInt = 1* }", true),
            ("{ $.someInt > 100 && $.someFloat < 0.1 }", true),
            ("{ $.someInt >= 124 || $.someFloat <= 0.05 }", true),
            ("{ ($.someInt = 1 || $.someInt = 123) && $.someBool IS TRUE }", true),
            ("{ $.someBool IS FALSE }", false),
            ("{ $.someNull IS NULL }", true),
            ("{ $.someString IS NULL }", false),
            ("{ $.missing NOT EXISTS }", true),
            ("{ $.someString NOT EXISTS }", false),
            ("{ $.someString EXISTS }", true),
            ("{ $.someString = * }", true),
            ("{ $.missing = * }", false),
            ("{ $.missing != \"x\" }", false),
            ("{ $.someString = %^a.c$% }", true),
            ("{ $.someString > 1 }", false),
        ] {
            assert_eq!(matches(pattern, trail), expected, "{pattern}");
        }
        assert!(!matches("{ $.level = \"ERROR\" }", "not json"));
        let errors = r#"{"errorCode": "Client.UnauthorizedOperation"}"#;
        assert!(matches(
            "{ ($.errorCode = \"*UnauthorizedOperation\") || ($.errorCode = \"AccessDenied*\") }",
            errors
        ));
        assert!(matches("{ $.level = \"ERROR\" && $.ms > 100 }", r#"{"level":"ERROR","ms":250}"#));
        assert!(!matches("{ $.level = \"ERROR\" && $.ms > 100 }", r#"{"level":"ERROR","ms":50}"#));
    }

    #[test]
    fn space_delimited_patterns_match_as_the_documentation_shows() {
        let log = r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 1534"#;
        for (pattern, expected) in [
            ("[ip, user, username, timestamp, request, status_code, bytes]", true),
            ("[ip, user, username, timestamp, request, status_code = 404, bytes]", true),
            ("[ip, user, username, timestamp, request, status_code = 4*, bytes]", true),
            ("[ip, user, username, timestamp, request, status_code = 200, bytes]", false),
            ("[ip, user, ..., status_code = 404, bytes > 1000]", true),
            ("[ip, user, ..., status_code = 404, bytes > 2000]", false),
            ("[ip = 127.0.0.*, ...]", true),
            ("[..., status_code = 404 || status_code = 410, bytes]", true),
            ("[..., request = \"GET /apache_pb.gif HTTP/1.0\", status_code, bytes]", true),
            ("[ip, user, username, timestamp]", false),
            ("[ip, user, username, timestamp, request, status_code != 404, bytes]", false),
        ] {
            assert_eq!(matches(pattern, log), expected, "{pattern}");
        }
    }

    #[test]
    fn a_wrong_pattern_says_what_is_wrong() {
        for (pattern, says) in [
            ("\"open", "unclosed quote"),
            ("{ $.a = 1", "ends with }"),
            ("{ a = 1 }", "starts with $."),
            ("{ $.a }", "expected a comparison"),
            ("{ $.a = }", "expected a value"),
            ("{ ($.a = 1 }", "not closed"),
            ("{ $.a > \"x\" }", "compare numbers"),
            ("{ $.a IS MAYBE }", "IS TRUE"),
            ("%(unclosed%", "not valid"),
            ("[ip, = 1]", "no name"),
        ] {
            let error = FilterPattern::parse(pattern).expect_err(pattern);
            assert!(error.to_string().contains(says), "{pattern}: {error}");
        }
    }
}
