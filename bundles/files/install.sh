#!/bin/bash
# install.sh - install this FATE offline bundle on a CentOS 7 host (bash 4.2, rpm 4.11,
# yum 3.4.3; dnf where yum is absent). Every check runs before anything is changed:
# the files against SHA256SUMS, SHA256SUMS against the bundle's own key, every RPM's
# signature against that key (in a temporary rpm database and gpg home).
#
# Written for bash 4.2: a possibly empty array is expanded as ${a[@]+"${a[@]}"} (bash < 4.4
# calls "${a[@]}" of an empty array unbound under set -u); no namerefs, no ${x@Q}, no
# negative subscripts, no wait -n.
set -euo pipefail

prog=install.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
key_file=RPM-GPG-KEY-fate
root=""
pm=""
dry_run=0
uninstall=0
backup=1
tmp=""
subset=""
chosen=()

usage() {
    cat <<EOF
usage: $prog [--dry-run] [--uninstall] [--no-backup] [--root DIR] [--pm yum|dnf]
       [--subset FILE] [PACKAGE...]

Install the FATE packages of this bundle (packages.txt) from the bundle itself; with
PACKAGE names (packages of rpms/), only those and what they require (fate-deploy gives
each host the packages of its services).
  --dry-run     check the bundle and say what would be done; change nothing
  --uninstall   remove the packages and the repo file (data in /data and configs in
                /etc/fate are kept)
  --no-backup   on an upgrade of a configured host, do not run 'fate-ctl backup' first
                (by default it does, into /data/projects/data/fate/backups; older
                backups are never deleted)
  --root DIR    install into DIR instead of / (image builds, tests)
  --pm yum|dnf  package manager (default: yum, or dnf where yum is absent)
  --subset FILE this copy holds only the bundle files FILE names, one a line (fate-deploy
                sends each host the RPMs its PACKAGEs need and what checks them): every
                one of them must be here, every file here must match SHA256SUMS, and the
                bundle's other RPMs may be absent
Exit status: 0 done (or nothing to do), 1 a check or a step failed, 2 bad usage.
EOF
}

say() { echo "$prog: $*"; }
die() { echo "$prog: error: $*" >&2; exit 1; }
bad_usage() { echo "$prog: error: $*" >&2; exit 2; }
cleanup() { if [ -n "$tmp" ]; then rm -rf "$tmp"; fi; }
trap cleanup EXIT

while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) dry_run=1 ;;
        --uninstall) uninstall=1 ;;
        --no-backup) backup=0 ;;
        --root) [ $# -ge 2 ] || bad_usage "--root needs a directory"; root=$2; shift ;;
        --root=*) root=${1#--root=} ;;
        --pm) [ $# -ge 2 ] || bad_usage "--pm needs yum or dnf"; pm=$2; shift ;;
        --pm=*) pm=${1#--pm=} ;;
        --subset) [ $# -ge 2 ] || bad_usage "--subset needs a file"; subset=$2; shift ;;
        --subset=*) subset=${1#--subset=} ;;
        -h|--help) usage; exit 0 ;;
        -*) bad_usage "unknown argument '$1' (see --help)" ;;
        *) chosen+=("$1") ;;
    esac
    shift
done

case "$pm" in
    ""|yum|dnf) ;;
    *) bad_usage "--pm '$pm': use yum or dnf" ;;
esac
if [ -n "$root" ]; then
    [ -d "$root" ] || bad_usage "--root '$root' is not a directory"
    root=$(cd "$root" && pwd -P)
    if [ "$root" = / ]; then root=""; fi
