//! Splits `entrypoint.command` and `cmd` into arguments as github.com/google/shlex does.
//!
//! A small POSIX-like lexer: blanks (space, tab, CR, LF) separate words; `'…'` is literal;
//! `"…"` is literal except that `\` takes the next character; `\` outside quotes takes the next
//! character (a newline too: there is no line continuation); `#` at the start of a word starts
//! a comment that runs to the end of the line; quotes may join a word's parts (`a"b c"d` is one
//! word) and `""` is an empty word. An unclosed quote or a trailing `\` is an error, as apko
//! fails the build then.
//!
//! Pure.
//!
//! Not for: shell-fragment entrypoints (`/bin/sh -c` takes them whole, see `build::image`).
//! Reproduces google/shlex `shlex.go` (commit e7afc7fb, the version apko pins) `Split`.

/// Why a command line cannot be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The text ends right after a `\`.
    #[error("EOF found after escape character")]
    TrailingEscape,
    /// A `'` or `"` is never closed.
    #[error("EOF found when expecting closing quote")]
    UnclosedQuote,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    InWord,
    Escaping,
    EscapingQuoted,
    QuotingEscaping,
    Quoting,
    Comment,
}

/// Splits `text` into words, dropping comments.
pub fn split(text: &str) -> Result<Vec<String>, Error> {
    let mut words = Vec::new();
    let mut state = State::Start;
    let mut word = String::new();
    let mut chars = text.chars();
    loop {
        let next = chars.next();
        match (state, next) {
            (State::Start | State::Comment, None) => return Ok(words),
            (State::Start, Some(' ' | '\t' | '\r' | '\n')) => {}
            (State::Start, Some('"')) => state = State::QuotingEscaping,
            (State::Start, Some('\'')) => state = State::Quoting,
            (State::Start, Some('\\')) => state = State::Escaping,
            (State::Start, Some('#')) => state = State::Comment,
            (State::Start, Some(c)) => {
                word.push(c);
                state = State::InWord;
            }
            (State::InWord, None) => {
                words.push(word);
                return Ok(words);
            }
            (State::InWord, Some(' ' | '\t' | '\r' | '\n')) => {
                words.push(std::mem::take(&mut word));
                state = State::Start;
            }
            (State::InWord, Some('"')) => state = State::QuotingEscaping,
            (State::InWord, Some('\'')) => state = State::Quoting,
            (State::InWord, Some('\\')) => state = State::Escaping,
            (State::InWord, Some(c)) => word.push(c),
            (State::Escaping | State::EscapingQuoted, None) => return Err(Error::TrailingEscape),
            (State::Escaping, Some(c)) => {
                word.push(c);
                state = State::InWord;
            }
            (State::EscapingQuoted, Some(c)) => {
                word.push(c);
                state = State::QuotingEscaping;
            }
            (State::QuotingEscaping | State::Quoting, None) => return Err(Error::UnclosedQuote),
            (State::QuotingEscaping, Some('"')) | (State::Quoting, Some('\'')) => {
                state = State::InWord;
            }
            (State::QuotingEscaping, Some('\\')) => state = State::EscapingQuoted,
            (State::QuotingEscaping | State::Quoting, Some(c)) => word.push(c),
            // A comment's text is dropped; only a newline ends it.
            (State::Comment, Some('\n')) => state = State::Start,
            (State::Comment, Some(_)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Vec<String> {
        split(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    #[test]
    fn splits_like_google_shlex() {
        // google/shlex shlex_test.go TestSplit.
        assert_eq!(
            ok(
                "one two \"three four\" \"five \\\"six\\\"\" seven#eight # nine # ten\n eleven \
                'twelve\\' thirteen=13 fourteen/14"
            ),
            [
                "one",
                "two",
                "three four",
                "five \"six\"",
                "seven#eight",
                "eleven",
                "twelve\\",
                "thirteen=13",
                "fourteen/14"
            ]
        );
        // Further cases, each following from the state machine of shlex.go.
        assert_eq!(ok("/bin/sh -l"), ["/bin/sh", "-l"]);
        assert_eq!(ok("a b c"), ["a", "b", "c"]);
        assert_eq!(ok("one \"two three\" four"), ["one", "two three", "four"]);
        assert_eq!(ok("one 'two three' four"), ["one", "two three", "four"]);
        assert_eq!(
            ok("one \"two \\\" three\" four"),
            ["one", "two \" three", "four"]
        );
        assert_eq!(
            ok("one 'two \\ three' four"),
            ["one", "two \\ three", "four"]
        );
        assert_eq!(ok("one # two three\nfour"), ["one", "four"]);
        assert_eq!(ok("one\\ two three"), ["one two", "three"]);
        assert_eq!(ok("a#b c"), ["a#b", "c"]);
        assert_eq!(ok("a\"b c\"d"), ["ab cd"]);
        assert_eq!(ok("x \"\" y"), ["x", "", "y"]);
        assert_eq!(ok("  \t\n"), Vec::<String>::new());
        assert_eq!(ok("# only a comment"), Vec::<String>::new());
        assert_eq!(ok("a\\\nb"), ["a\nb"]);
        assert_eq!(split("a \"b"), Err(Error::UnclosedQuote));
        assert_eq!(split("a 'b"), Err(Error::UnclosedQuote));
        assert_eq!(split("a\\"), Err(Error::TrailingEscape));
        assert_eq!(split("\"a\\"), Err(Error::TrailingEscape));
    }
}
