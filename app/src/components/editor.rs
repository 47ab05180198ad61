//! A small code editor: a plain `<textarea>` (so typing, selection, undo and the keyboard behave
//! as everywhere, and the form posts without JavaScript) laid exactly over a `<pre>` that shows
//! the same text highlighted. Tab moves focus on, as in any form; the editor does not trap it.

use leptos::prelude::*;

/// The languages the highlighter knows, from a file's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Python,
    JavaScript,
    Shell,
    Plain,
}

impl Lang {
    pub fn of_path(path: &str) -> Self {
        match path.rsplit_once('.').map(|(_, ext)| ext) {
            Some("py") => Lang::Python,
            Some("js" | "mjs" | "cjs" | "ts") => Lang::JavaScript,
            Some("sh") => Lang::Shell,
            None if path.ends_with("bootstrap") => Lang::Shell,
            _ => Lang::Plain,
        }
    }

    fn keywords(self) -> &'static [&'static str] {
        match self {
            Lang::Python => &[
                "and", "as", "assert", "async", "await", "break", "class", "continue", "def",
                "del", "elif", "else", "except", "False", "finally", "for", "from", "global", "if",
                "import", "in", "is", "lambda", "None", "nonlocal", "not", "or", "pass", "raise",
                "return", "True", "try", "while", "with", "yield",
            ],
            Lang::JavaScript => &[
                "async",
                "await",
                "break",
                "case",
                "catch",
                "class",
                "const",
                "continue",
                "default",
                "delete",
                "do",
                "else",
                "export",
                "extends",
                "false",
                "finally",
                "for",
                "from",
                "function",
                "if",
                "import",
                "in",
                "instanceof",
                "let",
                "new",
                "null",
                "return",
                "switch",
                "this",
                "throw",
                "true",
                "try",
                "typeof",
                "undefined",
                "var",
                "void",
                "while",
                "yield",
            ],
            Lang::Shell => &[
                "case", "do", "done", "elif", "else", "esac", "export", "fi", "for", "function",
                "if", "in", "local", "read", "return", "set", "then", "while",
            ],
            Lang::Plain => &[],
        }
    }

    fn line_comment(self) -> Option<&'static str> {
        match self {
            Lang::Python | Lang::Shell => Some("#"),
            Lang::JavaScript => Some("//"),
            Lang::Plain => None,
        }
    }
}

/// What a piece of source is, for its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token {
    Keyword,
    String,
    Comment,
    Number,
    Plain,
}

impl Token {
    fn class(self) -> &'static str {
        match self {
            Token::Keyword => "tok-kw",
            Token::String => "tok-str",
            Token::Comment => "tok-com",
            Token::Number => "tok-num",
            Token::Plain => "",
        }
    }
}

