# shellcheck shell=bash
# Shared helpers for .ci/run, .ci/test and .ci/install. Source it; do not run it.

export PATH="/usr/local/go/bin:$PATH"
if command -v go >/dev/null 2>&1; then
	PATH="$(go env GOPATH)/bin:$PATH"
fi
export PATH

# The repository root, whatever the caller's working directory.
CI_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

ci_log() { printf '==> %s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ci_modules prints the directory of every Go module in the repository,
# relative to CI_ROOT ("." for the root module), one a line, sorted. Modules
# under testdata/ or vendor/ are fixtures, not modules of the project.
# Untracked (not ignored) modules count too, so that a developer's new module
# is checked before it is committed.
ci_modules() {
	(
		cd "$CI_ROOT" || exit 1
		if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
			git ls-files --cached --others --exclude-standard -- 'go.mod' '*/go.mod'
		else
			find . -name go.mod -not -path './.git/*' | sed 's|^\./||'
		fi |
			grep -Ev '(^|/)(testdata|vendor)/' |
			while IFS= read -r f; do
				[ -e "$f" ] || continue # deleted in the work tree
				d="$(dirname "$f")"
				printf '%s\n' "$d"
			done | sort -u
	)
}

# ci_go_files DIR prints the .go files of the module in DIR, without those of
# nested modules and of the folders the go tool ignores (testdata, vendor,
# names starting with "." or "_").
ci_go_files() {
	(
		cd "$1" || exit 1
		find . -mindepth 1 \
			\( -type d \( -name testdata -o -name vendor -o -name '.*' -o -name '_*' \) -prune \) -o \
			\( -type d -exec test -e '{}/go.mod' ';' -prune \) -o \
			\( -type f -name '*.go' -print \)
	)
}
