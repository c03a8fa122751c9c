package app

import (
	"path/filepath"

	"github.com/gangerdev/ganger/config"
	"github.com/gangerdev/ganger/env"
	"github.com/gangerdev/ganger/procfile"
	"github.com/gangerdev/ganger/runner/watch"
)

// CheckResult is what "ganger check" found: the Procfile's entries, the env
// files read, and every problem in them and in ganger.yml.
type CheckResult struct {
	Valid    bool             `json:"valid"`
	Procfile string           `json:"procfile"`
	Entries  []procfile.Entry `json:"entries"`
	EnvFiles []string         `json:"env_files"`
	Errors   []Problem        `json:"errors"`
}

// Check reads the app's files without running anything and reports every
// problem it finds, each with its file and line. Only an app root that
// cannot be found is an error.
func Check(o Options) (CheckResult, error) {
	root, pfPath, err := Locate(o)
	if err != nil {
		return CheckResult{}, err
	}
	res := CheckResult{Procfile: pfPath, Entries: []procfile.Entry{}, EnvFiles: []string{}, Errors: []Problem{}}
	var problems []error
	pf, err := procfile.ReadFile(pfPath)
	if err != nil {
		problems = append(problems, err)
	} else {
		res.Entries = append(res.Entries, pf.Entries...)
	}
	res.EnvFiles = append(res.EnvFiles, EnvFiles(o, root)...)
	if e, err := readEnv(env.FromEnviron(o.Environ), res.EnvFiles); err != nil {
		problems = append(problems, err)
	} else if err := e.CheckEntries(); err != nil {
		problems = append(problems, err) // what no program could be given
	}
	// ganger.yml is checked against the Procfile even when it has problems
	// of its own: a misspelt key must not hide an unknown process.
	cf, err := config.ReadFile(RelPath(filepath.Join(root, config.FileName)))
	if err != nil {
		problems = append(problems, err)
	}
	if cf != nil && pf != nil {
		if err := cf.Check(pf.Names(), watch.CheckGlob); err != nil {
			problems = append(problems, err)
		}
	}
	for _, err := range problems {
		res.Errors = append(res.Errors, problemsOf(err)...)
	}
	res.Valid = len(res.Errors) == 0
	return res, nil
}
