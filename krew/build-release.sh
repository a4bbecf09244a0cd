#!/bin/sh
# Builds the krew release archive of kubectl-cicd for one platform and renders
# the krew manifest for it. No network access: the only inputs are this
# repository, its Cargo.lock-pinned build, and the files given as options.
# Run with --help for the options.
set -eu

usage() {
    cat <<'EOF'
Usage: krew/build-release.sh [OPTIONS]

Builds kubectl-cicd for this machine (cargo build --release --locked --offline,
with the [profile.release] of Cargo.toml; run 'cargo fetch --locked' first on a
fresh machine) or takes a binary given with --binary, packs it with LICENSE into

    OUT/kubectl-cicd-v<version>-<os>-<arch>.tar.gz   (+ .sha256)

and renders OUT/cicd.yaml from krew/.krew.yaml: a krew manifest holding only
that platform, with the archive's real sha256. Try it with

    kubectl krew install --manifest=OUT/cicd.yaml --archive=OUT/<archive>

The version is Cargo.toml's; the tag is v<version>.

Options:
  --binary PATH     package this binary instead of building one
  --out DIR         where to write the archive and the manifest (default: dist)
  --uri URI         uri written into the rendered manifest (default: file://
                    URL of the archive; krew only reads it without --archive,
                    and krew downloads over http(s) only)
  --os OS           target os: linux, darwin or windows (default: this machine)
  --arch ARCH       target arch: amd64 or arm64 (default: this machine);
                    --os/--arch other than this machine's need --binary
  --all-platforms   render every platform of the template into OUT/cicd.yaml,
                    with the release download URIs and the sha256 of each
                    archive found in OUT; builds nothing. A missing archive is
                    an error, unless --placeholder-sha is given
  --placeholder-sha with --all-platforms: write a placeholder sha256 (64
                    zeros, marked with a comment) for each missing archive.
                    This is how plugin-manifest/cicd.yaml is made:
                      krew/build-release.sh --all-platforms --placeholder-sha \
                        --out /tmp/x && cp /tmp/x/cicd.yaml plugin-manifest/
  -h, --help        show this help

A release publishes the archives of all platforms; krew-release-bot then renders
krew/.krew.yaml (its {{addURIAndSha ...}} lines) with the real sha256 values and
opens the pull request against krew-index.
EOF
}

die() {
    echo "build-release: $*" >&2
    exit 1
}

root=$(cd "$(dirname "$0")/.." && pwd)
template="$root/krew/.krew.yaml"
placeholder=0000000000000000000000000000000000000000000000000000000000000000

binary=
out="$root/dist"
uri=
os=
arch=
all_platforms=0
placeholder_sha=0

while [ $# -gt 0 ]; do
    case "$1" in
        --binary) [ $# -ge 2 ] || die "--binary needs a path"; binary=$2; shift 2 ;;
        --binary=*) binary=${1#*=}; shift ;;
        --out) [ $# -ge 2 ] || die "--out needs a directory"; out=$2; shift 2 ;;
        --out=*) out=${1#*=}; shift ;;
        --uri) [ $# -ge 2 ] || die "--uri needs a URI"; uri=$2; shift 2 ;;
        --uri=*) uri=${1#*=}; shift ;;
        --os) [ $# -ge 2 ] || die "--os needs a value"; os=$2; shift 2 ;;
        --os=*) os=${1#*=}; shift ;;
        --arch) [ $# -ge 2 ] || die "--arch needs a value"; arch=$2; shift 2 ;;
        --arch=*) arch=${1#*=}; shift ;;
        --all-platforms) all_platforms=1; shift ;;
        --placeholder-sha) placeholder_sha=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
done

[ -f "$template" ] || die "template not found: $template"
[ -f "$root/LICENSE" ] || die "LICENSE not found in $root"

# The package version, from the [package] table of Cargo.toml.
version=$(awk '
    /^\[/ { in_package = ($0 == "[package]") }
    in_package && /^version[ \t]*=/ {
        sub(/^version[ \t]*=[ \t]*"/, ""); sub(/".*/, ""); print; exit
    }' "$root/Cargo.toml")
[ -n "$version" ] || die "no version in the [package] table of $root/Cargo.toml"
tag="v$version"

host_os() {
    case "$(uname -s)" in
        Linux) echo linux ;;
        Darwin) echo darwin ;;
        MINGW* | MSYS* | CYGWIN* | Windows_NT) echo windows ;;
        *) die "unsupported operating system: $(uname -s)" ;;
    esac
}

