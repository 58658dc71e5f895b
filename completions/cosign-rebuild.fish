# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_cosign_rebuild_global_optspecs
    string join \n q/quiet h/help V/version
end

function __fish_cosign_rebuild_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_cosign_rebuild_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_cosign_rebuild_using_subcommand
    set -l cmd (__fish_cosign_rebuild_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -s V -l version -d 'Print version'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -f -a "rebuild" -d 'Audit IMAGE (the default command, spelled out for shims: `cosign rebuild IMAGE`)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -f -a "build" -d 'Build an image from an apko configuration (locked, or with --lockfile) into an OCI layout or a registry; prints the image index digest'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -f -a "attest" -d 'Sign the locked configuration as an in-toto attestation and attach it to IMAGE, as `cosign attest` does'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -f -a "generate-key-pair" -d 'Write a cosign key pair (`cosign.key`, `cosign.pub`), as `cosign generate-key-pair`'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -f -a "download" -d 'Print IMAGE\'s attestations, as `cosign download attestation`'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -f -a "verify" -d 'Verify IMAGE\'s attestations, as `cosign verify-attestation`'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -f -a "verify-bundle" -d 'Verify one Sigstore bundle (the sigstore-conformance CLI protocol)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -f -a "diff" -d 'Compare two images: manifests, configs and layer file trees'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -f -a "shim" -d 'Print a shell function that makes `cosign rebuild …` run cosign-rebuild (and every other `cosign …` the real cosign): `eval "$(cosign-rebuild shim bash)"`'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -f -a "plugin-metadata" -d 'Print docker-style CLI plugin metadata as JSON (for plugin managers)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -f -a "generate-assets" -d 'Write shell completions and man pages for both binaries under DIR (scripts/generate-assets)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand build" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand build" -s h -l help -d 'Print help'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand attest" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand attest" -s h -l help -d 'Print help'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand generate-key-pair" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand generate-key-pair" -s h -l help -d 'Print help'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand download" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand download" -s h -l help -d 'Print help'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify" -s h -l help -d 'Print help'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify-bundle" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify-bundle" -s h -l help -d 'Print help'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand diff" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand shim" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand shim" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand plugin-metadata" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand plugin-metadata" -s h -l help -d 'Print help'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand generate-assets" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand generate-assets" -s h -l help -d 'Print help'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair download verify verify-bundle diff shim plugin-metadata generate-assets help" -f -a "rebuild" -d 'Audit IMAGE (the default command, spelled out for shims: `cosign rebuild IMAGE`)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair download verify verify-bundle diff shim plugin-metadata generate-assets help" -f -a "build" -d 'Build an image from an apko configuration (locked, or with --lockfile) into an OCI layout or a registry; prints the image index digest'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair download verify verify-bundle diff shim plugin-metadata generate-assets help" -f -a "attest" -d 'Sign the locked configuration as an in-toto attestation and attach it to IMAGE, as `cosign attest` does'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair download verify verify-bundle diff shim plugin-metadata generate-assets help" -f -a "generate-key-pair" -d 'Write a cosign key pair (`cosign.key`, `cosign.pub`), as `cosign generate-key-pair`'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair download verify verify-bundle diff shim plugin-metadata generate-assets help" -f -a "download" -d 'Print IMAGE\'s attestations, as `cosign download attestation`'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair download verify verify-bundle diff shim plugin-metadata generate-assets help" -f -a "verify" -d 'Verify IMAGE\'s attestations, as `cosign verify-attestation`'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair download verify verify-bundle diff shim plugin-metadata generate-assets help" -f -a "verify-bundle" -d 'Verify one Sigstore bundle (the sigstore-conformance CLI protocol)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair download verify verify-bundle diff shim plugin-metadata generate-assets help" -f -a "diff" -d 'Compare two images: manifests, configs and layer file trees'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair download verify verify-bundle diff shim plugin-metadata generate-assets help" -f -a "shim" -d 'Print a shell function that makes `cosign rebuild …` run cosign-rebuild (and every other `cosign …` the real cosign): `eval "$(cosign-rebuild shim bash)"`'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair download verify verify-bundle diff shim plugin-metadata generate-assets help" -f -a "plugin-metadata" -d 'Print docker-style CLI plugin metadata as JSON (for plugin managers)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair download verify verify-bundle diff shim plugin-metadata generate-assets help" -f -a "generate-assets" -d 'Write shell completions and man pages for both binaries under DIR (scripts/generate-assets)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair download verify verify-bundle diff shim plugin-metadata generate-assets help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
