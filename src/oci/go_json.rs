//! How Go's `encoding/json` reads and omits the fields of go-containerregistry's `v1` structs,
//! as serde attributes: `null` leaves the zero value, `omitempty` drops false, 0 and empty
//! strings, slices and maps, `[]byte` is base64, `struct{}` is `{}`, `time.Time` is RFC 3339.
//!
//! The OCI documents ([`super::descriptor`], [`super::manifest`], [`super::config`]) use these so
//! that, serialised through `codec::json`, they give the bytes ggcr's `json.Marshal` gives, and
//! decoded, they read what Go's `json.Unmarshal` reads (unknown keys dropped). Two liberties:
//! keys are matched exactly (Go matches them case-insensitively; apko, cosign and ggcr write them
//! exactly) and a negative size is refused (Go would carry it along). Pure: no I/O.
//!
//! Not for: the encoder itself (`codec::json`), Go time (`codec::time`). Reproduces
//! reference/apko-format.md §10.2–§10.4.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::codec::time::GoTime;

impl Serialize for GoTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = self.rfc3339_nano().map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for GoTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Go's Time.UnmarshalJSON leaves the zero time on `null`.
        match Option::<String>::deserialize(deserializer)? {
            None => Ok(GoTime::ZERO),
            Some(text) => GoTime::parse_rfc3339(&text).map_err(serde::de::Error::custom),
        }
    }
}

impl Default for GoTime {
    fn default() -> Self {
        GoTime::ZERO
    }
}

/// Go decodes `null` into any field as "leave the zero value".
pub(super) use crate::codec::json::null_as_zero as nul;

/// Go's `omitempty`: false, 0, and empty strings, slices and maps are left out.
pub(super) trait GoEmpty {
    fn go_empty(&self) -> bool;
}

impl GoEmpty for bool {
    fn go_empty(&self) -> bool {
        !*self
    }
}

impl GoEmpty for i64 {
    fn go_empty(&self) -> bool {
        *self == 0
    }
}

impl GoEmpty for String {
    fn go_empty(&self) -> bool {
        self.is_empty()
    }
}

impl<T> GoEmpty for Vec<T> {
    fn go_empty(&self) -> bool {
        self.is_empty()
    }
}

impl<K, V> GoEmpty for BTreeMap<K, V> {
    fn go_empty(&self) -> bool {
        self.is_empty()
    }
}

pub(super) fn empty<T: GoEmpty>(value: &T) -> bool {
    value.go_empty()
}

/// Go's `struct{}` map value: written `{}`, any object read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Empty;

impl Serialize for Empty {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        serializer.serialize_map(Some(0))?.end()
    }
}

impl<'de> Deserialize<'de> for Empty {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(deserializer)?;
        Ok(Empty)
    }
}

/// Go `[]byte`: base64 in JSON.
pub(super) mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            None => Ok(Vec::new()),
            Some(text) => STANDARD.decode(text).map_err(serde::de::Error::custom),
        }
    }
}

/// An optional Go string (`string` with `omitempty`): `None` is the empty string, so `null`,
/// `""` and an absent key all read as `None`, and `None` (or `Some("")`) is left out.
pub(super) mod optional {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        value: &Option<String>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(value.as_deref().unwrap_or_default())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<String>, D::Error> {
        Ok(Option::<String>::deserialize(deserializer)?.filter(|text| !text.is_empty()))
    }

    /// `omitempty` for an optional string.
    pub fn absent(value: &Option<String>) -> bool {
        value.as_deref().is_none_or(str::is_empty)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ConfigFile, Descriptor};
    use crate::codec::json::to_vec_go;

    const DIFF_ID: &str = "sha256:20f698463c2755b6dc42b7d07e959ed7455a06e7367d507e829a315898f21a01";

    #[test]
    fn a_config_reencodes_in_ggcr_order_with_gos_zero_values() {
        // Keys shuffled, nulls, unknown keys, a zero `created` and a padded fraction: what Go's
        // Unmarshal then Marshal of v1.ConfigFile makes of them follows from config.go's field
        // order, `omitempty` (never on structs) and time.Time's RFC 3339 forms.
        let input = format!(
            r#"{{"os":"linux","architecture":"amd64","config":{{"WorkingDir":"/w","Env":null,"ExposedPorts":{{"80/tcp":{{}}}},"Healthcheck":{{"Retries":3,"Test":["CMD","true"],"Interval":1000000000}},"User":"","Labels":null,"OnBuild":null,"ArgsEscaped":true}},"rootfs":{{"diff_ids":["{DIFF_ID}"],"type":"layers"}},"history":[{{"created_by":"x","empty_layer":true,"created":"2024-01-01T00:00:00.000000000Z"}}],"created":null,"container_config":{{"Hostname":"h"}}}}"#
        );
        let config: ConfigFile = serde_json::from_str(&input).expect("config");
        let expected = format!(
            r#"{{"architecture":"amd64","created":"0001-01-01T00:00:00Z","history":[{{"created":"2024-01-01T00:00:00Z","created_by":"x","empty_layer":true}}],"os":"linux","rootfs":{{"type":"layers","diff_ids":["{DIFF_ID}"]}},"config":{{"Healthcheck":{{"Test":["CMD","true"],"Interval":1000000000,"Retries":3}},"WorkingDir":"/w","ExposedPorts":{{"80/tcp":{{}}}},"ArgsEscaped":true}}}}"#
        );
        assert_eq!(
            String::from_utf8(to_vec_go(&config).expect("encode")).expect("utf-8"),
            expected
        );
    }

    #[test]
    fn descriptors_keep_ggcr_order_and_base64_data() {
        let input = format!(
            r#"{{"platform":{{"variant":"v7","os":"linux","architecture":"arm","features":null}},"artifactType":"a","annotations":{{"k":"v"}},"urls":["u"],"data":"e30=","digest":"{DIFF_ID}","size":2,"mediaType":"m"}}"#
        );
        let descriptor: Descriptor = serde_json::from_str(&input).expect("descriptor");
        assert_eq!(descriptor.data, b"{}");
        let expected = format!(
            r#"{{"mediaType":"m","size":2,"digest":"{DIFF_ID}","data":"e30=","urls":["u"],"annotations":{{"k":"v"}},"platform":{{"architecture":"arm","os":"linux","variant":"v7"}},"artifactType":"a"}}"#
        );
        assert_eq!(
            String::from_utf8(to_vec_go(&descriptor).expect("encode")).expect("utf-8"),
            expected
        );
        assert!(serde_json::from_str::<Descriptor>(r#"{"mediaType":"m","size":2}"#).is_err());
    }
}
