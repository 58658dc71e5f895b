# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_oras_lock_global_optspecs
    string join \n o/output= lockfile= format= arch= offline cache-dir= include-paths= plain-http insecure registry-config= u/username= p/password= password-stdin q/quiet h/help V/version
end

function __fish_oras_lock_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_oras_lock_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_oras_lock_using_subcommand
    set -l cmd (__fish_oras_lock_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c oras-lock -n "__fish_oras_lock_needs_command" -s o -l output -d 'Write the locked configuration to OUT (replaced atomically) instead of stdout. Its extension picks the format: `.yaml`/`.yml` YAML, otherwise JSON, unless --format says' -r -F
complete -c oras-lock -n "__fish_oras_lock_needs_command" -l lockfile -d 'Also write apko\'s apko.lock.json (v1) to FILE. Every resolved package is downloaded to record its byte ranges and checksums' -r -F
complete -c oras-lock -n "__fish_oras_lock_needs_command" -l format -d 'Format of the locked configuration' -r -f -a "yaml\t'YAML'
json\t'apko\'s JSON form, indented with two spaces'"
complete -c oras-lock -n "__fish_oras_lock_needs_command" -l arch -d 'Architectures to resolve (repeatable or comma-separated; `all`, `host`, or names such as x86_64, aarch64, amd64, arm64). They are de-duplicated and sorted. Default: the configuration\'s `archs`, else all architectures' -r
complete -c oras-lock -n "__fish_oras_lock_needs_command" -l cache-dir -d 'Download cache directory (default: the user cache directory\'s `receipts/apk`)' -r -F
complete -c oras-lock -n "__fish_oras_lock_needs_command" -l include-paths -d 'Directories searched for the configuration file (and the base image) when it is not in the working directory (repeatable or comma-separated)' -r -F
complete -c oras-lock -n "__fish_oras_lock_needs_command" -l registry-config -d 'Docker-format credentials file consulted before DOCKER_CONFIG and ~/.docker/config.json (repeatable; missing files are skipped)' -r -F
complete -c oras-lock -n "__fish_oras_lock_needs_command" -s u -l username -l registry-username -d 'User name for every registry (with --password or --password-stdin)' -r
complete -c oras-lock -n "__fish_oras_lock_needs_command" -s p -l password -l registry-password -d 'Password for every registry (with --username)' -r
complete -c oras-lock -n "__fish_oras_lock_needs_command" -l offline -d 'Use no network: indexes, keys and packages must be in the download cache'
complete -c oras-lock -n "__fish_oras_lock_needs_command" -l plain-http -l allow-http-registry -d 'Reach every registry over plain HTTP (loopback registries always are)'
complete -c oras-lock -n "__fish_oras_lock_needs_command" -l insecure -l allow-insecure-registry -d 'Accept any TLS certificate from registries'
complete -c oras-lock -n "__fish_oras_lock_needs_command" -l password-stdin -d 'Read the password for --username from the first line of standard input'
complete -c oras-lock -n "__fish_oras_lock_needs_command" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c oras-lock -n "__fish_oras_lock_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oras-lock -n "__fish_oras_lock_needs_command" -s V -l version -d 'Print version'
complete -c oras-lock -n "__fish_oras_lock_needs_command" -a "show-packages" -d 'Show the packages and versions a configuration resolves to, per architecture (sorted), in install order'
complete -c oras-lock -n "__fish_oras_lock_needs_command" -a "check" -d 'Compare a locked configuration or an apko.lock.json with a fresh resolution of CONFIG, and list per architecture every package that would be added, removed, upgraded, downgraded or rebuilt'
complete -c oras-lock -n "__fish_oras_lock_needs_command" -a "shim" -d 'Print a shell function that makes `oras lock …` run oras-lock (and every other `oras …` the real oras): `eval "$(oras-lock shim bash)"`'
complete -c oras-lock -n "__fish_oras_lock_needs_command" -a "plugin-metadata" -d 'Print docker-style CLI plugin metadata as JSON (for plugin managers)'
complete -c oras-lock -n "__fish_oras_lock_needs_command" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c oras-lock -n "__fish_oras_lock_using_subcommand show-packages" -l format -d 'One of name-version (default), name-version-source, name=version, name=version-source, name-(version), name-(version)-source, packagelock, packagelock-source; or a template using {{.Name}}, {{.Version}} and {{.Source}} (no other template actions)' -r
complete -c oras-lock -n "__fish_oras_lock_using_subcommand show-packages" -l output -d 'What stdout carries: `text` (default), one line per package in the --format chosen, with a `packages for <arch>` heading on stderr per architecture when there are several; `json`, one object `{"architectures": [{"arch", "packages": [{"name", "version", "source"}]}]}` (packages in install order), with no headings' -r -f -a "text\t'One line per change'
json\t'The JSON report'"
complete -c oras-lock -n "__fish_oras_lock_using_subcommand show-packages" -l arch -d 'Architectures to resolve (repeatable or comma-separated; `all`, `host`, or names such as x86_64, aarch64, amd64, arm64). They are de-duplicated and sorted. Default: the configuration\'s `archs`, else all architectures' -r
complete -c oras-lock -n "__fish_oras_lock_using_subcommand show-packages" -l cache-dir -d 'Download cache directory (default: the user cache directory\'s `receipts/apk`)' -r -F
complete -c oras-lock -n "__fish_oras_lock_using_subcommand show-packages" -l include-paths -d 'Directories searched for the configuration file (and the base image) when it is not in the working directory (repeatable or comma-separated)' -r -F
complete -c oras-lock -n "__fish_oras_lock_using_subcommand show-packages" -l registry-config -d 'Docker-format credentials file consulted before DOCKER_CONFIG and ~/.docker/config.json (repeatable; missing files are skipped)' -r -F
complete -c oras-lock -n "__fish_oras_lock_using_subcommand show-packages" -s u -l username -l registry-username -d 'User name for every registry (with --password or --password-stdin)' -r
complete -c oras-lock -n "__fish_oras_lock_using_subcommand show-packages" -s p -l password -l registry-password -d 'Password for every registry (with --username)' -r
complete -c oras-lock -n "__fish_oras_lock_using_subcommand show-packages" -l offline -d 'Use no network: indexes, keys and packages must be in the download cache'
complete -c oras-lock -n "__fish_oras_lock_using_subcommand show-packages" -l plain-http -l allow-http-registry -d 'Reach every registry over plain HTTP (loopback registries always are)'
complete -c oras-lock -n "__fish_oras_lock_using_subcommand show-packages" -l insecure -l allow-insecure-registry -d 'Accept any TLS certificate from registries'
complete -c oras-lock -n "__fish_oras_lock_using_subcommand show-packages" -l password-stdin -d 'Read the password for --username from the first line of standard input'
complete -c oras-lock -n "__fish_oras_lock_using_subcommand show-packages" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c oras-lock -n "__fish_oras_lock_using_subcommand show-packages" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oras-lock -n "__fish_oras_lock_using_subcommand check" -l locked -d 'A locked configuration written by `oras-lock` (YAML for `.yaml`/`.yml`, else JSON)' -r -F
complete -c oras-lock -n "__fish_oras_lock_using_subcommand check" -l lockfile -d 'An apko.lock.json' -r -F
complete -c oras-lock -n "__fish_oras_lock_using_subcommand check" -l format -l output -d 'Report format (`--output` is oras\'s spelling)' -r -f -a "text\t'One line per change'
json\t'The JSON report'"
complete -c oras-lock -n "__fish_oras_lock_using_subcommand check" -l arch -d 'Architectures to resolve (repeatable or comma-separated; `all`, `host`, or names such as x86_64, aarch64, amd64, arm64). They are de-duplicated and sorted. Default: the configuration\'s `archs`, else all architectures' -r
complete -c oras-lock -n "__fish_oras_lock_using_subcommand check" -l cache-dir -d 'Download cache directory (default: the user cache directory\'s `receipts/apk`)' -r -F
complete -c oras-lock -n "__fish_oras_lock_using_subcommand check" -l include-paths -d 'Directories searched for the configuration file (and the base image) when it is not in the working directory (repeatable or comma-separated)' -r -F
complete -c oras-lock -n "__fish_oras_lock_using_subcommand check" -l registry-config -d 'Docker-format credentials file consulted before DOCKER_CONFIG and ~/.docker/config.json (repeatable; missing files are skipped)' -r -F
complete -c oras-lock -n "__fish_oras_lock_using_subcommand check" -s u -l username -l registry-username -d 'User name for every registry (with --password or --password-stdin)' -r
complete -c oras-lock -n "__fish_oras_lock_using_subcommand check" -s p -l password -l registry-password -d 'Password for every registry (with --username)' -r
complete -c oras-lock -n "__fish_oras_lock_using_subcommand check" -l offline -d 'Use no network: indexes, keys and packages must be in the download cache'
complete -c oras-lock -n "__fish_oras_lock_using_subcommand check" -l plain-http -l allow-http-registry -d 'Reach every registry over plain HTTP (loopback registries always are)'
complete -c oras-lock -n "__fish_oras_lock_using_subcommand check" -l insecure -l allow-insecure-registry -d 'Accept any TLS certificate from registries'
complete -c oras-lock -n "__fish_oras_lock_using_subcommand check" -l password-stdin -d 'Read the password for --username from the first line of standard input'
complete -c oras-lock -n "__fish_oras_lock_using_subcommand check" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c oras-lock -n "__fish_oras_lock_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oras-lock -n "__fish_oras_lock_using_subcommand shim" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c oras-lock -n "__fish_oras_lock_using_subcommand shim" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c oras-lock -n "__fish_oras_lock_using_subcommand plugin-metadata" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c oras-lock -n "__fish_oras_lock_using_subcommand plugin-metadata" -s h -l help -d 'Print help'
complete -c oras-lock -n "__fish_oras_lock_using_subcommand help; and not __fish_seen_subcommand_from show-packages check shim plugin-metadata help" -f -a "show-packages" -d 'Show the packages and versions a configuration resolves to, per architecture (sorted), in install order'
complete -c oras-lock -n "__fish_oras_lock_using_subcommand help; and not __fish_seen_subcommand_from show-packages check shim plugin-metadata help" -f -a "check" -d 'Compare a locked configuration or an apko.lock.json with a fresh resolution of CONFIG, and list per architecture every package that would be added, removed, upgraded, downgraded or rebuilt'
complete -c oras-lock -n "__fish_oras_lock_using_subcommand help; and not __fish_seen_subcommand_from show-packages check shim plugin-metadata help" -f -a "shim" -d 'Print a shell function that makes `oras lock …` run oras-lock (and every other `oras …` the real oras): `eval "$(oras-lock shim bash)"`'
complete -c oras-lock -n "__fish_oras_lock_using_subcommand help; and not __fish_seen_subcommand_from show-packages check shim plugin-metadata help" -f -a "plugin-metadata" -d 'Print docker-style CLI plugin metadata as JSON (for plugin managers)'
complete -c oras-lock -n "__fish_oras_lock_using_subcommand help; and not __fish_seen_subcommand_from show-packages check shim plugin-metadata help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
