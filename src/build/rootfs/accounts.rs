//! Configured accounts: `/etc/group`, `/etc/passwd`, `/etc/shadow` and home directories.
//!
//! `/etc/passwd` is always written (possibly empty); `/etc/group` only when groups are
//! configured and `/etc/shadow` only when users are. Existing files are parsed strictly and
//! extended. Every passwd entry, old or new, gets its home directory (0700, missing parents
//! 0755, owned by the user) unless it exists or is `/dev/null`.
//!
//! Not for: the file formats (`passwd`).
//! Reproduces apko `pkg/build/accounts.go` `mutateAccounts` (reference/apko-format.md §6.5).

use super::passwd::{self, GroupEntry, ShadowEntry, UserEntry};
use super::{Accounts, Error, fs_error};
use crate::build::fs::{self, FileMode, Tree, path};
use crate::config::User;

const GROUP: &str = "etc/group";
const PASSWD: &str = "etc/passwd";
const SHADOW: &str = "etc/shadow";

/// Applies `accounts`; returns the run-as value (a user's uid when it names one).
pub(super) fn mutate(tree: &mut Tree, accounts: &Accounts) -> Result<String, Error> {
    if !accounts.groups.is_empty() {
        let text = tree
            .read_or_create(GROUP, FileMode(0o644))
            .map_err(fs_error(GROUP))?;
        let (mut groups, error) = passwd::parse_groups(&text);
        if let Some(source) = error {
            return Err(Error::AccountFile {
                file: GROUP,
                source,
            });
        }
        groups.extend(accounts.groups.iter().map(|g| GroupEntry {
            group_name: g.groupname.as_bytes().to_vec(),
            password: b"x".to_vec(),
            gid: g.gid,
            members: g.members.iter().map(|m| m.as_bytes().to_vec()).collect(),
        }));
        // `Create` then one write: the mode only matters for a new file (0644).
        tree.write_file(GROUP, &passwd::write_groups(&groups), FileMode(0o644))
            .map_err(fs_error(GROUP))?;
    }

    let text = tree
        .read_or_create(PASSWD, FileMode(0o644))
        .map_err(fs_error(PASSWD))?;
    let (mut users, error) = passwd::parse_users(&text);
    if let Some(source) = error {
        return Err(Error::AccountFile {
            file: PASSWD,
            source,
        });
    }
    users.extend(accounts.users.iter().map(user_entry));
    for user in &users {
        make_home(tree, user)?;
    }
    // `Create` then one write: the mode only matters for a new file (0644).
    tree.write_file(PASSWD, &passwd::write_users(&users), FileMode(0o644))
        .map_err(fs_error(PASSWD))?;

    if !accounts.users.is_empty() {
        let text = tree
            .read_or_create(SHADOW, FileMode(0o640))
            .map_err(fs_error(SHADOW))?;
        let mut shadow = passwd::parse_shadow(&text).map_err(|source| Error::AccountFile {
            file: SHADOW,
            source,
        })?;
        shadow.extend(accounts.users.iter().map(|u| ShadowEntry {
            user_name: u.username.as_bytes().to_vec(),
            password: b"!".to_vec(),
            ..ShadowEntry::default()
        }));
        // `Create` then one write: the mode only matters for a new file (0644).
        tree.write_file(SHADOW, &passwd::write_shadow(&shadow), FileMode(0o644))
            .map_err(fs_error(SHADOW))?;
    }

    let run_as = &accounts.run_as;
    if !run_as.is_empty()
        && let Some(user) = users.iter().find(|u| u.user_name == run_as.as_bytes())
    {
        return Ok(user.uid.to_string());
    }
    Ok(run_as.clone())
}

/// apko's `userToUserEntry`: defaults for shell, home and gid.
fn user_entry(user: &User) -> UserEntry {
    let shell = if user.shell.is_empty() {
        "/bin/sh".to_owned()
    } else {
        user.shell.clone()
    };
    let home = if user.homedir.is_empty() {
        format!("/home/{}", user.username)
    } else {
        user.homedir.clone()
    };
    UserEntry {
        user_name: user.username.as_bytes().to_vec(),
        password: b"x".to_vec(),
        uid: user.uid,
        gid: user.gid.unwrap_or(user.uid),
        info: b"Account created by apko".to_vec(),
        home_dir: home.into_bytes(),
        shell: shell.into_bytes(),
    }
}

fn make_home(tree: &mut Tree, user: &UserEntry) -> Result<(), Error> {
    let home = String::from_utf8_lossy(&user.home_dir).into_owned();
    if home == "/dev/null" {
        return Ok(());
    }
    match tree.stat(&home) {
        Ok(stat) if stat.is_dir => return Ok(()),
        Ok(_) => {
            return Err(Error::HomeNotADirectory {
                user: String::from_utf8_lossy(&user.user_name).into_owned(),
                home,
            });
        }
        Err(fs::Error::NotFound { .. }) => {}
        Err(e) => return Err(fs_error(&home)(e)),
    }
    let parent = path::dir(&home);
    tree.mkdir_all(&parent, FileMode(0o755))
        .map_err(fs_error(&parent))?;
    tree.mkdir(&home, FileMode(0o700))
        .map_err(fs_error(&home))?;
    tree.chown(&home, i64::from(user.uid), i64::from(user.gid))
        .map_err(fs_error(&home))
}