fi
if [ -n "$subset" ]; then
    [ -f "$subset" ] || bad_usage "--subset '$subset' is not a file"
    [ ${#chosen[@]} -gt 0 ] || bad_usage "--subset needs the PACKAGEs this copy is for"
    subset=$(cd "$(dirname "$subset")" && pwd -P)/$(basename "$subset")
fi
if [ "$(id -u)" -ne 0 ] && [ "$dry_run" -eq 0 ]; then
    die "run as root (or with --dry-run)"
fi
if [ -z "$pm" ]; then
    if command -v yum >/dev/null 2>&1; then pm=yum
    elif command -v dnf >/dev/null 2>&1; then pm=dnf
    else die "neither yum nor dnf is installed"
    fi
fi
for tool in "$pm" rpm sha256sum; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done
case "$here" in
    *[!A-Za-z0-9/._+-]*) die "the bundle is in '$here': yum's file:// URL needs a path of" \
                             "letters, digits and / . _ + - only; move the directory" ;;
esac
cd "$here"
[ -f packages.txt ] || die "packages.txt is missing: $here is not a complete bundle"

mapfile -t packages < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' packages.txt)
[ ${#packages[@]} -gt 0 ] || die "packages.txt names no package"
# every package of the profile is checked for its signature, the chosen ones installed
signed_packages=("${packages[@]}")
if [ ${#chosen[@]} -gt 0 ]; then packages=(${chosen[@]+"${chosen[@]}"}); fi

repo_dir="$root/etc/yum.repos.d"
repo_file="$repo_dir/fate-local.repo"
rpm_cmd=(rpm)
pm_cmd=("$pm" -y "--setopt=reposdir=$repo_dir")
if [ -n "$root" ]; then
    rpm_cmd+=(--root "$root")
    # no release package in a fresh root to take $releasever from (the repo needs none)
    pm_cmd+=("--installroot=$root" --releasever=7)
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fate-install.XXXXXX")

signed=0
if [ -f "$key_file" ] || [ -f SHA256SUMS.asc ]; then signed=1; fi

# --- checks: nothing below changes the system until "changes" ----------------------------

verify_signature() {
    [ -f "$key_file" ] || die "SHA256SUMS.asc is present but $key_file is missing"
    [ -f SHA256SUMS.asc ] || die "$key_file is present but SHA256SUMS.asc is missing:" \
                                 "the bundle's checksums are not signed"
    command -v gpg >/dev/null 2>&1 || die "gpg is not installed (needed to check SHA256SUMS.asc)"
    local home="$tmp/gnupg" status fpr
    mkdir -m 700 "$home"
    gpg --homedir "$home" --batch --quiet --import "$key_file" >/dev/null 2>&1 \
        || die "$key_file is not an OpenPGP public key"
    if ! status=$(gpg --homedir "$home" --batch --status-fd 1 \
                      --verify SHA256SUMS.asc SHA256SUMS 2>/dev/null); then
        die "SHA256SUMS.asc: BAD signature, or not made by the key in $key_file"
    fi
    fpr=$(echo "$status" | awk '$2 == "VALIDSIG" { print $3; exit }')
    [ -n "$fpr" ] || die "SHA256SUMS.asc: no valid signature by the key in $key_file"
    key_version=$(gpg --homedir "$home" --batch --with-colons --list-keys 2>/dev/null \
                  | awk -F: '$1 == "pub" { print tolower(substr($5, 9)) "-" sprintf("%x", $6); exit }')
    say "SHA256SUMS signed by key $fpr"
}

# --subset: the files the list names must all be here; SHA256SUMS is checked for the
# files that are (coreutils 8.22 has no sha256sum --ignore-missing).
subset_sums() {
    local absent=() f
    while IFS= read -r f; do
        if [ -n "$f" ] && [ ! -f "$f" ]; then absent+=("$f"); fi
    done < "$subset"
    if [ ${#absent[@]} -gt 0 ]; then
        die "$subset names files this copy lacks (an incomplete copy):" \
            "${absent[*]+${absent[*]}}"
    fi
    awk 'NR == FNR { here[$0] = 1; next }
         { name = $0; sub(/^[0-9a-f]+  /, "", name); if (name in here) print }' \
        <(find . -type f | sed 's|^\./||') SHA256SUMS > "$tmp/SHA256SUMS.here"
}

verify_sums() {
    local listed unlisted=() f out sums=SHA256SUMS
    [ -f SHA256SUMS ] || die "SHA256SUMS is missing: the bundle cannot be checked"
    if [ -n "$subset" ]; then subset_sums; sums="$tmp/SHA256SUMS.here"; fi
    if ! out=$(sha256sum -c --quiet "$sums" 2>&1); then
        die "files do not match SHA256SUMS (corrupted or changed): $(echo "$out" | head -3 | tr '\n' ' ')"
    fi
    listed=$(awk '{ sub(/^[0-9a-f]+  /, ""); print }' SHA256SUMS)
    while IFS= read -r f; do
        f=${f#./}
        case "$f" in SHA256SUMS|SHA256SUMS.asc) continue ;; esac
        if ! grep -qxF -- "$f" <<<"$listed"; then unlisted+=("$f"); fi
    done < <(find . -type f)
    if [ ${#unlisted[@]} -gt 0 ]; then
        die "files not listed in SHA256SUMS: ${unlisted[*]+${unlisted[*]}}"
    fi
    if [ -n "$subset" ]; then
        say "all $(wc -l < "$sums") files here match SHA256SUMS (a subset: $subset)"
    else
        say "all files match SHA256SUMS"
    fi
}

verify_rpm_signatures() {
    # Our packages must carry the bundle key's signature. The OS packages beside them
    # keep their vendor's signature (CentOS's key, already on the host); what proves
    # they belong to this bundle is SHA256SUMS, whose signature was checked above.
    local db="$tmp/rpmdb" p f out
    mkdir "$db"
    rpm --dbpath "$db" --initdb
    rpm --dbpath "$db" --import "$key_file" || die "rpm cannot import $key_file"
    for p in ${signed_packages[@]+"${signed_packages[@]}"} "${packages[@]}"; do
        f=${file_of[$p]}
        out=$(LC_ALL=C rpm --dbpath "$db" -K "$f" 2>&1) || die "$f: $out"
        case "$out" in
            *"NOT OK"*|*MISSING*|*NOKEY*) die "$f: $out" ;;
            *pgp*|*PGP*|*signatures*) ;;
            *) die "$f is not signed, in a signed bundle: $out" ;;
        esac
    done
    say "every FATE package is signed by the bundle's key"
}

# name -> file and name -> NEVRA of every package in rpms/ (one rpm call; the output
# follows the order of the arguments).
read_packages() {
    local files=(rpms/*.rpm) lines=() i name nevra
    [ -f "${files[0]}" ] || die "rpms/ holds no package"
    mapfile -t lines < <(rpm -qp --nosignature \
        --qf '%{NAME} %{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\n' "${files[@]}" 2>/dev/null)
    [ ${#lines[@]} -eq ${#files[@]} ] || die "rpm cannot read every package in rpms/"
    for i in "${!files[@]}"; do
        read -r name nevra <<<"${lines[$i]}"
        file_of[$name]=${files[$i]}
        wanted[$name]=$nevra
    done
}

key_version=""
if [ "$uninstall" -eq 0 ]; then
    for f in repodata/repomd.xml fate-local.repo; do
        [ -f "$f" ] || die "$f is missing: $here is not a complete bundle"
    done
    if [ "$signed" -eq 1 ]; then verify_signature; fi
    verify_sums
fi
declare -A file_of=() wanted=()
read_packages
if [ -n "$subset" ]; then
    # a subset holds the chosen packages and what they need, not every one of packages.txt
    present=()
    for p in "${signed_packages[@]}"; do
        if [ -n "${wanted[$p]:-}" ]; then present+=("$p"); fi
    done
    signed_packages=(${present[@]+"${present[@]}"})
fi
for p in ${signed_packages[@]+"${signed_packages[@]}"} "${packages[@]}"; do
    [ -n "${wanted[$p]:-}" ] || die "$p is not a package of this bundle's rpms/"
done
if [ "$uninstall" -eq 0 ] && [ "$signed" -eq 1 ]; then verify_rpm_signatures; fi

missing=()
installed=()
for p in "${packages[@]}"; do
    if "${rpm_cmd[@]}" -q "${wanted[$p]}" >/dev/null 2>&1; then :; else missing+=("${wanted[$p]}"); fi
    if "${rpm_cmd[@]}" -q "$p" >/dev/null 2>&1; then installed+=("$p"); fi
done

sed "s|@BUNDLE_DIR@|$here|g" fate-local.repo > "$tmp/fate-local.repo"
repo_current=0
if [ -f "$repo_file" ] && cmp -s "$tmp/fate-local.repo" "$repo_file"; then repo_current=1; fi
key_current=1
if [ "$signed" -eq 1 ] && ! "${rpm_cmd[@]}" -q "gpg-pubkey-$key_version" >/dev/null 2>&1; then
    key_current=0
fi

next_step() {
    say "next: cp $here/party.yaml.example party.yaml; set partyid and the host addresses;"
    say "      then run 'fate-configure party.yaml' on every host of the party"
}

# --- changes --------------------------------------------------------------------------------

if [ "$uninstall" -eq 1 ]; then
    if [ ${#installed[@]} -eq 0 ] && [ ! -e "$repo_file" ]; then
        say "nothing to uninstall (no package of ${packages[*]} installed, no repo file):" \
            "nothing changed"
        exit 0
    fi
    if [ "$dry_run" -eq 1 ]; then
        if [ ${#installed[@]} -gt 0 ]; then
            say "would run: ${pm_cmd[*]} --disablerepo=* remove ${installed[*]+${installed[*]}}"
        fi
        if [ -e "$repo_file" ]; then say "would remove $repo_file"; fi
        say "dry run: nothing changed"
        exit 0
    fi
    if [ ${#installed[@]} -gt 0 ]; then
        "${pm_cmd[@]}" --disablerepo='*' remove ${installed[@]+"${installed[@]}"} \
            || die "$pm could not remove ${installed[*]+${installed[*]}}"
    fi
    rm -f "$repo_file"
    say "removed ${installed[*]+${installed[*]}} and $repo_file;" \
        "data under $root/data and configs under $root/etc/fate are kept"
    exit 0
fi

if [ ${#missing[@]} -eq 0 ] && [ "$repo_current" -eq 1 ] && [ "$key_current" -eq 1 ]; then
    say "already installed: ${packages[*]}; nothing changed"
    next_step
    exit 0
fi
# An upgrade of a host that fate-configure has set up: a backup first (fate-ctl backup
# writes a new time-stamped archive and never removes older ones).
upgrade_backup=0
if [ ${#missing[@]} -gt 0 ] && [ ${#installed[@]} -gt 0 ] && [ -z "$root" ] \
        && [ -f /etc/fate/party.yaml ]; then
    if [ "$backup" -eq 1 ]; then
        command -v fate-ctl >/dev/null 2>&1 || die "fate-ctl is missing: cannot take the" \
            "backup an upgrade starts with (install fate-tools, or pass --no-backup)"
        upgrade_backup=1
    else
        say "--no-backup: upgrading without a backup"
    fi
fi

if [ "$dry_run" -eq 1 ]; then
    if [ "$upgrade_backup" -eq 1 ]; then say "would run: fate-ctl backup (before the upgrade)"; fi
    if [ "$key_current" -eq 0 ]; then say "would run: ${rpm_cmd[*]} --import $here/$key_file"; fi
    if [ "$repo_current" -eq 0 ]; then say "would write $repo_file (baseurl=file://$here)"; fi
    if [ ${#missing[@]} -gt 0 ]; then
        say "would run: ${pm_cmd[*]} --disablerepo=* --enablerepo=fate-local install" \
            "${missing[*]+${missing[*]}}"
        say "would install or update: ${missing[*]+${missing[*]}}"
    fi
    say "dry run: nothing changed"
    exit 0
fi

if [ "$key_current" -eq 0 ]; then
    "${rpm_cmd[@]}" --import "$key_file" || die "rpm --import $key_file failed"
    say "imported $key_file (gpg-pubkey-$key_version)"
fi
if [ "$repo_current" -eq 0 ]; then
    mkdir -p "$repo_dir"
    cp "$tmp/fate-local.repo" "$repo_file.tmp"
    chmod 0644 "$repo_file.tmp"
    mv -f "$repo_file.tmp" "$repo_file"
    say "wrote $repo_file"
fi
if [ "$upgrade_backup" -eq 1 ]; then
    backup_out=$(fate-ctl backup 2>&1) || die "the backup before the upgrade failed:" \
        "$(echo "$backup_out" | tail -1); fix it, or pass --no-backup; nothing was upgraded"
    say "$(echo "$backup_out" | tail -1)"
fi
if [ ${#missing[@]} -gt 0 ]; then
    # The repo id stays fate-local from bundle to bundle: metadata cached from an earlier
    # bundle would hide this one's newer packages ("already installed, nothing to do").
    "${pm_cmd[@]}" --disablerepo='*' --enablerepo=fate-local clean metadata >/dev/null 2>&1 || :
    # By NEVRA: 'install NAME' of an installed package is "nothing to do" for dnf even when
    # the bundle is newer; 'install NAME-VERSION-RELEASE.ARCH' installs or upgrades (yum too).
    nevras=()
    for p in "${packages[@]}"; do nevras+=("${wanted[$p]}"); done
    "${pm_cmd[@]}" --disablerepo='*' --enablerepo=fate-local install ${nevras[@]+"${nevras[@]}"} \
        || die "$pm could not install ${packages[*]} (see its messages above)"
    for nevra in ${missing[@]+"${missing[@]}"}; do
        "${rpm_cmd[@]}" -q "$nevra" >/dev/null 2>&1 || die "$nevra is not installed after $pm ran"
    done
fi
say "installed: ${packages[*]}"
if [ "$upgrade_backup" -eq 1 ]; then
    say "to go back: '$pm history undo last' (or '$pm downgrade fate-*' with the older" \
        "bundle's repo); configs and MySQL data are kept. If MySQL's data format changed," \
        "restore the backup above with 'fate-ctl restore FILE'"
fi
next_step
