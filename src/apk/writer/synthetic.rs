//! Large synthetic repositories for benchmarks: many tiny packages with a random-ish dependency
//! graph (names, `so:` and `cmd:` provides, virtual names with several providers, versioned
//! constraints, cycles, `install_if`, several versions of some names).
//!
//! Not for: realistic content (every package holds one small file) or tests that need a real
//! repository's shape (use the Alpine indexes of test-data.md §2). Deterministic for a seed.

use super::{FileSpec, PackageSpec};

/// splitmix64: small, fast and good enough to scatter dependencies.
struct Scatter(u64);

impl Scatter {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        usize::try_from(self.next() % bound.max(1) as u64).unwrap_or(0)
    }
}

/// Package `i`'s name: every 20th entry is a second version of the previous name.
fn name_of(i: usize) -> String {
    let base = if i % 20 == 19 { i - 1 } else { i };
    format!("syn{base:06}")
}

/// `count` package specs for `arch`; the same `seed` gives the same repository.
pub fn synthetic_packages(count: usize, seed: u64, arch: &str) -> Vec<PackageSpec> {
    let mut scatter = Scatter(seed);
    (0..count)
        .map(|i| {
            let name = name_of(i);
            let release = if i % 20 == 19 { 1 } else { 0 };
            let version = format!("{}.{}.{}-r{release}", 1 + i % 3, i % 10, i % 7);
            let mut spec = PackageSpec::new(&name, &version, arch);
            spec.package.description = format!("synthetic package {i}").into();
            spec.package.license = "MIT".into();
            if i % 5 == 0 {
                spec.package.provides = vec![
                    format!("so:lib{name}.so.1=1.0").into(),
                    format!("cmd:{name}={version}").into(),
                ];
            }
            if i % 50 == 1 {
                spec.package
                    .provides
                    .push(format!("virtual-{}", i % 7).into());
                spec.package.provider_priority = (i % 13) as u64;
            }
            let wanted = scatter.below(5);
            for _ in 0..wanted {
                let j = scatter.below(count);
                if name_of(j) == name {
                    continue;
                }
                let dependency = match j % 5 {
                    0 => format!("so:lib{}.so.1", name_of(j)),
                    1 => format!("{}>=1.0", name_of(j)),
                    _ => name_of(j),
                };
                if !spec.package.dependencies.iter().any(|d| *d == dependency) {
                    spec.package.dependencies.push(dependency.into());
                }
            }
            if i % 100 == 3 && count > 2 {
                let a = name_of(scatter.below(count));
                let b = name_of(scatter.below(count));
                spec.package.install_if = if a == b {
                    vec![a.into()]
                } else {
                    vec![a.into(), b.into()]
                };
            }
            let content = format!("{name} {version}\n");
            spec.files = vec![FileSpec::file(
                &format!("usr/share/synthetic/{name}"),
                content.as_bytes(),
            )];
            spec
        })
        .collect()
}
