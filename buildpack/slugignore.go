package buildpack

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gangerdev/ganger/internal/gitignore"
)

// SlugIgnoreFile is the file, at the app's root, listing paths left out of
// the build dir (before any buildpack runs) and of the slug tarball.
const SlugIgnoreFile = ".slugignore"

// slugIgnore is a parsed .slugignore. The zero value matches nothing.
type slugIgnore struct {
	pats []gitignore.Pattern
}

// parseSlugIgnore reads .slugignore syntax (gitignore's, as on Heroku,
// with the differences below): one pattern a line; blank lines and lines
// starting with "#" are skipped; "*", "?", "[...]" and "[!...]" match
// within a path component, "**" across components; a pattern with a "/"
// in it (other than at the end) is matched against the whole path from
// the app root, one without against each name; a trailing "/" matches
// directories only; a leading "\" escapes "#" or "!". Unlike .gitignore,
// blanks (spaces and tabs) are trimmed at both ends of a line, escaped or
// not, and a trailing "/**" matches the directory as well as what is in
// it. Negation ("!pattern") is not supported, as on Heroku: such lines
// are returned as warnings and ignored. A malformed pattern is an error
// naming NAME:LINE.
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
		s = strings.Trim(s, " \t")
		switch {
		case s == "", strings.HasPrefix(s, "#"):
			continue
		case strings.HasPrefix(s, "!"):
			warnings = append(warnings, fmt.Sprintf("%s:%d: negation (%q) is not supported in .slugignore; line ignored", name, line, s))
			continue
		}
		// A trailing "/**" matches the directory too: "vendor/**" leaves
		// vendor out of the slug, not just what is in it.
		p, ok, err := gitignore.ParseLine(s, gitignore.Options{StarStarDir: true})
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s:%d: %w", name, line, err))
		case ok:
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
	return gitignore.Apply(ig.pats, strings.Split(rel, "/"), isDir, false)
}
