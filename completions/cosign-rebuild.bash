_cosign__rebuild() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="cosign__rebuild"
                ;;
            cosign__rebuild,attest)
                cmd="cosign__rebuild__subcmd__attest"
                ;;
            cosign__rebuild,build)
                cmd="cosign__rebuild__subcmd__build"
                ;;
            cosign__rebuild,catalog)
                cmd="cosign__rebuild__subcmd__catalog"
                ;;
            cosign__rebuild,diff)
                cmd="cosign__rebuild__subcmd__diff"
                ;;
            cosign__rebuild,download)
                cmd="cosign__rebuild__subcmd__download"
                ;;
            cosign__rebuild,gc)
                cmd="cosign__rebuild__subcmd__gc"
                ;;
            cosign__rebuild,generate-assets)
                cmd="cosign__rebuild__subcmd__generate__subcmd__assets"
                ;;
            cosign__rebuild,generate-key-pair)
                cmd="cosign__rebuild__subcmd__generate__subcmd__key__subcmd__pair"
                ;;
            cosign__rebuild,help)
                cmd="cosign__rebuild__subcmd__help"
                ;;
            cosign__rebuild,initialize)
                cmd="cosign__rebuild__subcmd__initialize"
                ;;
            cosign__rebuild,plugin-metadata)
                cmd="cosign__rebuild__subcmd__plugin__subcmd__metadata"
                ;;
            cosign__rebuild,rebuild)
                cmd="cosign__rebuild__subcmd__rebuild"
                ;;
            cosign__rebuild,shim)
                cmd="cosign__rebuild__subcmd__shim"
                ;;
            cosign__rebuild,verify)
                cmd="cosign__rebuild__subcmd__verify"
                ;;
            cosign__rebuild,verify-bundle)
                cmd="cosign__rebuild__subcmd__verify__subcmd__bundle"
                ;;
            cosign__rebuild__subcmd__catalog,audit)
                cmd="cosign__rebuild__subcmd__catalog__subcmd__audit"
                ;;
            cosign__rebuild__subcmd__catalog,help)
                cmd="cosign__rebuild__subcmd__catalog__subcmd__help"
                ;;
            cosign__rebuild__subcmd__catalog,report)
                cmd="cosign__rebuild__subcmd__catalog__subcmd__report"
                ;;
            cosign__rebuild__subcmd__catalog__subcmd__help,audit)
                cmd="cosign__rebuild__subcmd__catalog__subcmd__help__subcmd__audit"
                ;;
            cosign__rebuild__subcmd__catalog__subcmd__help,help)
                cmd="cosign__rebuild__subcmd__catalog__subcmd__help__subcmd__help"
                ;;
            cosign__rebuild__subcmd__catalog__subcmd__help,report)
                cmd="cosign__rebuild__subcmd__catalog__subcmd__help__subcmd__report"
                ;;
            cosign__rebuild__subcmd__help,attest)
                cmd="cosign__rebuild__subcmd__help__subcmd__attest"
                ;;
            cosign__rebuild__subcmd__help,build)
                cmd="cosign__rebuild__subcmd__help__subcmd__build"
                ;;
            cosign__rebuild__subcmd__help,catalog)
                cmd="cosign__rebuild__subcmd__help__subcmd__catalog"
                ;;
            cosign__rebuild__subcmd__help,diff)
                cmd="cosign__rebuild__subcmd__help__subcmd__diff"
                ;;
            cosign__rebuild__subcmd__help,download)
                cmd="cosign__rebuild__subcmd__help__subcmd__download"
                ;;
            cosign__rebuild__subcmd__help,gc)
                cmd="cosign__rebuild__subcmd__help__subcmd__gc"
                ;;
            cosign__rebuild__subcmd__help,generate-assets)
                cmd="cosign__rebuild__subcmd__help__subcmd__generate__subcmd__assets"
                ;;
            cosign__rebuild__subcmd__help,generate-key-pair)
                cmd="cosign__rebuild__subcmd__help__subcmd__generate__subcmd__key__subcmd__pair"
                ;;
            cosign__rebuild__subcmd__help,help)
                cmd="cosign__rebuild__subcmd__help__subcmd__help"
                ;;
            cosign__rebuild__subcmd__help,initialize)
                cmd="cosign__rebuild__subcmd__help__subcmd__initialize"
                ;;
            cosign__rebuild__subcmd__help,plugin-metadata)
                cmd="cosign__rebuild__subcmd__help__subcmd__plugin__subcmd__metadata"
                ;;
            cosign__rebuild__subcmd__help,rebuild)
                cmd="cosign__rebuild__subcmd__help__subcmd__rebuild"
                ;;
            cosign__rebuild__subcmd__help,shim)
                cmd="cosign__rebuild__subcmd__help__subcmd__shim"
                ;;
            cosign__rebuild__subcmd__help,verify)
                cmd="cosign__rebuild__subcmd__help__subcmd__verify"
                ;;
            cosign__rebuild__subcmd__help,verify-bundle)
                cmd="cosign__rebuild__subcmd__help__subcmd__verify__subcmd__bundle"
                ;;
            cosign__rebuild__subcmd__help__subcmd__catalog,audit)
                cmd="cosign__rebuild__subcmd__help__subcmd__catalog__subcmd__audit"
                ;;
            cosign__rebuild__subcmd__help__subcmd__catalog,report)
                cmd="cosign__rebuild__subcmd__help__subcmd__catalog__subcmd__report"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        cosign__rebuild)
            opts="-q -h -V --insecure-skip-attestation-verification --insecure-skip-verify --key --certificate-identity --certificate-identity-regexp --certificate-oidc-issuer --certificate-oidc-issuer-regexp --certificate-github-workflow-trigger --certificate-github-workflow-sha --certificate-github-workflow-name --certificate-github-workflow-repository --certificate-github-workflow-ref --trusted-root --insecure-ignore-tlog --insecure-ignore-sct --platform --publish --keep --output --offline --cache-dir --plain-http --allow-http-registry --insecure --allow-insecure-registry --registry-config --registry-username --registry-password --quiet --help --version rebuild build attest generate-key-pair initialize download verify verify-bundle diff catalog gc shim plugin-metadata generate-assets help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-identity)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-identity-regexp)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-oidc-issuer)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-oidc-issuer-regexp)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-github-workflow-trigger)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-github-workflow-sha)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-github-workflow-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-github-workflow-repository)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-github-workflow-ref)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --trusted-root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --platform)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --publish)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keep)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -W "text json" -- "${cur}"))
                    return 0
                    ;;
                --cache-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registry-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registry-username)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registry-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__attest)
            opts="-y -q -h --predicate --key --tlog-upload --rekor-url --fulcio-url --identity-token --timestamp-server-url --signing-config --type --new-bundle-format --replace --yes --format --output --plain-http --allow-http-registry --insecure --allow-insecure-registry --registry-config --registry-username --registry-password --quiet --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --predicate)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tlog-upload)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                --rekor-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --fulcio-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --identity-token)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timestamp-server-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --signing-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --type)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --new-bundle-format)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -W "text json" -- "${cur}"))
                    return 0
                    ;;
                --format)
                    COMPREPLY=($(compgen -W "text json" -- "${cur}"))
                    return 0
                    ;;
                --registry-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registry-username)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registry-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__build)
            opts="-o -q -h --lockfile --output --annotations --source-date-epoch --locked-out --format --arch --offline --cache-dir --include-paths --plain-http --allow-http-registry --insecure --allow-insecure-registry --registry-config --registry-username --registry-password --quiet --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --lockfile)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -o)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --annotations)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --source-date-epoch)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --locked-out)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --format)
                    COMPREPLY=($(compgen -W "text json" -- "${cur}"))
                    return 0
                    ;;
                --arch)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --cache-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --include-paths)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registry-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registry-username)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registry-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__catalog)
            opts="-q -h --quiet --help audit report help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__catalog__subcmd__audit)
            opts="-q -h --report-dir --jobs --shard --force --attest-result --key --cache-dir --plain-http --allow-http-registry --insecure --allow-insecure-registry --registry-config --registry-username --registry-password --quiet --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --report-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --jobs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --shard)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --cache-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registry-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registry-username)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registry-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__catalog__subcmd__help)
            opts="audit report help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__catalog__subcmd__help__subcmd__audit)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__catalog__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__catalog__subcmd__help__subcmd__report)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__catalog__subcmd__report)
            opts="-q -h --json --junit --html --quiet --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --json)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --junit)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --html)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__diff)
            opts="-q -h --platform --output --plain-http --allow-http-registry --insecure --allow-insecure-registry --registry-config --registry-username --registry-password --quiet --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --platform)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -W "text json" -- "${cur}"))
                    return 0
                    ;;
                --registry-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registry-username)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registry-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__download)
            opts="-q -h --predicate-type --plain-http --allow-http-registry --insecure --allow-insecure-registry --registry-config --registry-username --registry-password --quiet --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --predicate-type)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registry-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registry-username)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registry-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__gc)
            opts="-n -q -h --dry-run --quiet --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__generate__subcmd__assets)
            opts="-q -h --quiet --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__generate__subcmd__key__subcmd__pair)
            opts="-q -h --output-key-prefix --quiet --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --output-key-prefix)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__help)
            opts="rebuild build attest generate-key-pair initialize download verify verify-bundle diff catalog gc shim plugin-metadata generate-assets help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__help__subcmd__attest)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__help__subcmd__build)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__help__subcmd__catalog)
            opts="audit report"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__help__subcmd__catalog__subcmd__audit)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__help__subcmd__catalog__subcmd__report)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__help__subcmd__diff)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__help__subcmd__download)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__help__subcmd__gc)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__help__subcmd__generate__subcmd__assets)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__help__subcmd__generate__subcmd__key__subcmd__pair)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__help__subcmd__initialize)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__help__subcmd__plugin__subcmd__metadata)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__help__subcmd__rebuild)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__help__subcmd__shim)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__help__subcmd__verify)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__help__subcmd__verify__subcmd__bundle)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__initialize)
            opts="-q -h --mirror --root --root-checksum --staging --quiet --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --mirror)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --root-checksum)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__plugin__subcmd__metadata)
            opts="-q -h --quiet --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__rebuild)
            opts="-q -h --insecure-skip-attestation-verification --insecure-skip-verify --key --certificate-identity --certificate-identity-regexp --certificate-oidc-issuer --certificate-oidc-issuer-regexp --certificate-github-workflow-trigger --certificate-github-workflow-sha --certificate-github-workflow-name --certificate-github-workflow-repository --certificate-github-workflow-ref --trusted-root --insecure-ignore-tlog --insecure-ignore-sct --platform --publish --keep --output --offline --cache-dir --plain-http --allow-http-registry --insecure --allow-insecure-registry --registry-config --registry-username --registry-password --quiet --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-identity)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-identity-regexp)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-oidc-issuer)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-oidc-issuer-regexp)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-github-workflow-trigger)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-github-workflow-sha)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-github-workflow-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-github-workflow-repository)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-github-workflow-ref)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --trusted-root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --platform)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --publish)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keep)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -W "text json" -- "${cur}"))
                    return 0
                    ;;
                --cache-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registry-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registry-username)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registry-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__shim)
            opts="-q -h --quiet --help bash zsh fish"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__verify)
            opts="-q -h --type --key --certificate-identity --certificate-identity-regexp --certificate-oidc-issuer --certificate-oidc-issuer-regexp --certificate-github-workflow-trigger --certificate-github-workflow-sha --certificate-github-workflow-name --certificate-github-workflow-repository --certificate-github-workflow-ref --trusted-root --insecure-ignore-tlog --insecure-ignore-sct --predicate-out --plain-http --allow-http-registry --insecure --allow-insecure-registry --registry-config --registry-username --registry-password --quiet --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --type)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-identity)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-identity-regexp)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-oidc-issuer)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-oidc-issuer-regexp)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-github-workflow-trigger)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-github-workflow-sha)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-github-workflow-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-github-workflow-repository)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-github-workflow-ref)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --trusted-root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --predicate-out)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registry-config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registry-username)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --registry-password)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        cosign__subcmd__rebuild__subcmd__verify__subcmd__bundle)
            opts="-q -h --staging --bundle --certificate-identity --certificate-oidc-issuer --key --trusted-root --quiet --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --bundle)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-identity)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --certificate-oidc-issuer)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --trusted-root)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _cosign__rebuild -o nosort -o bashdefault -o default cosign-rebuild
else
    complete -F _cosign__rebuild -o bashdefault -o default cosign-rebuild
fi
