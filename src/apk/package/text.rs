//! [`Text`]: a package field's string, shared with the index text it was parsed from.
//!
//! An APKINDEX of 5,000 packages holds about 80,000 field values; owning each in its own heap
//! `String` made allocating and freeing them cost several times decompressing the index. A
//! `Text` is a range of one reference-counted buffer (a piece of the decompressed index), so
//! parsing a field costs a reference count, not an allocation and a copy. It reads like a `&str`
//! (it dereferences to one, compares, hashes and orders as one, prints as one) so callers treat
//! package fields as strings; a `Text` made from a `String` simply owns that string.
//!
//! Not for: parsing (`super::super::index`) or text that is not a package field.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

/// A string that is a range of a shared buffer; cheap to make from the buffer, cheap to clone.
#[derive(Clone, Default)]
pub struct Text {
    /// `None` for the empty string, so `Text::default()` allocates nothing.
    buffer: Option<Arc<String>>,
    start: u32,
    end: u32,
}

impl Text {
    /// The part of `buffer` that `part` is, which must be a subslice of it; `None` otherwise.
    /// This is how parsers turn a `&str` they found in the shared buffer into a `Text`.
    pub fn slice_of(buffer: &Arc<String>, part: &str) -> Option<Text> {
        if part.is_empty() {
            return Some(Text::default());
        }
        let base = buffer.as_ptr() as usize;
        let start = (part.as_ptr() as usize).checked_sub(base)?;
        let end = start.checked_add(part.len())?;
        // The buffer must hold the range at char boundaries, or `part` was not taken from it.
        buffer.get(start..end)?;
        Some(Text {
            buffer: Some(Arc::clone(buffer)),
            start: u32::try_from(start).ok()?,
            end: u32::try_from(end).ok()?,
        })
    }

    /// `buffer[start..end]`, shared. Parsers that cut the buffer at ASCII bytes use this; a range
    /// that is not a valid string of the buffer reads as empty.
    pub(in crate::apk) fn shared(buffer: &Arc<String>, start: usize, end: usize) -> Text {
        match (u32::try_from(start), u32::try_from(end)) {
            (Ok(start), Ok(end)) if start < end => Text {
                buffer: Some(Arc::clone(buffer)),
                start,
                end,
            },
            (Ok(_), Ok(_)) => Text::default(),
            // Beyond 4 GiB (no index comes near): a copy of its own.
            _ => Text::from(buffer.get(start..end).unwrap_or("")),
        }
    }

    /// The text as a `&str`.
    pub fn as_str(&self) -> &str {
        match &self.buffer {
            Some(buffer) => buffer
                .get(self.start as usize..self.end as usize)
                .unwrap_or(""),
            None => "",
        }
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<String> for Text {
    fn from(value: String) -> Text {
        let Ok(end) = u32::try_from(value.len()) else {
            // A field of 4 GiB or more: keep what fits rather than panic (no index has one).
            let mut value = value;
            let mut cut = u32::MAX as usize;
            while !value.is_char_boundary(cut) {
                cut -= 1;
            }
            value.truncate(cut);
            return Text::from(value);
        };
        if end == 0 {
            return Text::default();
        }
        Text {
            buffer: Some(Arc::new(value)),
            start: 0,
            end,
        }
    }
}

impl From<&str> for Text {
    fn from(value: &str) -> Text {
        Text::from(value.to_owned())
    }
}

impl From<&String> for Text {
    fn from(value: &String) -> Text {
        Text::from(value.as_str())
    }
}

impl From<Text> for String {
    fn from(value: Text) -> String {
        value.as_str().to_owned()
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As `str` hashes, so that `Borrow<str>` lookups find it.
        self.as_str().hash(state);
    }
}

macro_rules! eq_with {
    ($($other:ty),*) => {$(
        impl PartialEq<$other> for Text {
            fn eq(&self, other: &$other) -> bool {
                self.as_str() == AsRef::<str>::as_ref(other)
            }
        }
        impl PartialEq<Text> for $other {
            fn eq(&self, other: &Text) -> bool {
                AsRef::<str>::as_ref(self) == other.as_str()
            }
        }
    )*};
}

eq_with!(str, String);

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        *self == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::Text;
    use std::sync::Arc;

    #[test]
    fn slices_read_back_as_the_part_they_were_made_from() {
        let buffer = Arc::new("P:musl\nV:1.2.3-r4\n".to_owned());
        let name = buffer.get(2..6).expect("in range");
        let text = Text::slice_of(&buffer, name).expect("a subslice");
        assert_eq!(text, "musl");
        assert_eq!(text.len(), 4);
        assert_eq!(Text::slice_of(&buffer, "musl"), None);
        assert_eq!(Text::slice_of(&buffer, ""), Some(Text::default()));
    }

    #[test]
    fn compares_hashes_and_orders_as_its_str() {
        use std::collections::HashSet;
        let owned = Text::from("busybox");
        let set: HashSet<Text> = [owned.clone()].into_iter().collect();
        assert!(set.contains("busybox"));
        assert_eq!(owned, "busybox");
        assert_eq!("busybox", owned);
        assert_eq!(owned, *"busybox");
        let (a, b) = (Text::from("a"), Text::from("b"));
        assert!(a < b);
        assert_eq!(format!("{owned} {owned:?}"), "busybox \"busybox\"");
        assert_eq!(String::from(owned), "busybox");
        assert_eq!(Text::from(String::new()), Text::default());
    }
}
