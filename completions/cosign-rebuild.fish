# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_cosign_rebuild_global_optspecs
    string join \n insecure-skip-attestation-verification insecure-skip-verify key= certificate-identity= certificate-identity-regexp= certificate-oidc-issuer= certificate-oidc-issuer-regexp= certificate-github-workflow-trigger= certificate-github-workflow-sha= certificate-github-workflow-name= certificate-github-workflow-repository= certificate-github-workflow-ref= trusted-root= insecure-ignore-tlog insecure-ignore-sct platform= publish= keep= output= offline cache-dir= allow-http-registry allow-insecure-registry registry-config= registry-username= registry-password= q/quiet h/help V/version
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

complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -l key -d 'Public key (PEM) the attestations must be signed with' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -l certificate-identity -d 'The certificate\'s expected identity (SAN), exactly' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -l certificate-identity-regexp -d 'A regular expression the certificate\'s SAN must match (unanchored, as cosign)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -l certificate-oidc-issuer -d 'The certificate\'s expected OIDC issuer, exactly' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -l certificate-oidc-issuer-regexp -d 'A regular expression the OIDC issuer must match (unanchored)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -l certificate-github-workflow-trigger -d 'Expected GitHub workflow trigger claim' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -l certificate-github-workflow-sha -d 'Expected GitHub workflow SHA claim' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -l certificate-github-workflow-name -d 'Expected GitHub workflow name claim' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -l certificate-github-workflow-repository -d 'Expected GitHub workflow repository claim' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -l certificate-github-workflow-ref -d 'Expected GitHub workflow ref claim' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -l trusted-root -d 'A Sigstore trusted_root.json to verify against' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -l platform -d 'Rebuild and compare only this platform (`os/arch[/variant]`; repeatable)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -l publish -d 'Push the rebuilt image to REF and print its digest' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -l keep -d 'Leave the rebuilt image in DIR as an OCI layout (a new or empty directory)' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -l output -d 'Output format' -r -f -a "text\t'A summary line, one line per platform, then the differences'
json\t'The report as JSON (schema in the `rebuild` module and the README)'"
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -l cache-dir -d 'Package download cache directory (default: the user cache directory\'s `receipts/apk`)' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -l registry-config -d 'Docker-format credentials file consulted before DOCKER_CONFIG and ~/.docker/config.json (repeatable; missing files are skipped)' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -l registry-username -d 'User name for every registry (with --registry-password)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -l registry-password -d 'Password for every registry (with --registry-username)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -l insecure-skip-attestation-verification -d 'Rebuild from the attested predicate WITHOUT checking any signature, key or identity (insecure: the result proves nothing about who made the image)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -l insecure-skip-verify -d 'The former name of --insecure-skip-attestation-verification, refused: cosign\'s --insecure-skip-verify skips far less'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -l insecure-ignore-tlog -d 'Skip transparency log checks (insecure)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -l insecure-ignore-sct -d 'Skip the embedded SCT check (insecure)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -l offline -d 'Use no network for packages: indexes, keys and packages must be in the download cache'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -l allow-http-registry -l plain-http -d 'Reach every registry over plain HTTP (loopback registries always are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -l allow-insecure-registry -l insecure -d 'Accept any TLS certificate from registries'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -s V -l version -d 'Print version'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -a "rebuild" -d 'Audit IMAGE (the default command, spelled out for shims: `cosign rebuild IMAGE`)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -a "build" -d 'Build an image from an apko configuration (locked, or with --lockfile) into an OCI layout or a registry; prints the image index digest'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -a "attest" -d 'Sign the locked configuration as an in-toto attestation and attach it to IMAGE, as `cosign attest` does'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -a "generate-key-pair" -d 'Write a cosign key pair (`cosign.key`, `cosign.pub`), as `cosign generate-key-pair`'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -a "initialize" -d 'Initialize the Sigstore TUF root (mirror, initial root, cache), as `cosign initialize`'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -a "download" -d 'Print IMAGE\'s attestations, as `cosign download attestation`'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -a "verify" -d 'Verify IMAGE\'s attestations, as `cosign verify-attestation`'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -a "verify-bundle" -d 'Verify one Sigstore bundle (the sigstore-conformance CLI protocol)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -a "diff" -d 'Compare two images: manifests, configs and layer file trees'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -a "catalog" -d 'Audit a whole catalogue of images (sharded, resumable) and merge the reports'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -a "gc" -d 'Remove the blobs of an OCI layout (`oci:DIR`) that nothing its index.json lists reaches (tags, attestations and other referrers are kept) and scratch files of killed runs; prints what it removed. `--dry-run` only reports'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -a "shim" -d 'Print a shell function that makes `cosign rebuild …` run cosign-rebuild (and every other `cosign …` the real cosign): `eval "$(cosign-rebuild shim bash)"`'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -a "plugin-metadata" -d 'Print docker-style CLI plugin metadata as JSON (for plugin managers)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -a "generate-assets" -d 'Write shell completions and man pages for both binaries under DIR (scripts/generate-assets)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_needs_command" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -l key -d 'Public key (PEM) the attestations must be signed with' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -l certificate-identity -d 'The certificate\'s expected identity (SAN), exactly' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -l certificate-identity-regexp -d 'A regular expression the certificate\'s SAN must match (unanchored, as cosign)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -l certificate-oidc-issuer -d 'The certificate\'s expected OIDC issuer, exactly' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -l certificate-oidc-issuer-regexp -d 'A regular expression the OIDC issuer must match (unanchored)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -l certificate-github-workflow-trigger -d 'Expected GitHub workflow trigger claim' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -l certificate-github-workflow-sha -d 'Expected GitHub workflow SHA claim' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -l certificate-github-workflow-name -d 'Expected GitHub workflow name claim' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -l certificate-github-workflow-repository -d 'Expected GitHub workflow repository claim' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -l certificate-github-workflow-ref -d 'Expected GitHub workflow ref claim' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -l trusted-root -d 'A Sigstore trusted_root.json to verify against' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -l platform -d 'Rebuild and compare only this platform (`os/arch[/variant]`; repeatable)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -l publish -d 'Push the rebuilt image to REF and print its digest' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -l keep -d 'Leave the rebuilt image in DIR as an OCI layout (a new or empty directory)' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -l output -d 'Output format' -r -f -a "text\t'A summary line, one line per platform, then the differences'
json\t'The report as JSON (schema in the `rebuild` module and the README)'"
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -l cache-dir -d 'Package download cache directory (default: the user cache directory\'s `receipts/apk`)' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -l registry-config -d 'Docker-format credentials file consulted before DOCKER_CONFIG and ~/.docker/config.json (repeatable; missing files are skipped)' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -l registry-username -d 'User name for every registry (with --registry-password)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -l registry-password -d 'Password for every registry (with --registry-username)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -l insecure-skip-attestation-verification -d 'Rebuild from the attested predicate WITHOUT checking any signature, key or identity (insecure: the result proves nothing about who made the image)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -l insecure-skip-verify -d 'The former name of --insecure-skip-attestation-verification, refused: cosign\'s --insecure-skip-verify skips far less'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -l insecure-ignore-tlog -d 'Skip transparency log checks (insecure)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -l insecure-ignore-sct -d 'Skip the embedded SCT check (insecure)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -l offline -d 'Use no network for packages: indexes, keys and packages must be in the download cache'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -l allow-http-registry -l plain-http -d 'Reach every registry over plain HTTP (loopback registries always are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -l allow-insecure-registry -l insecure -d 'Accept any TLS certificate from registries'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand rebuild" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand build" -l lockfile -d 'Install exactly the packages of this apko.lock.json (its configuration checksum must match CONFIG) instead of resolving' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand build" -s o -l output -d 'Where to put the image: `oci:DIR` (an OCI layout as apko writes it: `index.json` is the image index), `oci:DIR:TAG` (added to the layout under TAG), or `HOST/REPO[:TAG]` (pushed)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand build" -l annotations -d 'Annotations for the index and images, over the configured ones (repeatable or comma-separated)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand build" -l source-date-epoch -d 'Pin the creation time to these Unix seconds, as the `SOURCE_DATE_EPOCH` environment variable does (which is read when this option is absent)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand build" -l locked-out -d 'Also write the locked configuration the build used (the image-configuration predicate) to FILE: YAML for `.yaml`/`.yml`, otherwise JSON' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand build" -l format -d 'What stdout reports: `text`, the image index digest; `json`, an object with the index digest (`index`), `output`, each platform\'s image (`images`: `platform`, `architecture`, `digest`) and `locked_out` (the file written, or null). (`--output` is the destination, as for apko.)' -r -f -a "text\t'The command\'s usual text'
json\t'One JSON object describing what was written'"
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand build" -l arch -d 'Architectures to resolve (repeatable or comma-separated; `all`, `host`, or names such as x86_64, aarch64, amd64, arm64). They are de-duplicated and sorted. Default: the configuration\'s `archs`, else all architectures' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand build" -l cache-dir -d 'Download cache directory (default: the user cache directory\'s `receipts/apk`)' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand build" -l include-paths -d 'Directories searched for the configuration file (and the base image) when it is not in the working directory (repeatable or comma-separated)' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand build" -l registry-config -d 'Docker-format credentials file consulted before DOCKER_CONFIG and ~/.docker/config.json (repeatable; missing files are skipped)' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand build" -l registry-username -d 'User name for every registry (with --registry-password)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand build" -l registry-password -d 'Password for every registry (with --registry-username)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand build" -l offline -d 'Use no network: indexes, keys and packages must be in the download cache'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand build" -l allow-http-registry -l plain-http -d 'Reach every registry over plain HTTP (loopback registries always are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand build" -l allow-insecure-registry -l insecure -d 'Accept any TLS certificate from registries'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand build" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand build" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand attest" -l predicate -d 'The predicate: a JSON object (or YAML mapping)' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand attest" -l key -d 'The signing key (cosign\'s encrypted format or PKCS#8); its password comes from COSIGN_PASSWORD, a terminal prompt or stdin. Without it, signing is keyless: an ephemeral key certified by Fulcio for the OIDC identity token' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand attest" -l tlog-upload -d 'Log the signature in the Rekor transparency log (true, cosign\'s default); false signs air-gapped, and the attestation then verifies only with --insecure-ignore-tlog' -r -f -a "true\t''
false\t''"
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand attest" -l rekor-url -d 'The Rekor (v1 API) base URL; overrides the signing config\'s' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand attest" -l fulcio-url -d 'The Fulcio base URL for keyless signing; overrides the signing config\'s' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand attest" -l identity-token -d 'The OIDC identity token for keyless signing, or a file holding it. Otherwise SIGSTORE_ID_TOKEN, or GitHub Actions\' ambient token (ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN, audience sigstore)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand attest" -l timestamp-server-url -d 'An RFC 3161 timestamp authority to timestamp the signature; overrides the signing config\'s' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand attest" -l signing-config -d 'A Sigstore signing config (signing_config.v0.2.json) naming the Fulcio, Rekor (v1 or v2) and TSA services to use. Without it and without the flags above, the signing config comes from Sigstore\'s TUF repository, as in cosign v3 (TUF_MIRROR, TUF_ROOT; see `initialize`); signing with --key and --tlog-upload=false needs no services' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand attest" -l type -d 'The predicate type: a URI or one of cosign\'s short names (custom, slsaprovenance, …)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand attest" -l new-bundle-format -d 'Store a Sigstore bundle as an OCI referrer (true, cosign v3\'s default) or the legacy `sha256-<hex>.att` manifest (false)' -r -f -a "true\t''
false\t''"
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand attest" -l output -l format -d 'What stdout reports: `text`, nothing (the summary goes to stderr, as cosign\'s does); `json`, an object with the `image` (`oci:DIR` or the repository), `subject` (the image digest), `predicate_type`, `attestation` (the manifest written), `format` (`bundle` or `legacy`) and `tag` (null when the registry\'s referrers API lists the referrer). (`--format` as for `build`, whose `--output` is the destination.)' -r -f -a "text\t'The command\'s usual text'
json\t'One JSON object describing what was written'"
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand attest" -l registry-config -d 'Docker-format credentials file consulted before DOCKER_CONFIG and ~/.docker/config.json (repeatable; missing files are skipped)' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand attest" -l registry-username -d 'User name for every registry (with --registry-password)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand attest" -l registry-password -d 'Password for every registry (with --registry-username)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand attest" -l replace -d 'Legacy format: drop existing attestations of the same predicate type'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand attest" -s y -l yes -d 'Accepted for cosign compatibility; nothing is asked'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand attest" -l allow-http-registry -l plain-http -d 'Reach every registry over plain HTTP (loopback registries always are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand attest" -l allow-insecure-registry -l insecure -d 'Accept any TLS certificate from registries'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand attest" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand attest" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand generate-key-pair" -l output-key-prefix -d 'Write PREFIX.key and PREFIX.pub' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand generate-key-pair" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand generate-key-pair" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand initialize" -l mirror -d 'The TUF repository: an http(s):// base URL, or file:///DIR for a local copy (air-gap)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand initialize" -l root -d 'The trusted initial root.json (a file or an http(s) URL); defaults to the embedded public-good root' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand initialize" -l root-checksum -d 'Digest of the initial root: sha256 hex by default, or sha512:HEX' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand initialize" -l staging -d 'Use the staging instance\'s TUF repository and embedded root'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand initialize" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand initialize" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand download" -l predicate-type -d 'Print only attestations of this predicate type (a URI or a cosign short name)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand download" -l registry-config -d 'Docker-format credentials file consulted before DOCKER_CONFIG and ~/.docker/config.json (repeatable; missing files are skipped)' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand download" -l registry-username -d 'User name for every registry (with --registry-password)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand download" -l registry-password -d 'Password for every registry (with --registry-username)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand download" -l allow-http-registry -l plain-http -d 'Reach every registry over plain HTTP (loopback registries always are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand download" -l allow-insecure-registry -l insecure -d 'Accept any TLS certificate from registries'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand download" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand download" -s h -l help -d 'Print help'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify" -l type -d 'The predicate type to keep (a URI or a cosign short name)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify" -l key -d 'Public key (PEM) the attestations must be signed with' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify" -l certificate-identity -d 'The certificate\'s expected identity (SAN), exactly' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify" -l certificate-identity-regexp -d 'A regular expression the certificate\'s SAN must match (unanchored, as cosign)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify" -l certificate-oidc-issuer -d 'The certificate\'s expected OIDC issuer, exactly' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify" -l certificate-oidc-issuer-regexp -d 'A regular expression the OIDC issuer must match (unanchored)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify" -l certificate-github-workflow-trigger -d 'Expected GitHub workflow trigger claim' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify" -l certificate-github-workflow-sha -d 'Expected GitHub workflow SHA claim' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify" -l certificate-github-workflow-name -d 'Expected GitHub workflow name claim' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify" -l certificate-github-workflow-repository -d 'Expected GitHub workflow repository claim' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify" -l certificate-github-workflow-ref -d 'Expected GitHub workflow ref claim' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify" -l trusted-root -d 'A Sigstore trusted_root.json to verify against' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify" -l predicate-out -d 'Write the predicate of the (first) verified attestation to FILE' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify" -l registry-config -d 'Docker-format credentials file consulted before DOCKER_CONFIG and ~/.docker/config.json (repeatable; missing files are skipped)' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify" -l registry-username -d 'User name for every registry (with --registry-password)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify" -l registry-password -d 'Password for every registry (with --registry-username)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify" -l insecure-ignore-tlog -d 'Skip transparency log checks (insecure)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify" -l insecure-ignore-sct -d 'Skip the embedded SCT check (insecure)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify" -l allow-http-registry -l plain-http -d 'Reach every registry over plain HTTP (loopback registries always are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify" -l allow-insecure-registry -l insecure -d 'Accept any TLS certificate from registries'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify" -s h -l help -d 'Print help'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify-bundle" -l bundle -d 'The bundle to verify' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify-bundle" -l certificate-identity -d 'The expected certificate identity' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify-bundle" -l certificate-oidc-issuer -d 'The expected OIDC issuer' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify-bundle" -l key -d 'The expected public key (PEM)' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify-bundle" -l trusted-root -d 'A Sigstore trusted_root.json' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify-bundle" -l staging -d 'Accepted for the protocol; the staging root must come from --trusted-root'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify-bundle" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand verify-bundle" -s h -l help -d 'Print help'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand diff" -l platform -d 'Compare only this platform (`os/arch[/variant]`; repeatable)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand diff" -l output -d 'Output format' -r -f -a "text\t'A summary line, one line per platform, then the differences'
json\t'The report as JSON (schema in the `rebuild` module and the README)'"
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand diff" -l registry-config -d 'Docker-format credentials file consulted before DOCKER_CONFIG and ~/.docker/config.json (repeatable; missing files are skipped)' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand diff" -l registry-username -d 'User name for every registry (with --registry-password)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand diff" -l registry-password -d 'Password for every registry (with --registry-username)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand diff" -l allow-http-registry -l plain-http -d 'Reach every registry over plain HTTP (loopback registries always are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand diff" -l allow-insecure-registry -l insecure -d 'Accept any TLS certificate from registries'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand diff" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and not __fish_seen_subcommand_from audit report help" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and not __fish_seen_subcommand_from audit report help" -s h -l help -d 'Print help'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and not __fish_seen_subcommand_from audit report help" -f -a "audit" -d 'Audit every image of a catalogue (this shard\'s share), one JSON record per image in --report-dir; images whose digest already has a verdict there are skipped'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and not __fish_seen_subcommand_from audit report help" -f -a "report" -d 'Merge a report directory into a JSON summary, JUnit XML and a static HTML page'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and not __fish_seen_subcommand_from audit report help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and __fish_seen_subcommand_from audit" -l report-dir -d 'Directory of per-image records (shared by every shard; created when missing)' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and __fish_seen_subcommand_from audit" -l jobs -d 'Audits run at once' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and __fish_seen_subcommand_from audit" -l shard -d 'This process\'s share: shard INDEX of COUNT (default: JOB_COMPLETION_INDEX of JOB_COMPLETIONS when set, else the whole catalogue)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and __fish_seen_subcommand_from audit" -l key -d 'The signing key for --attest-result (cosign\'s encrypted format or PKCS#8; password from COSIGN_PASSWORD)' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and __fish_seen_subcommand_from audit" -l cache-dir -d 'Package download cache shared by every audit (overrides the catalogue\'s `cache-dir`; safe to share between processes and machines)' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and __fish_seen_subcommand_from audit" -l registry-config -d 'Docker-format credentials file consulted before DOCKER_CONFIG and ~/.docker/config.json (repeatable; missing files are skipped)' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and __fish_seen_subcommand_from audit" -l registry-username -d 'User name for every registry (with --registry-password)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and __fish_seen_subcommand_from audit" -l registry-password -d 'Password for every registry (with --registry-username)' -r
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and __fish_seen_subcommand_from audit" -l force -d 'Audit again images whose digest already has a verdict on record'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and __fish_seen_subcommand_from audit" -l attest-result -d 'Sign a SLSA verification summary (https://slsa.dev/verification_summary/v1) of each verdict with --key and attach it to the image, as `cosign attest` does'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and __fish_seen_subcommand_from audit" -l allow-http-registry -l plain-http -d 'Reach every registry over plain HTTP (loopback registries always are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and __fish_seen_subcommand_from audit" -l allow-insecure-registry -l insecure -d 'Accept any TLS certificate from registries'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and __fish_seen_subcommand_from audit" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and __fish_seen_subcommand_from audit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and __fish_seen_subcommand_from report" -l json -d 'Write the JSON summary to FILE (without --json, --junit or --html: to stdout)' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and __fish_seen_subcommand_from report" -l junit -d 'Write JUnit XML to FILE (one test case per image and platform)' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and __fish_seen_subcommand_from report" -l html -d 'Write one static HTML page to FILE' -r -F
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and __fish_seen_subcommand_from report" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and __fish_seen_subcommand_from report" -s h -l help -d 'Print help'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and __fish_seen_subcommand_from help" -f -a "audit" -d 'Audit every image of a catalogue (this shard\'s share), one JSON record per image in --report-dir; images whose digest already has a verdict there are skipped'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and __fish_seen_subcommand_from help" -f -a "report" -d 'Merge a report directory into a JSON summary, JUnit XML and a static HTML page'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand catalog; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand gc" -s n -l dry-run -d 'Report what would be removed; remove nothing'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand gc" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand gc" -s h -l help -d 'Print help'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand shim" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand shim" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand plugin-metadata" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand plugin-metadata" -s h -l help -d 'Print help'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand generate-assets" -s q -l quiet -d 'Print no progress on stderr (errors and warnings still are)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand generate-assets" -s h -l help -d 'Print help'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair initialize download verify verify-bundle diff catalog gc shim plugin-metadata generate-assets help" -f -a "rebuild" -d 'Audit IMAGE (the default command, spelled out for shims: `cosign rebuild IMAGE`)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair initialize download verify verify-bundle diff catalog gc shim plugin-metadata generate-assets help" -f -a "build" -d 'Build an image from an apko configuration (locked, or with --lockfile) into an OCI layout or a registry; prints the image index digest'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair initialize download verify verify-bundle diff catalog gc shim plugin-metadata generate-assets help" -f -a "attest" -d 'Sign the locked configuration as an in-toto attestation and attach it to IMAGE, as `cosign attest` does'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair initialize download verify verify-bundle diff catalog gc shim plugin-metadata generate-assets help" -f -a "generate-key-pair" -d 'Write a cosign key pair (`cosign.key`, `cosign.pub`), as `cosign generate-key-pair`'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair initialize download verify verify-bundle diff catalog gc shim plugin-metadata generate-assets help" -f -a "initialize" -d 'Initialize the Sigstore TUF root (mirror, initial root, cache), as `cosign initialize`'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair initialize download verify verify-bundle diff catalog gc shim plugin-metadata generate-assets help" -f -a "download" -d 'Print IMAGE\'s attestations, as `cosign download attestation`'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair initialize download verify verify-bundle diff catalog gc shim plugin-metadata generate-assets help" -f -a "verify" -d 'Verify IMAGE\'s attestations, as `cosign verify-attestation`'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair initialize download verify verify-bundle diff catalog gc shim plugin-metadata generate-assets help" -f -a "verify-bundle" -d 'Verify one Sigstore bundle (the sigstore-conformance CLI protocol)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair initialize download verify verify-bundle diff catalog gc shim plugin-metadata generate-assets help" -f -a "diff" -d 'Compare two images: manifests, configs and layer file trees'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair initialize download verify verify-bundle diff catalog gc shim plugin-metadata generate-assets help" -f -a "catalog" -d 'Audit a whole catalogue of images (sharded, resumable) and merge the reports'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair initialize download verify verify-bundle diff catalog gc shim plugin-metadata generate-assets help" -f -a "gc" -d 'Remove the blobs of an OCI layout (`oci:DIR`) that nothing its index.json lists reaches (tags, attestations and other referrers are kept) and scratch files of killed runs; prints what it removed. `--dry-run` only reports'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair initialize download verify verify-bundle diff catalog gc shim plugin-metadata generate-assets help" -f -a "shim" -d 'Print a shell function that makes `cosign rebuild …` run cosign-rebuild (and every other `cosign …` the real cosign): `eval "$(cosign-rebuild shim bash)"`'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair initialize download verify verify-bundle diff catalog gc shim plugin-metadata generate-assets help" -f -a "plugin-metadata" -d 'Print docker-style CLI plugin metadata as JSON (for plugin managers)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair initialize download verify verify-bundle diff catalog gc shim plugin-metadata generate-assets help" -f -a "generate-assets" -d 'Write shell completions and man pages for both binaries under DIR (scripts/generate-assets)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and not __fish_seen_subcommand_from rebuild build attest generate-key-pair initialize download verify verify-bundle diff catalog gc shim plugin-metadata generate-assets help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and __fish_seen_subcommand_from catalog" -f -a "audit" -d 'Audit every image of a catalogue (this shard\'s share), one JSON record per image in --report-dir; images whose digest already has a verdict there are skipped'
complete -c cosign-rebuild -n "__fish_cosign_rebuild_using_subcommand help; and __fish_seen_subcommand_from catalog" -f -a "report" -d 'Merge a report directory into a JSON summary, JUnit XML and a static HTML page'