host_arch() {
    case "$(uname -m)" in
        x86_64 | amd64) echo amd64 ;;
        aarch64 | arm64) echo arm64 ;;
        *) die "unsupported architecture: $(uname -m)" ;;
    esac
}

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d ' ' -f 1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 "$1" | cut -d ' ' -f 1
    elif command -v openssl >/dev/null 2>&1; then
        openssl dgst -sha256 -r "$1" | cut -d ' ' -f 1
    else
        die "no sha256sum, shasum or openssl found to compute a sha256"
    fi
}

archive_name() { # os arch
    echo "kubectl-cicd-$tag-$1-$2.tar.gz"
}

# render SHAS URI_OVERRIDE ONLY: prints the template with {{ .TagName }} and
# {{addURIAndSha "URL" .TagName }} filled in. SHAS is "os/arch=sha ..." (a
# platform missing from it gets the placeholder); ONLY is "os/arch" to keep one
# platform, or "all".
render() {
    awk -v tag="$tag" -v shas="$1" -v uri_override="$2" -v only="$3" \
        -v placeholder="$placeholder" '
        BEGIN {
            n = split(shas, pairs, " ")
            for (i = 1; i <= n; i++) {
                eq = index(pairs[i], "=")
                sha[substr(pairs[i], 1, eq - 1)] = substr(pairs[i], eq + 1)
            }
        }
        function fill(line) {
            gsub(/\{\{ *\.TagName *\}\}/, tag, line)
            return line
        }
        # Emits one buffered platform entry if it is selected.
        function flush(   i, line, key, indent, url, platform_os, platform_arch) {
            if (count == 0) return
            platform_os = ""; platform_arch = ""
            for (i = 1; i <= count; i++) {
                if (buf[i] ~ /^ +os: /) { platform_os = buf[i]; sub(/^ +os: /, "", platform_os) }
                if (buf[i] ~ /^ +arch: /) { platform_arch = buf[i]; sub(/^ +arch: /, "", platform_arch) }
            }
            key = platform_os "/" platform_arch
            if (only == "all" || only == key) {
                found[key] = 1
                for (i = 1; i <= count; i++) {
                    line = buf[i]
                    if (line ~ /^ *\{\{ *addURIAndSha /) {
                        indent = line; sub(/[^ ].*$/, "", indent)
                        url = line
                        sub(/^ *\{\{ *addURIAndSha "/, "", url)
                        sub(/" *\.TagName *\}\} *$/, "", url)
                        url = fill(url)
                        if (uri_override != "") url = uri_override
                        print indent "uri: " url
                        # Quoted: an unquoted hash of digits (the placeholder, or a
                        # digits-and-one-e hash) would be read as a YAML number.
                        if (key in sha) print indent "sha256: \"" sha[key] "\""
                        else print indent "sha256: \"" placeholder "\"  # placeholder: no release yet"
                    } else {
                        print fill(line)
                    }
                }
            }
            count = 0
        }
        {
            if (!in_platforms) {
                print fill($0)
                if ($0 ~ /^  platforms:[ \t]*$/) in_platforms = 1
                next
            }
            if ($0 ~ /^  - /) { flush(); buf[++count] = $0; next }
            if ($0 ~ /^    / || $0 ~ /^[ \t]*$/) { buf[++count] = $0; next }
            flush(); in_platforms = 0; print fill($0)
        }
        END {
            flush()
            if (only != "all" && !(only in found)) {
                print "build-release: the template has no platform " only > "/dev/stderr"
                exit 3
            }
        }' "$template"
}

platforms_in_template() {
    awk '/^ +os: / { o = $2 } /^ +arch: / { print o "/" $2 }' "$template"
}

mkdir -p "$out"
out=$(cd "$out" && pwd)

if [ "$all_platforms" -eq 1 ]; then
    [ -z "$binary" ] || die "--all-platforms builds nothing; drop --binary"
    [ -z "$uri" ] || die "--all-platforms uses the release URIs of the template; drop --uri"
    shas=
    missing=
    for platform in $(platforms_in_template); do
        file="$out/$(archive_name "${platform%/*}" "${platform#*/}")"
        if [ -f "$file" ]; then
            shas="$shas $platform=$(sha256_of "$file")"
        else
            missing="$missing $file"
        fi
    done
    if [ -n "$missing" ] && [ "$placeholder_sha" -ne 1 ]; then
        die "missing archives (build them, or pass --placeholder-sha):$missing"
    fi
    {
        echo "# Rendered from krew/.krew.yaml by krew/build-release.sh for $tag."
        if [ -n "$missing" ]; then
            echo "# sha256 values of 64 zeros are placeholders: no release of $tag exists"
            echo "# yet. At release, krew-release-bot renders krew/.krew.yaml with the real"
            echo "# sha256 of each published archive (or run krew/build-release.sh"
            echo "# --all-platforms with every archive in --out)."
        fi
        render "$shas" "" all
    } >"$out/cicd.yaml.tmp"
    mv "$out/cicd.yaml.tmp" "$out/cicd.yaml"
    echo "manifest: $out/cicd.yaml"
    exit 0
fi

[ "$placeholder_sha" -eq 0 ] || die "--placeholder-sha goes with --all-platforms"

this_os=$(host_os)
this_arch=$(host_arch)
[ -n "$os" ] || os=$this_os
[ -n "$arch" ] || arch=$this_arch
case "$os/$arch" in
    linux/amd64 | linux/arm64 | darwin/amd64 | darwin/arm64 | windows/amd64) ;;
    *) die "no krew platform $os/$arch in this release (see krew/.krew.yaml)" ;;
esac
exe=kubectl-cicd
[ "$os" != windows ] || exe=kubectl-cicd.exe

if [ -z "$binary" ]; then
    [ "$os/$arch" = "$this_os/$this_arch" ] ||
        die "building for $os/$arch on $this_os/$this_arch: build it yourself and pass --binary"
    command -v cargo >/dev/null 2>&1 || die "cargo not found (or pass --binary PATH)"
    echo "build-release: cargo build --release --locked --offline -p kubectl-cicd" >&2
    (cd "$root" && cargo build --release --locked --offline -p kubectl-cicd) >&2 ||
        die "the release build failed (offline: run 'cargo fetch --locked' first if crates are missing)"
    target_dir=$(cd "$root" && cargo metadata --format-version 1 --no-deps --offline |
        sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
    [ -n "$target_dir" ] || target_dir="$root/target"
    binary="$target_dir/release/$exe"
fi
[ -f "$binary" ] || die "no binary at $binary"

archive=$(archive_name "$os" "$arch")
staging=$(mktemp -d "${TMPDIR:-/tmp}/kubectl-cicd-release.XXXXXX")
trap 'rm -rf "$staging"' EXIT
trap 'exit 130' INT TERM
cp "$binary" "$staging/$exe"
cp "$root/LICENSE" "$staging/LICENSE"
chmod 0755 "$staging/$exe"
chmod 0644 "$staging/LICENSE"
# The archive holds exactly the binary and LICENSE at its root, owned by root
# where the tar in use can say so (GNU tar), so no builder's name leaks in.
if tar --version 2>/dev/null | grep -q 'GNU tar'; then
    tar --owner=0 --group=0 --numeric-owner -czf "$out/$archive.tmp" -C "$staging" "$exe" LICENSE
else
    tar -czf "$out/$archive.tmp" -C "$staging" "$exe" LICENSE
fi
mv "$out/$archive.tmp" "$out/$archive"
sha=$(sha256_of "$out/$archive")
printf '%s  %s\n' "$sha" "$archive" >"$out/$archive.sha256"

[ -n "$uri" ] || uri="file://$out/$archive"
{
    echo "# Rendered from krew/.krew.yaml by krew/build-release.sh for $tag, $os/$arch only."
    render "$os/$arch=$sha" "$uri" "$os/$arch"
} >"$out/cicd.yaml.tmp"
mv "$out/cicd.yaml.tmp" "$out/cicd.yaml"

echo "archive:  $out/$archive"
echo "sha256:   $sha"
echo "manifest: $out/cicd.yaml"
echo "try:      kubectl krew install --manifest=$out/cicd.yaml --archive=$out/$archive"
