//! The candidate table: every package of every repository, their names interned, and apko's
//! `nameMap` (packages by own name, then providers) and `installIfMap`.
//!
//! Not for: parsing constraint strings ([`super::term`]), choosing among candidates
//! ([`super::prefer`]) or walking dependencies ([`super::walk`], [`super::deps`]). Reproduces apko `pkg/apk/apk/repo.go` `newPkgResolver`
//! (reference/apko-format.md §4.5, "Resolver construction").
//!
//! Everything a resolution might never look at (package versions, dependency lists, provide
//! versions) is parsed on first use and kept, as apko's `cachedParseVersion` does: a world of 50
//! names touches a few hundred of Alpine's 5,000 packages.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use super::term::Term;
use crate::apk::constraint::Constraint;
use crate::apk::package::Package;
use crate::apk::version::Version;

/// Index of a package in the table (repository order, then file order).
pub(super) type PkgId = u32;
/// Index of an interned package or provided name.
pub(super) type NameId = u32;

/// FxHash: names are short and trusted enough that SipHash's DoS resistance buys nothing here,
/// while interning 35,000 names is a measurable part of building the table.
#[derive(Default, Clone, Copy)]
pub(super) struct NameHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl NameHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let mut tail = [0u8; 8];
        let rest = chunks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(tail) ^ ((rest.len() as u64) << 56));
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn write_u32(&mut self, value: u32) {
        self.add(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }

    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` keyed by names or small ids.
pub(super) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<NameHasher>>;
/// A `HashSet` of names.
pub(super) type FastSet<K> = HashSet<K, BuildHasherDefault<NameHasher>>;

/// A dependency of a package: its text and its parsed form.
#[derive(Debug)]
pub(super) struct Dep<'a> {
    pub text: &'a str,
    pub term: Term<'a>,
}

/// A `p:` entry of a package.
pub(super) struct Provide<'a> {
    /// The provided name, interned when the table was built.
    pub name: NameId,
    pub text: &'a str,
    // Boxed: most provides are never parsed, and the table stays small enough to build fast.
    term: OnceLock<Box<Term<'a>>>,
}

/// One package of one repository.
pub(super) struct Entry<'a> {
    pub package: &'a Package,
    pub source: u32,
    pub name: NameId,
    provides_start: u32,
    provides_end: u32,
    version: OnceLock<Option<Box<Version>>>,
    deps: OnceLock<Box<[Dep<'a>]>>,
}

/// A repository as the table keeps it.
pub(super) struct SourceInfo<'a> {
    pub url: &'a str,
    /// The `@tag`, empty when the repository is not pinned (apko's `pinnedName`).
    pub pin: &'a str,
}

/// The table itself; built once per set of indexes, shared by every resolution over them.
pub(super) struct Table<'a> {
    pub sources: Vec<SourceInfo<'a>>,
    pub entries: Vec<Entry<'a>>,
    provides: Vec<Provide<'a>>,
    pub names: FastMap<&'a str, NameId>,
    name_texts: Vec<&'a str>,
    /// `nameMap` in compressed rows: the candidates of name `n` are
    /// `candidates[offsets[n]..offsets[n + 1]]`.
    offsets: Vec<u32>,
    candidates: Vec<PkgId>,
    pub install_if: FastMap<&'a str, Vec<PkgId>>,
    /// By name: whether any `install_if` key is that name, or that name then `=` (a pinned
    /// version), so the only keys a package of that name can trigger. Most names are in no
    /// key; checking here spares the walk the two text lookups (one formatted) per package.
    install_if_names: Vec<bool>,
}

/// The source text a [`Table`] is built from: a repository's URL, pin and packages.
pub(super) struct TableSource<'a> {
    pub url: &'a str,
    pub pin: &'a str,
    pub packages: &'a [Package],
}

impl<'a> Table<'a> {
    pub(super) fn new(sources: &[TableSource<'a>]) -> Table<'a> {
        let total: usize = sources.iter().map(|s| s.packages.len()).sum();
        let provided: usize = sources
            .iter()
            .flat_map(|s| s.packages.iter())
            .map(|p| p.provides.len())
            .sum();
        let mut table = Table {
            sources: Vec::with_capacity(sources.len()),
            entries: Vec::with_capacity(total),
            provides: Vec::with_capacity(provided),
            names: FastMap::with_capacity_and_hasher(total + provided, Default::default()),
            name_texts: Vec::with_capacity(total + provided),
            offsets: Vec::new(),
            candidates: Vec::new(),
            install_if: FastMap::default(),
            install_if_names: Vec::new(),
        };
        // (name, package) pairs in nameMap order; rows are formed by a stable counting sort.
        let mut rows: Vec<(NameId, PkgId)> = Vec::with_capacity(total + provided);
        for (source_index, source) in sources.iter().enumerate() {
            table.sources.push(SourceInfo {
                url: source.url,
                pin: source.pin,
            });
            for package in source.packages {
                let id = table.entries.len() as PkgId;
                let name = table.intern(&package.name);
                rows.push((name, id));
                for condition in &package.install_if {
                    table.install_if.entry(condition).or_default().push(id);
                }
                table.entries.push(Entry {
                    package,
                    source: source_index as u32,
                    name,
                    provides_start: 0,
                    provides_end: 0,
                    version: OnceLock::new(),
                    deps: OnceLock::new(),
                });
            }
        }
        // apko appends providers while ranging over its name map, i.e. name group by name group
        // in Go's random map order; we take the groups in order of first appearance (the order a
        // Go map would have if it kept insertion order), each group's packages in index order.
        let (own_offsets, own_candidates) = rows_by_name(&rows, table.name_texts.len());
        for group in own_offsets.windows(2) {
            let [start, end] = group else { continue };
            let members = own_candidates
                .get(*start as usize..*end as usize)
                .unwrap_or(&[]);
            for &id in members {
                let Some(entry) = table.entries.get(id as usize) else {
                    continue;
                };
                let package = entry.package;
                let start = table.provides.len() as u32;
                for text in &package.provides {
                    let name = table.intern(provide_name(text));
                    table.provides.push(Provide {
                        name,
                        text,
                        term: OnceLock::new(),
                    });
                    rows.push((name, id));
                }
                let end = table.provides.len() as u32;
                if let Some(entry) = table.entries.get_mut(id as usize) {
                    entry.provides_start = start;
                    entry.provides_end = end;
                }
            }
        }
        (table.offsets, table.candidates) = rows_by_name(&rows, table.name_texts.len());
        table.install_if_names = vec![false; table.name_texts.len()];
        for key in table.install_if.keys() {
            // Every prefix before an `=`, and the whole key: a name may hold `=` itself.
            let prefixes = key.match_indices('=').map(|(at, _)| &key[..at]);
            for name in prefixes.chain([*key]) {
                if let Some(&id) = table.names.get(name)
                    && let Some(flag) = table.install_if_names.get_mut(id as usize)
                {
                    *flag = true;
                }
            }
        }
        table
    }

    /// Whether a package named `name` can be the key of an `install_if` condition, as its name
    /// or as `name=version`.
    pub(super) fn may_trigger_install_if(&self, name: NameId) -> bool {
        self.install_if_names
            .get(name as usize)
            .copied()
            .unwrap_or(false)
    }

    fn intern(&mut self, name: &'a str) -> NameId {
        let next = self.name_texts.len() as NameId;
        let id = *self.names.entry(name).or_insert(next);
        if id == next {
            self.name_texts.push(name);
        }
        id
    }

    /// apko's `nameMap[name]`: packages of that name in index order, then its providers.
    pub(super) fn candidates(&self, name: NameId) -> &[PkgId] {
        let start = self.offsets.get(name as usize).copied().unwrap_or(0) as usize;
        let end = self.offsets.get(name as usize + 1).copied().unwrap_or(0) as usize;
        self.candidates.get(start..end).unwrap_or(&[])
    }

    pub(super) fn name_text(&self, name: NameId) -> &'a str {
        self.name_texts.get(name as usize).copied().unwrap_or("")
    }

    pub(super) fn entry(&self, id: PkgId) -> &Entry<'a> {
        // Ids are only ever made by this table, so they are always in range.
        &self.entries[id as usize]
    }

    pub(super) fn package(&self, id: PkgId) -> &'a Package {
        self.entry(id).package
    }

    pub(super) fn pin(&self, id: PkgId) -> &'a str {
        self.sources
            .get(self.entry(id).source as usize)
            .map_or("", |s| s.pin)
    }

    pub(super) fn url(&self, id: PkgId) -> &'a str {
        self.sources
            .get(self.entry(id).source as usize)
            .map_or("", |s| s.url)
    }

    /// Whether two entries have the same package URL (apko compares `RepositoryPackage.URL()`).
    pub(super) fn same_url(&self, a: PkgId, b: PkgId) -> bool {
        let (pa, pb) = (self.package(a), self.package(b));
        self.url(a) == self.url(b) && pa.name == pb.name && pa.version == pb.version
    }

    /// The package's own version, parsed once; `None` when apko cannot parse it.
    pub(super) fn version(&self, id: PkgId) -> Option<&Version> {
        self.entry(id)
            .version
            .get_or_init(|| Version::parse(&self.package(id).version).ok().map(Box::new))
            .as_deref()
    }

    pub(super) fn provides(&self, id: PkgId) -> &[Provide<'a>] {
        let entry = self.entry(id);
        self.provides
            .get(entry.provides_start as usize..entry.provides_end as usize)
            .unwrap_or(&[])
    }

    /// A provide's parsed form.
    pub(super) fn provide_term<'t>(&'t self, provide: &'t Provide<'a>) -> &'t Term<'a> {
        provide.term.get_or_init(|| {
            let mut term = Term::parse(provide.text, &self.names);
            // apko does not strip `!` from provides; the name stays as interned.
            term.name = Some(provide.name);
            Box::new(term)
        })
    }

    /// The package's dependencies, parsed once.
    pub(super) fn deps(&self, id: PkgId) -> &[Dep<'a>] {
        self.entry(id).deps.get_or_init(|| {
            self.package(id)
                .dependencies
                .iter()
                .map(|text| Dep {
                    text,
                    term: Term::parse(text, &self.names),
                })
                .collect()
        })
    }

    /// `name-version`, as chains and messages show a package.
    pub(super) fn label(&self, id: PkgId) -> String {
        let package = self.package(id);
        format!("{}-{}", package.name, package.version)
    }
}

/// Groups `(name, package)` pairs by name, keeping their order within a name: compressed rows
/// (`offsets` has one more element than there are names).
fn rows_by_name(rows: &[(NameId, PkgId)], names: usize) -> (Vec<u32>, Vec<PkgId>) {
    let mut offsets = vec![0u32; names + 1];
    for &(name, _) in rows {
        if let Some(count) = offsets.get_mut(name as usize + 1) {
            *count += 1;
        }
    }
    let mut running = 0;
    for offset in offsets.iter_mut() {
        running += *offset;
        *offset = running;
    }
    let mut fill = offsets.clone();
    let mut candidates = vec![0; rows.len()];
    for &(name, id) in rows {
        if let Some(at) = fill.get_mut(name as usize) {
            if let Some(slot) = candidates.get_mut(*at as usize) {
                *slot = id;
            }
            *at += 1;
        }
    }
    (offsets, candidates)
}

/// The name a provide is filed under. Most provides are `name` or `name=version`; anything else
/// goes through the full constraint parser so unusual strings are filed exactly as apko files
/// them (a string its pattern rejects keeps its whole text as the name).
fn provide_name(text: &str) -> &str {
    let special = |c: char| matches!(c, '@' | '=' | '>' | '<' | '~');
    if text.starts_with('!') {
        return text;
    }
    match text.find(special) {
        None => text,
        Some(0) => text,
        Some(at) => {
            let (name, rest) = text.split_at(at);
            let version = rest.strip_prefix('=').unwrap_or("");
            if !version.is_empty() && !version.contains(special) {
                name
            } else {
                let parsed = Constraint::parse(text);
                if parsed.name == name { name } else { text }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::provide_name;

    #[test]
    fn provide_names_follow_the_constraint_parser() {
        assert_eq!(provide_name("so:libc.so.6=6"), "so:libc.so.6");
        assert_eq!(provide_name("cmd:sh"), "cmd:sh");
        assert_eq!(provide_name("pc:foo>=1"), "pc:foo");
        assert_eq!(provide_name("foo="), "foo=");
        assert_eq!(provide_name("=1"), "=1");
        assert_eq!(provide_name("!x"), "!x");
    }
}
