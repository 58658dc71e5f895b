//! The package download cache shared by several processes at once (as the pods of an Indexed
//! Job share a volume): six `cosign-rebuild build` processes over one cache, each image sharing
//! most packages. Every package is downloaded once (the entry lock), every cached entry is
//! whole and equal to the served package (atomic writes), no temporary file is left, a second
//! round downloads nothing, and a corrupted entry is re-checked, fetched again and repaired.

use std::process::{Command, Stdio};

use super::fixture::{World, describe};

const PROCESSES: usize = 6;

fn build_all(world: &World, cache: &std::path::Path, round: &str) {
    let children: Vec<_> = (0..PROCESSES)
        .map(|app| {
            let packages = ["base", "libshared", &format!("app-{app}")].map(String::from);
            let config = world.config(&format!("cache-{app}"), &packages);
            let layout = world.dir.path().join(format!("{round}-{app}"));
            Command::new(env!("CARGO_BIN_EXE_cosign-rebuild"))
                .current_dir(world.dir.path())
                .args(["-q", "build"])
                .arg(&config)
                .arg("--output")
                .arg(format!("oci:{}", layout.display()))
                .arg("--cache-dir")
                .arg(cache)
                .env_remove("SOURCE_DATE_EPOCH")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("cosign-rebuild starts")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("cosign-rebuild ends");
        assert!(output.status.success(), "{}", describe(&output));
    }
}

#[test]
fn processes_sharing_one_cache_download_each_package_once_and_never_corrupt_it() {
    let world = World::new(PROCESSES);
    let cache = world.dir.path().join("shared-cache");
    build_all(&world, &cache, "first");

    let mut expected: Vec<String> = ["base", "libshared"]
        .into_iter()
        .map(String::from)
        .chain((0..PROCESSES).map(|app| format!("app-{app}")))
        .map(|name| format!("{name}-1.0-r0.apk"))
        .collect();
    expected.sort();
    assert_eq!(World::cached_packages(&cache), expected);
    for name in &expected {
        let path = format!("/x86_64/{name}");
        assert_eq!(
            world.http.count("GET", &path),
            1,
            "{name} downloaded more than once"
        );
        let served = std::fs::read(world.repository.join("x86_64").join(name)).unwrap();
        let cached = find(&cache, name);
        assert_eq!(
            std::fs::read(&cached).unwrap(),
            served,
            "{name} cached whole"
        );
    }
    assert_eq!(
        World::temporary_files(&cache),
        Vec::<std::path::PathBuf>::new()
    );

    // A second round finds everything in the cache.
    build_all(&world, &cache, "second");
    for name in &expected {
        assert_eq!(
            world.http.count("GET", &format!("/x86_64/{name}")),
            1,
            "{name}"
        );
    }

    // A corrupted entry is never used: checked, fetched again by one process, repaired.
    let base = find(&cache, "base-1.0-r0.apk");
    std::fs::write(&base, b"not a package").unwrap();
    build_all(&world, &cache, "third");
    assert_eq!(world.http.count("GET", "/x86_64/base-1.0-r0.apk"), 2);
    let served = std::fs::read(world.repository.join("x86_64/base-1.0-r0.apk")).unwrap();
    assert_eq!(std::fs::read(&base).unwrap(), served);
    assert_eq!(
        World::temporary_files(&cache),
        Vec::<std::path::PathBuf>::new()
    );
}

fn find(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if entry.file_name() == name {
                return path;
            }
        }
    }
    panic!("{name} not in the cache");
}
