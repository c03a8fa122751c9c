package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/gangerdev/ganger/buildpack"
)

// buildpackFlags choose and fetch the buildpacks of build and test.
func buildpackFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "buildpack", Aliases: []string{"b"}, Usage: "build with buildpack `REF` (repeatable, in order): a directory, file://PATH, a git URL[#REF], a tarball URL or namespace/name"},
		&cli.BoolFlag{Name: "refresh", Usage: "fetch git and tarball buildpacks again instead of using the cached copy"},
		&cli.StringFlag{Name: "registry", Usage: "the URL `TEMPLATE` namespace/name expands to, with {namespace} and {name} (default: Heroku's buildpack registry)"},
		&cli.StringSliceFlag{Name: "detect", Usage: "the ordered buildpack `REF`s tried by bin/detect when nothing names one (default: the platform's languages; empty: no detection)"},
		&cli.StringFlag{Name: "stack", Usage: "the `STACK` the buildpacks see (default: STACK from the env files, else heroku-24)"},
		&cli.StringFlag{Name: "buildpack-cache", Usage: "the `DIR` fetched buildpacks are cached in (default: ganger/buildpacks in the user cache dir)"},
	}
}

func buildCommand(st *streams) *cli.Command {
	return &cli.Command{
		Name:  "build",
		Usage: "build the app with buildpacks into the slug .ganger/slug",
		Description: `Builds the app the way the platform does, with classic buildpacks (bin/detect,
bin/compile, bin/release), on this machine: a copy of the app (without .git, .ganger and
what .slugignore lists) is compiled in a fresh build dir with a persistent cache dir
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
			&cli.StringFlag{Name: "tarball", Usage: "also write the slug as a gzipped tarball `FILE` (.slugignore and .git left out)"}),
		Action: func(c *cli.Context) error {
			return runBuild(c, st)
		},
	}
}

func runBuild(c *cli.Context, st *streams) error {
	if c.NArg() > 0 {
		return &usageError{err: fmt.Errorf("build: unexpected argument %q", c.Args().First()), hint: "name buildpacks with -b REF; the app root with -d DIR"}
	}
	p, opts, err := buildOptions(c, st, "build")
	if err != nil {
		return err
	}
	opts.Tarball = p.set.str("tarball", "")
	ctx, stop := interruptible(c.Context)
	defer stop()
	if _, err := buildpack.Build(ctx, opts); err != nil {
		if code := stop(); code != 0 {
			return &exitError{code: code, err: errors.New("build interrupted; the previous slug is unchanged")}
		}
		return buildFailure("build", p, err)
	}
	return nil
}

// buildOptions resolves the project, the buildpacks and the fetch settings
// shared by build and test.
func buildOptions(c *cli.Context, st *streams, what string) (*project, buildpack.BuildOptions, error) {
	var opts buildpack.BuildOptions
	p, err := loadProjectOpt(c, st, true)
	if err != nil {
		return nil, opts, err
	}
	config := envFileVars(p.env)
	configMap := make(map[string]string, len(config))
	for _, v := range config {
		configMap[v.Key] = v.Value
	}
	sel := buildpack.SelectOptions{
		AppDir:   p.root,
		Flags:    p.set.list("buildpack"),
		Config:   configMap,
		Registry: p.set.str("registry", ""),
	}
	if c.IsSet("buildpack") {
		// Typed on the command line: relative to where it was typed.
		if sel.WorkDir, err = os.Getwd(); err != nil {
			return nil, opts, fmt.Errorf("%s: %w", what, err)
		}
	}
	if _, ok := p.set.lookup("detect"); ok {
		sel.Detect = append([]string{}, p.set.list("detect")...)
	}
	selection, err := buildpack.Select(sel)
	if err != nil {
		err = fmt.Errorf("%s: choosing the buildpacks: %w", what, err)
		if c.IsSet("buildpack") {
			return nil, opts, &usageError{err: err, hint: "example: ganger " + what + " -b ./buildpacks/go"}
		}
		return nil, opts, err
	}
	refresh, err := p.set.bool("refresh")
	if err != nil {
		return nil, opts, err
	}
	refs := make([]string, len(selection.Refs))
	for i, r := range selection.Refs {
		refs[i] = r.Raw
	}
	if selection.Detect {
		fmt.Fprintf(st.out, "-----> Detecting the buildpack among: %s\n", strings.Join(refs, ", "))
	} else {
		fmt.Fprintf(st.out, "-----> Buildpacks (from %s): %s\n", selection.Source, strings.Join(refs, ", "))
	}
	opts = buildpack.BuildOptions{
		AppDir:     relPath(p.root),
		Buildpacks: selection.Refs,
		Detect:     selection.Detect,
		Config:     config,
		Environ:    st.environ,
		Fetch: buildpack.FetchOptions{
			CacheDir: p.set.str("buildpack-cache", buildpackCacheDir(st)),
			Refresh:  refresh,
			Environ:  st.environ,
		},
		Stack: p.set.str("stack", ""),
		Out:   st.out,
	}
	return p, opts, nil
}

// buildpackCacheDir is where fetched buildpacks are kept: ganger/buildpacks
// in the user cache dir (os.UserCacheDir, from the injected environment),
// or "" (the app's .ganger/buildpacks) when there is none.
func buildpackCacheDir(st *streams) string {
	dir := st.getenv("XDG_CACHE_HOME")
	if !filepath.IsAbs(dir) || runtime.GOOS == "darwin" {
		home := st.getenv("HOME")
		if !filepath.IsAbs(home) {
			return ""
		}
		dir = filepath.Join(home, ".cache")
		if runtime.GOOS == "darwin" {
			dir = filepath.Join(home, "Library", "Caches")
		}
	}
	return filepath.Join(dir, "ganger", "buildpacks")
}

// buildFailure words a failed build or test run: buildpack's BuildError
// already names the buildpack, the phase and the log.
func buildFailure(what string, p *project, err error) error {
	var be *buildpack.BuildError
	if errors.As(err, &be) && what == "build" {
		if _, serr := os.Stat(filepath.Join(p.root, buildpack.SlugDir)); serr == nil {
			return fmt.Errorf("%s: %w\nthe previous slug in %s is unchanged", what, err, relPath(filepath.Join(p.root, buildpack.SlugDir)))
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// interruptible is ctx cancelled by SIGINT, SIGTERM or SIGHUP, which end
// the running buildpack's process group. stop releases the signals and
// returns 128+n when signal n ended the context, else 0.
func interruptible(ctx context.Context) (context.Context, func() int) {
	ctx, cancel := context.WithCancelCause(ctx)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			cancel(signalCause{s.(syscall.Signal)})
		case <-done:
		}
	}()
	stopped := false
	return ctx, func() int {
		if !stopped {
			stopped = true
			signal.Stop(sigs)
			close(done)
		}
		var sc signalCause
		if errors.As(context.Cause(ctx), &sc) {
			return 128 + int(sc.sig)
		}
		return 0
	}
}
