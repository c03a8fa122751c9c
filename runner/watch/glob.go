package watch

import (
	"fmt"
	"path"
	"strings"
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
	segs, err := compileGlob(trimGlob(pattern))
	if err != nil {
		return false
	}
	return matchSegs(segs, splitPath(relpath))
}

// CheckGlob returns an error when pattern is malformed (an unclosed "[" or a
// trailing "\"), so a config loader can reject it with the file and line.
func CheckGlob(pattern string) error {
	_, err := compileGlob(trimGlob(pattern))
	return err
}

func trimGlob(pattern string) string {
	pattern = strings.TrimPrefix(pattern, "./")
	pattern = strings.TrimLeft(pattern, "/")
	return strings.TrimRight(pattern, "/")
}

// compileGlob splits a slash-separated pattern into segments, rewrites the
// gitignore class negation "[!" into the "[^" path.Match understands and
// validates every segment.
func compileGlob(pattern string) ([]string, error) {
	var segs []string
	for _, s := range strings.Split(pattern, "/") {
		if s == "" {
			continue // "a//b" is "a/b"
		}
		s = negateClasses(s)
		if s != "**" {
			if _, err := path.Match(s, ""); err != nil {
				return nil, fmt.Errorf("bad glob %q: %w (close every \"[\" and do not end with \"\\\")", pattern, err)
			}
		}
		segs = append(segs, s)
	}
	return segs, nil
}

// negateClasses turns "[!" into "[^" outside escapes.
func negateClasses(s string) string {
	if !strings.Contains(s, "[!") {
		return s
	}
	b := []byte(s)
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++ // skip the escaped byte
		case '[':
			if i+1 < len(b) && b[i+1] == '!' {
				b[i+1] = '^'
			}
			// Skip to the end of the class so a "[" inside it is literal.
			for i++; i < len(b) && b[i] != ']'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		}
	}
	return string(b)
}

func splitPath(rel string) []string {
	rel = strings.Trim(rel, "/")
	if rel == "" || rel == "." {
		return nil
	}
	return strings.Split(rel, "/")
}

// matchSegs matches pattern segments against path segments. "**" matches
// zero or more segments. It runs in O(len(pat) × len(name)) whatever the
// number of "**", so no pattern can make it blow up.
func matchSegs(pat, name []string) bool {
	// reach[j]: the pattern segments seen so far match name[:j].
	var bufA, bufB [32]bool
	reach, next := bufA[:0], bufB[:0]
	if len(name)+1 > len(bufA) {
		reach, next = make([]bool, 0, len(name)+1), make([]bool, 0, len(name)+1)
	}
	reach = reach[:len(name)+1]
	next = next[:len(name)+1]
	reach[0] = true
	for _, p := range pat {
		clear(next)
		hit := false
		if p == "**" {
			for j := range reach {
				hit = hit || reach[j]
				next[j] = hit
			}
		} else {
			for j := 0; j < len(name); j++ {
				if reach[j] && segMatch(p, name[j]) {
					next[j+1] = true
					hit = true
				}
			}
		}
		if !hit {
			return false
		}
		reach, next = next, reach
	}
	return reach[len(name)]
}

// segMatch matches one validated segment pattern against one name.
func segMatch(p, name string) bool {
	ok, _ := path.Match(p, name) // p was validated by compileGlob
	return ok
}
