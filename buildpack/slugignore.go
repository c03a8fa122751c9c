package buildpack

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// SlugIgnoreFile is the file, at the app's root, listing paths left out of
// the build dir (before any buildpack runs) and of the slug tarball.
const SlugIgnoreFile = ".slugignore"

// ignorePattern is one .slugignore line.
type ignorePattern struct {
	segs     []string // pattern split at "/"
	anchored bool     // contains a "/" (other than a trailing one): matched from the root
	dirOnly  bool     // ended in "/": matches directories only
}

// slugIgnore is a parsed .slugignore. The zero value matches nothing.
type slugIgnore struct {
	pats []ignorePattern
}

// parseSlugIgnore reads .slugignore syntax (gitignore-like, as on Heroku):
// one pattern a line; blank lines and lines starting with "#" are skipped;
// "*", "?" and "[...]" match within a path component, "**" across
// components; a pattern with a "/" in it (other than at the end) is matched
// against the whole path from the app root, one without against each name;
// a trailing "/" matches directories only; a leading "\" escapes "#" or
// "!". Negation ("!pattern") is not supported, as on Heroku: such lines are
// returned as warnings and ignored. A malformed pattern is an error naming
// NAME:LINE.
func parseSlugIgnore(r io.Reader, name string) (slugIgnore, []string, error) {
	var ig slugIgnore
	var warnings []string
	var errs []error
	br := bufio.NewReader(r)
	for line := 1; ; line++ {
		s, err := br.ReadString('\n')
		if s == "" && err != nil {
			if !errors.Is(err, io.EOF) {
				return ig, warnings, err
			}
			break
		}
		s = strings.TrimRight(s, "\r\n")
		s = strings.TrimRight(s, " \t")
		s = strings.TrimLeft(s, " \t")
		switch {
		case s == "", strings.HasPrefix(s, "#"):
			continue
		case strings.HasPrefix(s, "!"):
			warnings = append(warnings, fmt.Sprintf("%s:%d: negation (%q) is not supported in .slugignore; line ignored", name, line, s))
			continue
		case strings.HasPrefix(s, `\#`), strings.HasPrefix(s, `\!`):
			s = s[1:]
		}
		p := ignorePattern{}
		if strings.HasSuffix(s, "/") {
			p.dirOnly = true
			s = strings.TrimRight(s, "/")
		}
		if strings.HasPrefix(s, "/") {
			p.anchored = true
			s = strings.TrimLeft(s, "/")
		}
		if strings.Contains(s, "/") {
			p.anchored = true
		}
		if s == "" {
			continue
		}
		p.segs = strings.Split(s, "/")
		bad := false
		for _, seg := range p.segs {
			if _, err := path.Match(seg, ""); err != nil {
				errs = append(errs, fmt.Errorf("%s:%d: bad pattern %q: %w", name, line, s, err))
				bad = true
				break
			}
		}
		if !bad {
			ig.pats = append(ig.pats, p)
		}
	}
	return ig, warnings, errors.Join(errs...)
}

// readSlugIgnore parses dir/.slugignore; a missing file matches nothing.
func readSlugIgnore(dir string) (slugIgnore, []string, error) {
	f, err := os.Open(filepath.Join(dir, SlugIgnoreFile))
	if errors.Is(err, os.ErrNotExist) {
		return slugIgnore{}, nil, nil
	}
	if err != nil {
		return slugIgnore{}, nil, err
	}
	defer f.Close()
	return parseSlugIgnore(f, SlugIgnoreFile)
}

// match reports whether rel (slash-separated, relative to the app root)
// is ignored. Callers walk top-down and skip ignored directories, so a
// name-only pattern is checked against the last component alone.
func (ig slugIgnore) match(rel string, isDir bool) bool {
	if len(ig.pats) == 0 {
		return false
	}
	parts := strings.Split(rel, "/")
	for _, p := range ig.pats {
		if p.dirOnly && !isDir {
			continue
		}
		if !p.anchored {
			if ok, _ := path.Match(p.segs[0], parts[len(parts)-1]); ok {
				return true
			}
			continue
		}
		if matchSegs(p.segs, parts) {
			return true
		}
	}
	return false
}

// matchSegs matches path components against pattern components, "**"
// standing for any number of components (a trailing "**" for at least
// nothing: "a/**" matches "a" and everything under it). It runs in
// O(len(pat) × len(parts)) whatever the number of "**", so no pattern in
// a .slugignore or .gitignore can make it blow up.
func matchSegs(pat, parts []string) bool {
	// reach[j]: the pattern components seen so far match parts[:j].
	reach := make([]bool, len(parts)+1)
	next := make([]bool, len(parts)+1)
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
			for j := range parts {
				if reach[j] {
					if ok, _ := path.Match(p, parts[j]); ok {
						next[j+1] = true
						hit = true
					}
				}
			}
		}
		if !hit {
			return false
		}
		reach, next = next, reach
	}
	return reach[len(parts)]
}
