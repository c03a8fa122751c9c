package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gangerdev/ganger/buildpack"
	"github.com/gangerdev/ganger/env"
	"github.com/gangerdev/ganger/procfile"
)

// sourceRelease is the source of the config vars the buildpacks' bin/release
// set.
const sourceRelease = "release"

// loadSlug reads the slug of "ganger build" for export --slug. Without
// one, buildpack's error says to run ganger build first.
func loadSlug(p *project) (*buildpack.Slug, error) {
	s, err := buildpack.LoadSlug(p.root)
	if err != nil {
		return nil, fmt.Errorf("export --slug: %w", err)
	}
	return s, nil
}

// slugProcfile is the Procfile processes run from the slug: the slug's copy
// of the project's Procfile, followed by the buildpacks' default process
// types it does not declare.
func slugProcfile(p *project, s *buildpack.Slug) (*procfile.Procfile, error) {
	abs, err := filepath.Abs(p.procfilePath)
	if err != nil {
		return nil, fmt.Errorf("procfile %s: %w", p.procfilePath, err)
	}
	rel, err := filepath.Rel(p.root, abs)
	if err != nil || !filepath.IsLocal(rel) {
		return nil, &usageError{
			err:  fmt.Errorf("export --slug: the Procfile %s is outside the app root %s, so the slug holds no copy of it", p.procfilePath, relPath(p.root)),
			hint: "name a Procfile inside the app with -f, or leave -f out",
		}
	}
	path := filepath.Join(s.Dir, rel)
	pf, err := procfile.ReadFile(path)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		if _, named := p.set.lookup("procfile"); named {
			return nil, fmt.Errorf("export --slug: %s is not in the slug; hint: run ganger build again", relPath(path))
		}
		pf = &procfile.Procfile{Path: path}
	default:
		return nil, err
	}
	for _, d := range s.Defaults(pf.Names()) {
		pf.Entries = append(pf.Entries, procfile.Entry{Name: d.Name, Command: d.Command})
	}
	if len(pf.Entries) == 0 {
		return nil, fmt.Errorf("export --slug: nothing to export: the slug has no %s and its buildpacks declared no default process types; hint: add a Procfile and run ganger build again", rel)
	}
	return pf, nil
}

// releaseConfig is the config vars of the slug's release, sorted by key.
// The env files are appended after them, so they win.
func releaseConfig(s *buildpack.Slug) []env.Var {
	cv := s.ConfigVars()
	keys := make([]string, 0, len(cv))
	for k := range cv {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]env.Var, 0, len(keys))
	for _, k := range keys {
		out = append(out, env.Var{Key: k, Value: cv[k], Source: sourceRelease})
	}
	return out
}

// slugCommand is the one shell line that runs a Procfile command from the
// slug as a dyno does (buildpack.ProcessCommand): HOME is the slug, which is
// the working directory every format sets (App.Root on the host, the image's
// work directory in containers), and the profile is sourced first. The
// formats need one line, so the profile script is joined into one.
func slugCommand(command string) string {
	argv := buildpack.ProcessCommand(command)
	argv[2] = oneLine(argv[2])
	words := make([]string, len(argv))
	for i, a := range argv {
		words[i] = shQuote(a)
	}
	return `export HOME="$PWD" && exec ` + strings.Join(words, " ")
}

// oneLine joins a shell script's lines: with "; " after a complete command,
// with a blank after a word that must be followed by more (do, then, &&,
// ...). It is meant for buildpack's profile script, a list of simple
// commands and loops without multi-line quotes or here-documents; a test
// runs both forms and compares them.
func oneLine(script string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(script, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if b.Len() > 0 {
			if continues(b.String()) {
				b.WriteByte(' ')
			} else {
				b.WriteString("; ")
			}
		}
		b.WriteString(line)
	}
	return b.String()
}

// continues reports whether s ends where a command list cannot: after a
// reserved word that opens a body, an operator or a separator.
func continues(s string) bool {
	for _, end := range []string{"&&", "||", "|", ";", "{", "("} {
		if strings.HasSuffix(s, end) {
			return true
		}
	}
	fields := strings.Fields(s)
	switch fields[len(fields)-1] {
	case "do", "then", "else", "elif", "in":
		return true
	}
	return false
}

// shQuote quotes s as one POSIX sh word.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
