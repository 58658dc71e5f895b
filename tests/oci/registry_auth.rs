//! Credentials against a registry behind htpasswd basic auth (bcrypt): explicit, from a Docker
//! config's `auths`, from a credential helper script, in source order; and clear 401 errors.

use std::path::Path;

use base64::Engine as _;
use receipts::oci::reference::Remote;
use receipts::oci::registry::auth::{Credential, Origin, Sources};
use receipts::oci::registry::{self, Registry, Settings};

use super::image;
use crate::support::registry::{PASSWORD, Registry as Server, USER};

fn client(credentials: Sources) -> Registry {
    Registry::new(Settings {
        credentials,
        ..Settings::default()
    })
    .unwrap()
}

fn write_config(dir: &Path, json: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("config.json"), json).unwrap();
}

/// A `docker-credential-<name>` shell script that records its input and prints `answer`.
fn helper(dir: &Path, name: &str, answer: &str, status: i32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(format!("docker-credential-{name}"));
    let script = format!(
        "#!/bin/sh\n[ \"$1\" = get ] || exit 3\ncat > \"$(dirname \"$0\")/{name}.stdin\"\nprintf '%s' '{answer}'\nexit {status}\n"
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn publish(client: &Registry, server: &Server) -> Result<(), registry::Error> {
    let target = Remote::parse(&server.repository("private:v1")).unwrap();
    client.publish(&target, &image::tiny())?;
    let back = client.get_manifest(&target)?;
    assert_eq!(Some(&back.bytes), image::tiny().root().map(|r| &r.bytes));
    Ok(())
}

#[test]
fn explicit_credentials() {
    let server = Server::start_with_basic_auth();
    let sources = Sources {
        explicit: Some(Credential::Basic {
            username: USER.into(),
            password: PASSWORD.into(),
        }),
        ..Sources::default()
    };
    publish(&client(sources), &server).unwrap();
}

#[test]
fn docker_config_auths_entry() {
    let server = Server::start_with_basic_auth();
    let docker = server.scratch("docker");
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    write_config(
        &docker,
        &format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, server.host()),
    );
    let sources = Sources {
        docker_config: Some(docker.clone()),
        ..Sources::default()
    };
    let found = sources.lookup(server.host()).unwrap();
    assert_eq!(
        found.origin,
        Origin::Auths {
            file: docker.join("config.json"),
            key: server.host().into()
        }
    );
    publish(&client(sources), &server).unwrap();

    // HOME/.docker/config.json is the default when DOCKER_CONFIG is unset, and an
    // http:// key with a path reduces to its host.
    let home = server.scratch("home");
    write_config(
        &home.join(".docker"),
        &format!(
            r#"{{"auths":{{"http://{}/v2/":{{"username":"{USER}","password":"{PASSWORD}"}}}}}}"#,
            server.host()
        ),
    );
    publish(
        &client(Sources {
            home: Some(home),
            ..Sources::default()
        }),
        &server,
    )
    .unwrap();
}

#[test]
fn credential_helper_script() {
    let server = Server::start_with_basic_auth();
    let bin = server.scratch("bin");
    helper(
        &bin,
        "test",
        &format!(
            r#"{{"ServerURL":"{}","Username":"{USER}","Secret":"{PASSWORD}"}}"#,
            server.host()
        ),
        0,
    );
    let docker = server.scratch("docker");
    write_config(
        &docker,
        &format!(
            r#"{{"credHelpers":{{"{}":"test"}},"auths":{{"{}":{{"auth":"Zm9vOmJhcg=="}}}}}}"#,
            server.host(),
            server.host()
        ),
    );
    let sources = Sources {
        docker_config: Some(docker),
        helper_path: Some(bin.clone().into_os_string()),
        ..Sources::default()
    };
    publish(&client(sources), &server).unwrap();
    assert_eq!(
        std::fs::read_to_string(bin.join("test.stdin")).unwrap(),
        server.host(),
        "the helper gets the server address on stdin"
    );
}

#[test]
fn sources_are_consulted_in_order() {
    let server = Server::start_with_basic_auth();
    let bin = server.scratch("bin");
    helper(&bin, "empty", "credentials not found in native keychain", 1);
    // The --registry-config file's store has nothing; DOCKER_CONFIG's auths entry is used.
    let first = server.scratch("first");
    write_config(&first, r#"{"credsStore":"empty"}"#);
    let docker = server.scratch("docker");
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    write_config(
        &docker,
        &format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, server.host()),
    );
    let sources = Sources {
        config_files: vec![
            first.join("config.json"),
            server.scratch("absent").join("x.json"),
        ],
        docker_config: Some(docker.clone()),
        helper_path: Some(bin.into_os_string()),
        ..Sources::default()
    };
    assert!(matches!(
        sources.lookup(server.host()).unwrap().origin,
        Origin::Auths { .. }
    ));
    publish(&client(sources), &server).unwrap();

    // A failing helper is an error naming it, not a silent fallback.
    let broken_bin = server.scratch("broken-bin");
    helper(&broken_bin, "broken", "", 2);
    let broken = server.scratch("broken");
    write_config(&broken, r#"{"credsStore":"broken"}"#);
    let sources = Sources {
        docker_config: Some(broken),
        helper_path: Some(broken_bin.into_os_string()),
        ..Sources::default()
    };
    let error = client(sources).resolve(&Remote::parse(&server.repository("x:y")).unwrap());
    let text = format!("{:?}", error.unwrap_err());
    assert!(text.contains("docker-credential-broken"), "{text}");
}

#[test]
fn wrong_or_missing_credentials_are_a_clear_401() {
    let server = Server::start_with_basic_auth();
    let wrong = client(Sources {
        explicit: Some(Credential::Basic {
            username: USER.into(),
            password: "wrong".into(),
        }),
        ..Sources::default()
    });
    let error = publish(&wrong, &server).unwrap_err();
    match &error {
        registry::Error::Unauthorized {
            registry, origin, ..
        } => {
            assert_eq!(registry, server.host());
            assert_eq!(**origin, Origin::Explicit);
        }
        other => panic!("expected 401, got {other:?}"),
    }
    let text = error.to_string();
    assert!(
        text.contains("401") && text.contains(server.host()),
        "{text}"
    );

    let anonymous = client(Sources::default());
    let error = anonymous
        .get_manifest(&Remote::parse(&server.repository("private:v1")).unwrap())
        .unwrap_err();
    match &error {
        registry::Error::Unauthorized {
            origin, message, ..
        } => {
            assert_eq!(**origin, Origin::Nowhere);
            assert!(message.contains("UNAUTHORIZED"), "{message}");
        }
        other => panic!("expected 401, got {other:?}"),
    }
}
