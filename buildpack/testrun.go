package buildpack

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Test runs the app's tests the Heroku CI way and returns the test
// command's exit code (0: passed). It builds into a throwaway build dir
// (the slug is not touched) with CI=true, running bin/test-compile where a
// buildpack has it and bin/compile otherwise; then app.json
// scripts.test-setup; then app.json scripts.test, or else the last
// buildpack's "bin/test BUILD_DIR ENV_DIR ARTIFACTS_DIR". Both scripts run
// in the build dir with HOME set to it, .profile.d/*.sh and .profile
// sourced, and CI=true, the buildpacks' release config vars and every
// config var exported. The output (TAP included) is streamed to opts.Out
// and kept in .ganger/test.log; the artifacts dir is .ganger/test-artifacts,
// emptied first and kept.
//
// err is set when the tests could not be run: a failed build, a failed
// test-setup (a *BuildError), or no test command at all.
func Test(ctx context.Context, opts BuildOptions) (exitCode int, err error) {
	s, err := newSession(opts, true)
	if err != nil {
		return -1, err
	}
	defer s.close()
	defer s.reportFailure("Test run failed", &err)
	if err := s.prepare(ctx); err != nil {
		return -1, err
	}
	for i := range s.packs {
		if err := s.runPack(ctx, i); err != nil {
			return -1, err
		}
	}
	aj, err := readAppJSON(s.appDir)
	if err != nil {
		return -1, s.fail("", PhaseTestSetup, -1, err)
	}
	setup, err := aj.script("test-setup")
	if err != nil {
		return -1, s.fail("", PhaseTestSetup, -1, err)
	}
	testCmd, err := aj.script("test")
	if err != nil {
		return -1, s.fail("", PhaseTest, -1, err)
	}

	artifacts := filepath.Join(s.appDir, ArtifactsDir)
	if err := os.RemoveAll(artifacts); err != nil {
		return -1, err
	}
	if err := os.Mkdir(artifacts, 0o700); err != nil {
		return -1, err
	}
	rt := s.testEnv()

	if setup != "" {
		fmt.Fprintf(s.out, "-----> Running test-setup: %s\n", setup)
		t0 := time.Now()
		code, err := s.exec(ctx, ProcessCommand(setup), rt, s.out, s.out)
		s.phase(PhaseTestSetup, "", t0)
		if err != nil {
			return -1, s.fail("", PhaseTestSetup, -1, err)
		}
		if code != 0 {
			return -1, s.fail("", PhaseTestSetup, code, nil)
		}
	}

	var argv []string
	bp := ""
	if testCmd != "" {
		fmt.Fprintf(s.out, "-----> Running test command: %s\n", testCmd)
		argv = ProcessCommand(testCmd)
	} else {
		for i := len(s.packs) - 1; i >= 0 && argv == nil; i-- {
			if t := filepath.Join(s.packs[i].dir, "bin", "test"); fileExists(t) {
				bp = s.packs[i].ref.Raw
				fmt.Fprintf(s.out, "-----> Running bin/test of %s\n", bp)
				argv = processArgv(t, s.buildDir, s.envDir, artifacts)
			}
		}
	}
	if argv == nil {
		return -1, s.fail("", PhaseTest, -1, fmt.Errorf("no test command: add scripts.test to %s or use a buildpack with bin/test", AppJSONFile))
	}
	t0 := time.Now()
	code, err := s.exec(ctx, argv, rt, s.out, s.out)
	s.phase(PhaseTest, bp, t0)
	if err != nil {
		return -1, s.fail(bp, PhaseTest, -1, err)
	}
	verdict := "Tests passed"
	if code != 0 {
		verdict = fmt.Sprintf("Tests failed (exit %d)", code)
	}
	s.printSummary(verdict, s.metadata())
	return code, nil
}

// testEnv is the environment of test-setup and test: the minimal build
// environment with HOME set to the build dir, the release's config vars,
// then every config var, then CI=true.
func (s *session) testEnv() []string {
	m := map[string]string{}
	for _, kv := range s.baseEnv {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	for k, v := range s.release.ConfigVars {
		m[k] = v
	}
	for _, v := range s.opts.Config {
		if validKey(v.Key) {
			m[v.Key] = v.Value
		}
	}
	m["HOME"] = s.buildDir
	m["CI"] = "true"
	return envList(m)
}
