package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/gangerdev/ganger/app"
	"github.com/gangerdev/ganger/buildpack"
)

func testCommand(st *streams) *cli.Command {
	return &cli.Command{
		Name:  "test",
		Usage: "run the app's tests the platform's CI way: a test build, then the test command",
		Description: `Runs the tests as the platform's CI does. The app is built into a throwaway build dir
(the slug is not touched) with CI=true, each buildpack running bin/test-compile where it
has one and bin/compile otherwise; then app.json scripts.test-setup runs; then app.json
scripts.test, or else the last buildpack's "bin/test BUILD_DIR ENV_DIR ARTIFACTS_DIR".
Both run in the build dir with HOME set to it, .profile.d/*.sh and .profile sourced, and
CI=true, the buildpacks' config vars and the env files' variables exported. Their output,
TAP included, passes through unchanged; the whole log is .ganger/test.log and the
artifacts dir .ganger/test-artifacts.

ganger exits with the test command's exit code: 0 when the tests pass. When the tests
could not run (a failed build or test-setup, no test command) it exits 1 naming the
buildpack and the phase. The buildpacks are chosen as for "ganger build".

Examples:
   ganger test
   ganger test -b ./buildpacks/go -e .env.test`,
		Flags: append(appFlags(), buildpackFlags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return &app.UsageError{Err: fmt.Errorf("test: unexpected argument %q", c.Args().First()), Hint: "the test command is app.json scripts.test or the buildpack's bin/test"}
			}
			a, bo, err := loadBuild(c, st, "test")
			if err != nil {
				return err
			}
			ctx, _, stop := formationSignals(c.Context)
			defer stop()
			code, err := buildpack.Test(ctx, bo)
			if sig := app.InterruptCode(context.Cause(ctx)); sig != 0 {
				return &app.ExitError{Code: sig, Err: errors.New("test run interrupted")}
			}
			if err != nil {
				return app.BuildFailure("test", a.Root, err)
			}
			if code != 0 {
				return &app.ExitError{Code: code, Err: fmt.Errorf("tests failed: the test command exited with code %d; full log: %s", code, app.RelPath(filepath.Join(a.Root, buildpack.TestLogFile)))}
			}
			return nil
		},
	}
}
