package app

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"

	"github.com/gangerdev/ganger/buildpack"
	"github.com/gangerdev/ganger/env"
	"github.com/gangerdev/ganger/procfile"
)

// Running from the slug of "ganger build" (start --slug, run --slug,
// export --slug, check --boot): the slug's Procfile completed by the
// buildpacks' default process types, the release's config vars under the
// env files, and the slug dir as the working directory and HOME.

// sourceRelease is the source of the config vars the buildpacks' bin/release
// set.
const sourceRelease = "release"

// useSlug makes the app run from its slug: the slug's Procfile (with the
// default process types), and base overlaid by the release's config vars;
// Load overlays the env files on that. instanceVars then sets HOME to the
// slug and command runs through the slug's profile.
func (a *App) useSlug(base *env.Env) error {
	dir := a.opts.SlugDir
	if dir == "" {
		dir = buildpack.SlugDir
	}
	s, err := buildpack.LoadSlugAt(a.Root, dir)
	if err != nil {
		return fmt.Errorf("%s: %w", a.opts.Command, err)
	}
	pf, added, err := a.slugProcfile(s)
	if err != nil {
		return err
	}
	for _, v := range releaseConfig(s) {
		base.Set(v.Key, v.Value, v.Source)
	}
	a.Procfile, a.Slug, a.slugDefaults = pf, s, added
	return nil
}

// slugProcfile is the Procfile processes run from the slug: the slug's copy
// of the app's Procfile, followed by the buildpacks' default process types
// it does not declare; with no Procfile in the slug, those alone.
//
// added are the names of the default types appended.
func (a *App) slugProcfile(s *buildpack.Slug) (pf *procfile.Procfile, added []string, err error) {
	what := a.opts.Command
	abs, err := filepath.Abs(a.ProcfilePath)
	if err != nil {
		return nil, nil, fmt.Errorf("procfile %s: %w", a.ProcfilePath, err)
	}
	rel, err := filepath.Rel(a.Root, abs)
	if err != nil || !filepath.IsLocal(rel) {
		return nil, nil, usagef("name a Procfile inside the app with -f, or leave -f out",
			"%s: the Procfile %s is outside the app root %s, so the slug holds no copy of it", what, a.ProcfilePath, RelPath(a.Root))
	}
	path := filepath.Join(s.Dir, rel)
	pf, err = procfile.ReadFile(path)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		if a.opts.Procfile != "" {
			return nil, nil, fmt.Errorf("%s: %s is not in the slug; hint: run ganger build again", what, RelPath(path))
		}
		pf = &procfile.Procfile{Path: path}
	default:
		return nil, nil, err
	}
	for _, d := range s.Defaults(pf.Names()) {
		pf.Entries = append(pf.Entries, procfile.Entry{Name: d.Name, Command: d.Command})
		added = append(added, d.Name)
	}
	if len(pf.Entries) == 0 && !a.opts.ProcfileOptional { // a one-off needs none
		return nil, nil, fmt.Errorf("%s: nothing to run: the slug has no %s and its buildpacks declared no default process types; hint: add a Procfile and run ganger build again", what, rel)
	}
	return pf, added, nil
}

// releaseConfig is the config vars of the slug's release, sorted by key.
// The env files go after them, so they win.
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

// slugFormation is what start --slug runs when no type is named and no -m
// is given: the types of the slug's Procfile and, of the default process
// types it lacks, only web, as the platform scales up only web on a first
// deploy (the others are there to be named: start --slug console, run
// --slug console). nil means one of each (release aside); a formation of
// zeros, when that leaves nothing, as the platform would start nothing.
func slugFormation(entries []procfile.Entry, defaults []string) procfile.Formation {
	f := procfile.Formation{"all": 1}
	left := len(entries) - len(defaults)
	for _, name := range defaults {
		switch name {
		case "web":
			left++
		case procfile.Release: // left out anyway, and not to be counted as named
		default:
			f[name] = 0
		}
	}
	hasRelease := slices.ContainsFunc(entries, func(e procfile.Entry) bool { return e.Name == procfile.Release })
	if hasRelease && !slices.Contains(defaults, procfile.Release) {
		left--
	}
	switch {
	case left <= 0:
		return procfile.Formation{"all": 0}
	case len(f) == 1:
		return nil
	}
	return f
}

// command is the argv and working directory of a Procfile command: sh -c in
// the app root, or from the slug through its profile as a dyno runs it.
func (a *App) command(command string) (argv []string, dir string) {
	if a.Slug != nil {
		return buildpack.ProcessCommand(command), a.Slug.Dir
	}
	return procfile.ShellArgv(command), a.Root
}
