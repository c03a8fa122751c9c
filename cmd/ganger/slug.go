package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/gangerdev/ganger/buildpack"
	"github.com/gangerdev/ganger/env"
	"github.com/gangerdev/ganger/procfile"
)

// Running from the slug of "ganger build" (start --slug, run --slug,
// export --slug): the slug's Procfile completed by the buildpacks' default
// process types, the release's config vars under the env files, and the
// slug dir as the working directory and HOME.

// sourceRelease is the source of the config vars the buildpacks' bin/release
// set.
const sourceRelease = "release"

// loadSlug reads the slug of "ganger build". Without one, buildpack's error
// says to run ganger build first. what names the command in errors
// ("start --slug").
func loadSlug(p *project, what string) (*buildpack.Slug, error) {
	s, err := buildpack.LoadSlug(p.root)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return s, nil
}

// slugProcfile is the Procfile processes run from the slug: the slug's copy
// of the project's Procfile, followed by the buildpacks' default process
// types it does not declare; with no Procfile in the slug, those alone.
//
// added are the names of the default types appended.
func slugProcfile(p *project, s *buildpack.Slug, what string) (pf *procfile.Procfile, added []string, err error) {
	abs, err := filepath.Abs(p.procfilePath)
	if err != nil {
		return nil, nil, fmt.Errorf("procfile %s: %w", p.procfilePath, err)
	}
	rel, err := filepath.Rel(p.root, abs)
	if err != nil || !filepath.IsLocal(rel) {
		return nil, nil, &usageError{
			err:  fmt.Errorf("%s: the Procfile %s is outside the app root %s, so the slug holds no copy of it", what, p.procfilePath, relPath(p.root)),
			hint: "name a Procfile inside the app with -f, or leave -f out",
		}
	}
	path := filepath.Join(s.Dir, rel)
	pf, err = procfile.ReadFile(path)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		if _, named := p.set.lookup("procfile"); named {
			return nil, nil, fmt.Errorf("%s: %s is not in the slug; hint: run ganger build again", what, relPath(path))
		}
		pf = &procfile.Procfile{Path: path}
	default:
		return nil, nil, err
	}
	for _, d := range s.Defaults(pf.Names()) {
		pf.Entries = append(pf.Entries, procfile.Entry{Name: d.Name, Command: d.Command})
		added = append(added, d.Name)
	}
	if len(pf.Entries) == 0 {
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

// useSlug makes the project run from its slug: the slug's Procfile (with
// the default process types), and the environment ganger's own, overlaid by
// the release's config vars, overlaid by the env files. instanceEnv then
// sets HOME to the slug and command runs through the slug's profile.
func (p *project) useSlug(what string) error {
	s, err := loadSlug(p, what)
	if err != nil {
		return err
	}
	pf, added, err := slugProcfile(p, s, what)
	if err != nil {
		return err
	}
	base := env.FromEnviron(p.set.st.environ)
	for _, v := range releaseConfig(s) {
		base.Set(v.Key, v.Value, v.Source)
	}
	if err := p.readEnv(base); err != nil {
		return err
	}
	p.pf, p.slug, p.slugDefaults = pf, s, added
	return nil
}

// slugFormation is what start --slug runs when no type is named and no -m
// is given: the types of the slug's Procfile and, of the default process
// types it lacks, only web, as the platform scales up only web on a first
// deploy (the others are there to be named: start --slug console, run
// --slug console). When that leaves nothing, every type. nil means one of
// each (release aside).
func (p *project) slugFormation() procfile.Formation {
	f := procfile.Formation{"all": 1}
	left := len(p.pf.Entries) - len(p.slugDefaults)
	for _, name := range p.slugDefaults {
		switch name {
		case "web":
			left++
		case procfile.Release: // left out anyway, and not to be counted as named
		default:
			f[name] = 0
		}
	}
	if _, _, ok := p.pf.Lookup(procfile.Release); ok && !slices.Contains(p.slugDefaults, procfile.Release) {
		left--
	}
	if left <= 0 || len(f) == 1 {
		return nil
	}
	return f
}

// command is the argv and working directory of a Procfile command: sh -c in
// the app root, or from the slug through its profile as a dyno runs it.
func (p *project) command(command string) (argv []string, dir string) {
	if p.slug != nil {
		return buildpack.ProcessCommand(command), p.slug.Dir
	}
	return procfile.ShellArgv(command), p.root
}

// slugFlags run start and run from the slug.
func slugFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "slug", Usage: "run from the slug of ganger build (.ganger/slug) as a dyno does: cwd and HOME the slug, its profile sourced"},
		&cli.BoolFlag{Name: "no-release", Usage: "with --slug: skip the release phase (the release type run once before the formation)"},
	}
}

// loadProjectFor loads the project for start or run, from the slug with
// --slug (the flag or GANGER_SLUG, as for export: it decides whether the
// app's own Procfile is needed, so it is read before .foreman).
func loadProjectFor(c *cli.Context, st *streams, cmd string) (*project, error) {
	slug, err := boolFlag(c, st, "slug")
	if err != nil {
		return nil, err
	}
	p, err := loadProjectOpt(c, st, slug || cmd == "run")
	if err != nil {
		return nil, err
	}
	if slug {
		if err := p.useSlug(cmd + " --slug"); err != nil {
			return nil, err
		}
	}
	return p, nil
}
