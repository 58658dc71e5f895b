//! The audit with the published image in a real registry (distribution 2.8), read through the
//! same `Store` interface.

use receipts::oci::{Reference, Store};
use receipts::rebuild::{self, Options, Side, Verdict};

use super::fixture::Fixture;
use crate::support::registry::Registry as Server;

fn publish(server: &Server, fixture: &Fixture, name: &str) -> (Store, receipts::oci::Digest) {
    let reference = Reference::parse(&server.repository(name)).unwrap();
    let store = Store::create(&reference, &Default::default()).unwrap();
    let root = store.publish(&fixture.image_set(), Some("v1")).unwrap();
    (store, root.digest)
}

fn audit(store: &Store, root: receipts::oci::Digest, rebuilt: &Fixture) -> rebuild::Report {
    let rebuilt_store = rebuilt.store();
    rebuild::compare_published(
        Side {
            store,
            root,
            trusted: false,
        },
        &store.name(),
        Side {
            store: &rebuilt_store,
            root: rebuilt.root(),
            trusted: true,
        },
        &Options::default(),
    )
    .unwrap()
}

#[test]
fn published_to_a_registry_identical_equivalent_and_different() {
    let server = Server::start();
    let golden = Fixture::golden();

    let (store, root) = publish(&server, &golden, "audit/identical");
    assert_eq!(root, golden.root());
    assert_eq!(audit(&store, root, &golden).verdict, Verdict::Identical);

    let regzipped = Fixture::golden();
    regzipped.regzip("amd64");
    let (store, root) = publish(&server, &regzipped, "audit/equivalent");
    let report = audit(&store, root, &golden);
    assert_eq!(report.verdict, Verdict::Equivalent, "{}", report.to_text());

    let added = Fixture::golden();
    added.add_file("amd64", "usr/share/added", b"+");
    let (store, root) = publish(&server, &added, "audit/different");
    let report = audit(&store, root, &golden);
    assert_eq!(report.verdict, Verdict::Different);
    let files = report.platforms[0].layers[0].files.as_ref().unwrap();
    assert_eq!(files.added[0].path, "usr/share/added");
}