/// Splits `source` into tokens; concatenated, the pieces are exactly `source`.
pub fn highlight(lang: Lang, source: &str) -> Vec<(Token, &str)> {
    let mut out: Vec<(Token, &str)> = Vec::new();
    if lang == Lang::Plain {
        return vec![(Token::Plain, source)];
    }
    let bytes = source.as_bytes();
    let mut i = 0;
    let mut plain_start = 0;
    while i < bytes.len() {
        let rest = &source[i..];
        let (token, len) = if lang.line_comment().is_some_and(|m| rest.starts_with(m)) {
            (Token::Comment, rest.find('\n').unwrap_or(rest.len()))
        } else if lang == Lang::JavaScript && rest.starts_with("/*") {
            (Token::Comment, rest[2..].find("*/").map_or(rest.len(), |end| end + 4))
        } else if let Some(quote) =
            ["\"\"\"", "'''"].into_iter().find(|q| lang == Lang::Python && rest.starts_with(q))
        {
            (Token::String, rest[3..].find(quote).map_or(rest.len(), |end| end + 6))
        } else if matches!(bytes[i], b'"' | b'\'') || (lang != Lang::Python && bytes[i] == b'`') {
            (Token::String, string_len(rest, bytes[i]))
        } else if bytes[i].is_ascii_digit() && (i == 0 || !is_word(bytes[i - 1])) {
            (
                Token::Number,
                rest.bytes()
                    .take_while(|b| b.is_ascii_alphanumeric() || *b == b'.' || *b == b'_')
                    .count(),
            )
        } else if is_word(bytes[i]) && (i == 0 || !is_word(bytes[i - 1])) {
            let len = rest.bytes().take_while(|b| is_word(*b)).count();
            if lang.keywords().contains(&&rest[..len]) {
                (Token::Keyword, len)
            } else {
                i += len;
                continue;
            }
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        };
        if plain_start < i {
            out.push((Token::Plain, &source[plain_start..i]));
        }
        out.push((token, &source[i..i + len]));
        i += len;
        plain_start = i;
    }
    if plain_start < source.len() {
        out.push((Token::Plain, &source[plain_start..]));
    }
    out
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// The length of the string literal `rest` starts with (to its closing quote, or the end of the
/// line when it has none; backquoted strings may span lines).
fn string_len(rest: &str, quote: u8) -> usize {
    let bytes = rest.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\n' if quote != b'`' => return i,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The editor: `name` is the textarea's form field; `label` names it for screen readers.
#[component]
pub fn CodeEditor(
    name: &'static str,
    id: &'static str,
    path: String,
    initial: String,
) -> impl IntoView {
    let lang = Lang::of_path(&path);
    let (source, set_source) = signal(initial.clone());
    let pre = NodeRef::<leptos::html::Pre>::new();
    let highlighted = move || {
        source.with(|text| {
            let mut pieces: Vec<AnyView> = highlight(lang, text)
                .into_iter()
                .map(|(token, piece)| {
                    let piece = piece.to_owned();
                    match token {
                        Token::Plain => piece.into_any(),
                        other => view! { <span class=other.class()>{piece}</span> }.into_any(),
                    }
                })
                .collect();
            // A trailing newline needs something after it to take up its line.
            pieces.push(" ".into_any());
            pieces
        })
    };
    let lines = move || source.with(|t| t.lines().count().max(1));
    view! {
        <div class="editor" data-lang=format!("{lang:?}").to_lowercase()>
            <pre class="editor-highlight" aria-hidden="true" node_ref=pre><code>{highlighted}</code></pre>
            <textarea id=id name=name class="editor-input" spellcheck="false" autocapitalize="off"
                autocomplete="off" wrap="off" rows=move || lines().clamp(8, 40)
                on:input:target=move |ev| set_source.set(ev.target().value())
                on:scroll:target=move |ev| {
                    if let Some(pre) = pre.get() {
                        pre.set_scroll_top(ev.target().scroll_top());
                        pre.set_scroll_left(ev.target().scroll_left());
                    }
                }
            >{initial}</textarea>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(pieces: &[(Token, &str)]) -> String {
        pieces.iter().map(|(_, p)| *p).collect()
    }

    #[test]
    fn python_is_split_into_tokens_that_rejoin_exactly() {
        let source = "import json  # the lab's handler\ndef handler(event, context):\n    return {\"statusCode\": 200, 'body': '''ok''', \"n\": 42}\nx2 = 3\n";
        let pieces = highlight(Lang::Python, source);
        assert_eq!(joined(&pieces), source);
        let of =
            |t: Token| pieces.iter().filter(|(k, _)| *k == t).map(|(_, p)| *p).collect::<Vec<_>>();
        assert_eq!(of(Token::Keyword), ["import", "def", "return"]);
        assert_eq!(of(Token::Comment), ["# the lab's handler"]);
        assert_eq!(of(Token::String), ["\"statusCode\"", "'body'", "'''ok'''", "\"n\""]);
        assert_eq!(of(Token::Number), ["200", "42", "3"], "x2 is a name, not a number");
    }

    #[test]
    fn javascript_comments_strings_and_unterminated_input() {
        let source =
            "/* a */ export const handler = async () => `ok ${1}`; // done\nlet s = \"open";
        let pieces = highlight(Lang::JavaScript, source);
        assert_eq!(joined(&pieces), source);
        assert!(pieces.contains(&(Token::Comment, "/* a */")));
        assert!(pieces.contains(&(Token::String, "`ok ${1}`")));
        assert!(pieces.contains(&(Token::Comment, "// done")));
        assert!(pieces.contains(&(Token::String, "\"open")), "{pieces:?}");
        assert_eq!(joined(&highlight(Lang::Python, "s = 'é\\'")), "s = 'é\\'");
        assert_eq!(Lang::of_path("index.mjs"), Lang::JavaScript);
        assert_eq!(Lang::of_path("bootstrap"), Lang::Shell);
    }
}
