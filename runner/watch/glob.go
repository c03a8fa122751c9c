package watch

import (
	"strings"

	"github.com/gangerdev/ganger/internal/gitignore"
)

// Match reports whether relpath, a slash-separated path relative to the app
// root, matches pattern. It is the matcher for the per-process watch globs
// of the config file:
//
//   - "/" separates segments; "*" matches any run of characters within one
//     segment (dot files included), "?" one character, "[a-z]" and "[!a-z]"
//     (or "[^a-z]") a character class, "\x" the literal x;
//   - a segment that is exactly "**" matches zero or more whole segments, so
//     "**/*.go" matches "main.go" and "cmd/web/main.go", and "worker/**"
//     matches "worker" and everything below it;
//   - the pattern is anchored at the root: "*.go" matches "main.go" but not
//     "cmd/main.go" (write "**/*.go" for that). A leading "./" or "/" and a
//     trailing "/" are dropped.
//
// A malformed pattern matches nothing; check patterns once with CheckGlob
// when loading the config.
func Match(pattern, relpath string) bool {
	g, err := gitignore.CompileGlob(trimGlob(pattern))
	return err == nil && g.Match(splitPath(relpath))
}

// CheckGlob returns an error when pattern is malformed (an unclosed "[" or a
// trailing "\"), so a config loader can reject it with the file and line.
func CheckGlob(pattern string) error {
	_, err := gitignore.CompileGlob(trimGlob(pattern))
	return err
}

func trimGlob(pattern string) string {
	pattern = strings.TrimPrefix(pattern, "./")
	pattern = strings.TrimLeft(pattern, "/")
	return strings.TrimRight(pattern, "/")
}

func splitPath(rel string) []string {
	rel = strings.Trim(rel, "/")
	if rel == "" || rel == "." {
		return nil
	}
	return strings.Split(rel, "/")
}
