package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/gangerdev/ganger/app"
	"github.com/gangerdev/ganger/buildpack"
)

// buildpackFlags choose and fetch the buildpacks of build and test.
func buildpackFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "buildpack", Aliases: []string{"b"}, Usage: "build with buildpack `REF` (repeatable, in order): a directory, file://PATH, a git URL[#REF], a tarball URL or file (pinned with #sha256=HEX) or namespace/name"},
		&cli.BoolFlag{Name: "refresh", Usage: "fetch git and tarball buildpacks again instead of using the cached copy"},
		&cli.StringFlag{Name: "registry", Usage: "the URL `TEMPLATE` namespace/name expands to, with {namespace} and {name} (default: Heroku's buildpack registry)"},
		&cli.StringSliceFlag{Name: "detect", Usage: "the ordered buildpack `REF`s tried by bin/detect when nothing names one (default: the platform's languages; empty: no detection)"},
		&cli.StringFlag{Name: "stack", Usage: "the `STACK` the buildpacks see (default: STACK from the env files, else heroku-24)"},
		&cli.StringFlag{Name: "buildpack-cache", Usage: "the `DIR` fetched buildpacks are cached in (default: ganger/buildpacks in the user cache dir)"},
		&cli.StringFlag{Name: "commit", Usage: "build exactly this commit's tree (`REV`: a commit, branch or tag), not the working tree: what a push sends"},
	}
}

func buildCommand(st *streams) *cli.Command {
	return &cli.Command{
		Name:  "build",
		Usage: "build the app with buildpacks into the slug .ganger/slug",
		Description: `Builds the app the way the platform does, with classic buildpacks (bin/detect,
bin/compile, bin/release), on this machine: the files git would send (tracked, and untracked
but not ignored; outside git, what .gitignore allows; never an untracked env file), less
what .slugignore lists, or with --commit REV exactly that commit's tree, are compiled in a fresh build dir with a persistent cache dir
(.ganger/cache) and an ENV_DIR holding the env files' variables. Only when every step
succeeds does the result replace the slug .ganger/slug (with its metadata,
.ganger-slug.json); a failure names the buildpack and the phase, exits 1 and keeps the
previous slug. The whole log is .ganger/build.log. The duration of each phase is printed.

The buildpacks, first rule that applies: -b/--buildpack (in order), BUILDPACK_URL in the
env files, the .buildpacks file, app.json buildpacks[].url, else the first of --detect
whose bin/detect passes. Git and tarball buildpacks are fetched once into the user cache
dir and reused without the network; --refresh fetches them again.

Examples:
   ganger build                            # .buildpacks, app.json or detection
   ganger build -b ./buildpacks/go         # a local buildpack
   ganger build -b https://github.com/heroku/heroku-buildpack-go.git#v200
   ganger build -b heroku/nodejs -b heroku/go --refresh
   ganger build --registry 'https://github.com/{namespace}/heroku-buildpack-{name}.git' -b heroku/go
   ganger build --tarball slug.tgz         # also write the slug as a tarball
   ganger start --slug                     # then run it`,
		Flags: append(append(appFlags(), buildpackFlags()...),
			&cli.StringFlag{Name: "tarball", Usage: "also write the slug as a gzipped tarball `FILE`, mode 0600 (.slugignore and .git left out)"}),
		Action: func(c *cli.Context) error {
			return runBuild(c, st)
		},
	}
}

func runBuild(c *cli.Context, st *streams) error {
	if c.NArg() > 0 {
		return &app.UsageError{Err: fmt.Errorf("build: unexpected argument %q", c.Args().First()), Hint: "name buildpacks with -b REF; the app root with -d DIR"}
	}
	a, bo, err := loadBuild(c, st, "build")
	if err != nil {
		return err
	}
	// The first interrupt cancels ctx, which ends the running buildpack's
	// process group.
	ctx, _, stop := formationSignals(c.Context)
	defer stop()
	if _, err := buildpack.Build(ctx, bo); err != nil {
		if code := app.InterruptCode(context.Cause(ctx)); code != 0 {
			return &app.ExitError{Code: code, Err: errors.New("build interrupted; the previous slug is unchanged")}
		}
		return app.BuildFailure("build", a.Root, err)
	}
	return nil
}

// loadBuild loads the app and resolves the options of a build or test run
// of it; what names the command.
func loadBuild(c *cli.Context, st *streams, what string) (*app.App, buildpack.BuildOptions, error) {
	set, o, err := loadOptions(c, st, app.NeedSource)
	if err != nil {
		return nil, buildpack.BuildOptions{}, err
	}
	o.ProcfileOptional = true
	a, err := app.Load(o)
	if err != nil {
		return nil, buildpack.BuildOptions{}, err
	}
	b, err := buildOptions(c, set, st)
	if err != nil {
		return nil, buildpack.BuildOptions{}, err
	}
	if what == "build" {
		if b.Tarball, err = set.outputPath("tarball"); err != nil {
			return nil, buildpack.BuildOptions{}, err
		}
	}
	bo, err := a.BuildOptions(b, what)
	return a, bo, err
}

// buildOptions reads the flags that choose and fetch the buildpacks.
func buildOptions(c *cli.Context, set *settings, st *streams) (app.Build, error) {
	cache, err := set.outputPath("buildpack-cache")
	if err != nil {
		return app.Build{}, err
	}
	b := app.Build{
		Buildpacks: set.list("buildpack"),
		Registry:   set.str("registry", ""),
		Stack:      set.str("stack", ""),
		CacheDir:   cache,
		Commit:     c.String("commit"),
		Out:        st.out,
	}
	if c.IsSet("buildpack") {
		// Typed on the command line: relative to where it was typed.
		wd, err := workDir()
		if err != nil {
			return b, err
		}
		b.WorkDir = wd
	}
	if _, ok := set.lookup("detect"); ok {
		d := set.list("detect")
		b.Detect = &d
	}
	b.Refresh, err = set.bool("refresh")
	return b, err
}
