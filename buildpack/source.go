package buildpack

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gangerdev/ganger/env"
)

// What reaches the build dir is what git would send: the files git tracks
// plus the untracked files it does not ignore (so uncommitted edits count),
// minus .slugignore. Outside a git repository the .gitignore files are
// applied the same way. An env file (.env, .env.*, or a file the config
// vars came from) reaches it only when git tracks it. With
// BuildOptions.Commit, exactly that commit's tree is used instead.

// appSource says which paths of the app's working tree reach the build
// dir. keep is asked about each path top-down, parents first, by one
// goroutine.
type appSource struct {
	how      string // shown to the user: where the list came from
	keep     func(rel string, isDir bool) bool
	envLeft  []string // env files left out, relative to the app
	warnings []string
	ignores  *gitignoreTree // outside git: its warnings too
}

func (a *appSource) allWarnings() []string {
	if a.ignores == nil {
		return a.warnings
	}
	return append(a.warnings[:len(a.warnings):len(a.warnings)], a.ignores.warnings...)
}

// isEnvFileName reports whether the last component of rel names an env
// file by convention: .env or .env.SOMETHING.
func isEnvFileName(rel string) bool {
	b := path.Base(rel)
	return b == ".env" || strings.HasPrefix(b, ".env.")
}

// envFilesIn returns the env files the config vars came from that are
// inside appDir, as slash-separated paths relative to it.
func envFilesIn(appDir string, vars []env.Var) map[string]bool {
	out := map[string]bool{}
	for _, v := range vars {
		if v.Source == "" || v.Source == env.SourceShell || v.Source == env.SourceGanger {
			continue
		}
		abs, err := filepath.Abs(v.Source)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(appDir, abs); err == nil && filepath.IsLocal(rel) {
			out[filepath.ToSlash(rel)] = true
		}
	}
	return out
}

// listSource decides what of the app in appDir reaches the build dir: git's
// list when appDir is in a git working tree (and not ignored there), else
// every file the .gitignore files do not ignore. isEnv says whether a path
// is an env file; an untracked one is left out.
func listSource(ctx context.Context, appDir string, environ []string, isEnv func(rel string) bool) (*appSource, error) {
	src := &appSource{}
	inTree, why, err := gitWorkTree(ctx, appDir, environ)
	if err != nil {
		return nil, err
	}
	if inTree {
		files, dirs, envLeft, err := gitFiles(ctx, appDir, "", environ, isEnv)
		if err != nil {
			return nil, err
		}
		src.how = "the files git lists: tracked, and untracked but not ignored"
		src.envLeft = envLeft
		src.keep = func(rel string, isDir bool) bool {
			if isDir {
				return dirs[rel]
			}
			return files[rel]
		}
		return src, nil
	}
	if why != "" {
		src.warnings = append(src.warnings, why)
	}
	src.how = "not a git working tree: the files its .gitignore files do not ignore"
	src.ignores = newGitignoreTree(appDir)
	src.keep = func(rel string, isDir bool) bool {
		if src.ignores.ignored(rel, isDir) {
			return false
		}
		if !isDir && isEnv(rel) {
			src.envLeft = append(src.envLeft, rel)
			return false
		}
		return true
	}
	return src, nil
}

// gitWorkTree reports whether appDir is in a git working tree whose
// .gitignore does not ignore appDir itself. When git is missing or the
// directory is ignored, it says so in why.
func gitWorkTree(ctx context.Context, appDir string, environ []string) (ok bool, why string, err error) {
	out, err := git(ctx, environ, io.Discard, "-C", appDir, "rev-parse", "--is-inside-work-tree")
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return false, "git is not installed: the .gitignore files are applied without it", nil
	case err != nil && strings.Contains(err.Error(), "not a git repository"):
		return false, "", nil
	case err != nil:
		return false, "", fmt.Errorf("asking git whether %s is in a repository: %w; hint: run \"git status\" there to see what git objects to", appDir, err)
	case out != "true":
		return false, "", nil
	}
	// A directory its repository ignores has no untracked files as git
	// sees it: treat it as a tree of its own.
	if _, err := git(ctx, environ, io.Discard, "-C", appDir, "check-ignore", "--quiet", "."); err == nil {
		return false, "the app directory is ignored by its git repository: its own .gitignore files are applied instead", nil
	}
	return true, "", nil
}

// gitFiles lists, relative to appDir, the files git tracks in appDir/prefix
// and the untracked ones it does not ignore (minus env files, returned in
// envLeft), with their parent directories. A submodule or nested repository
// is listed by its own git.
func gitFiles(ctx context.Context, appDir, prefix string, environ []string, isEnv func(string) bool) (files, dirs map[string]bool, envLeft []string, err error) {
	files, dirs = map[string]bool{}, map[string]bool{}
	err = gitFilesInto(ctx, appDir, prefix, environ, isEnv, files, &envLeft)
	for f := range files {
		for d := path.Dir(f); d != "."; d = path.Dir(d) {
			if dirs[d] {
				break
			}
			dirs[d] = true
		}
	}
	return files, dirs, envLeft, err
}

func gitFilesInto(ctx context.Context, appDir, prefix string, environ []string, isEnv func(string) bool, files map[string]bool, envLeft *[]string) error {
	dir := filepath.Join(appDir, filepath.FromSlash(prefix))
	staged, err := gitRaw(ctx, environ, io.Discard, "-C", dir, "ls-files", "-z", "--stage")
	if err != nil {
		return fmt.Errorf("listing the files git tracks in %s: %w", dir, err)
	}
	others, err := gitRaw(ctx, environ, io.Discard, "-C", dir, "ls-files", "-z", "--others", "--exclude-standard")
	if err != nil {
		return fmt.Errorf("listing the untracked files in %s: %w", dir, err)
	}
	var nested []string
	for _, e := range splitNUL(staged) {
		// "MODE OID STAGE\tPATH"; a conflicted path has several stages.
		meta, p, ok := strings.Cut(e, "\t")
		if !ok {
			return fmt.Errorf("git ls-files in %s: unexpected line %q", dir, e)
		}
		if strings.HasPrefix(meta, "160000 ") {
			nested = append(nested, p)
			continue
		}
		files[prefix+p] = true
	}
	for _, p := range splitNUL(others) {
		if strings.HasSuffix(p, "/") { // an untracked repository
			nested = append(nested, strings.TrimSuffix(p, "/"))
			continue
		}
		if isEnv(prefix + p) {
			*envLeft = append(*envLeft, prefix+p)
			continue
		}
		files[prefix+p] = true
	}
	for _, n := range nested {
		// An uninitialised submodule is an empty directory: nothing to list.
		if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(n), ".git")); err != nil {
			continue
		}
		if err := gitFilesInto(ctx, appDir, prefix+n+"/", environ, isEnv, files, envLeft); err != nil {
			return err
		}
	}
	return nil
}

func splitNUL(s string) []string {
	s = strings.TrimSuffix(s, "\x00")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\x00")
}

// treeEntry is one file of a commit's tree (git ls-tree -r).
type treeEntry struct {
	mode string // 100644, 100755, 120000 (symlink), 160000 (submodule)
	oid  string
	path string // relative to the app, slash-separated
}

// commitTree resolves commit in the repository holding appDir and lists
// the files of appDir in it. It returns the commit's id.
func commitTree(ctx context.Context, appDir, commit string, environ []string) (string, []treeEntry, error) {
	if commit == "" || strings.HasPrefix(commit, "-") || strings.ContainsAny(commit, "\x00\n") {
		return "", nil, fmt.Errorf("commit %q: not a commit name; hint: give a commit id, a branch or a tag", commit)
	}
	id, err := git(ctx, environ, io.Discard, "-C", appDir, "rev-parse", "--verify", "--quiet", "--end-of-options", commit+"^{commit}")
	if err != nil || id == "" {
		return "", nil, fmt.Errorf("commit %q is not in the git repository of %s; hint: check the name with \"git log %s\"", commit, appDir, commit)
	}
	prefix, err := gitRaw(ctx, environ, io.Discard, "-C", appDir, "rev-parse", "--show-prefix")
	if err != nil {
		return "", nil, fmt.Errorf("finding %s in its git repository: %w", appDir, err)
	}
	prefix = strings.TrimSuffix(prefix, "\n")
	tree := id + ":" + prefix
	if t, err := git(ctx, environ, io.Discard, "-C", appDir, "cat-file", "-t", tree); err != nil || t != "tree" {
		return "", nil, fmt.Errorf("the app directory %s (%q in the repository) is not in commit %s; hint: build a commit that has it", appDir, prefix, commit)
	}
	out, err := gitRaw(ctx, environ, io.Discard, "-C", appDir, "ls-tree", "-r", "-z", "--full-tree", tree)
	if err != nil {
		return "", nil, fmt.Errorf("listing the files of commit %s: %w", commit, err)
	}
	var entries []treeEntry
	for _, line := range splitNUL(out) {
		// "MODE TYPE OID\tPATH"
		meta, p, ok := strings.Cut(line, "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 3 {
			return "", nil, fmt.Errorf("git ls-tree of %s: unexpected line %q", commit, line)
		}
		entries = append(entries, treeEntry{mode: f[0], oid: f[2], path: p})
	}
	return id, entries, nil
}

// writeTree writes entries, blobs of the repository holding appDir, under
// dst (which exists) through one "git cat-file --batch": files 0644 or
// 0755, symlinks as symlinks. Submodules are left out and returned. An
// entry that is not a local path, or has a .git component, is refused.
// Everything is created through an os.Root, so nothing lands outside dst.
func writeTree(ctx context.Context, appDir, dst string, entries []treeEntry, environ []string) (copyStats, []string, error) {
	var st copyStats
	var subs, want []string
	var blobs []treeEntry
	for _, e := range entries {
		if !filepath.IsLocal(e.path) || strings.Contains("/"+e.path+"/", "/.git/") {
			return st, nil, fmt.Errorf("commit has the path %q: refused", e.path)
		}
		switch e.mode {
		case "160000":
			subs = append(subs, e.path)
			continue
		case "100644", "100755", "120000":
		default:
			return st, nil, fmt.Errorf("commit has %q with the unknown mode %s", e.path, e.mode)
		}
		blobs = append(blobs, e)
		want = append(want, e.oid)
	}
	root, err := os.OpenRoot(dst)
	if err != nil {
		return st, nil, err
	}
	defer root.Close()
	if len(blobs) == 0 {
		return st, subs, nil
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := commandContext(ctx, "git", "-C", appDir, "cat-file", "--batch")
	cmd.Env = gitEnv(environ)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return st, nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return st, nil, err
	}
	if err := cmd.Start(); err != nil {
		return st, nil, fmt.Errorf("git cat-file: %w", err)
	}
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		w := bufio.NewWriter(stdin)
		for _, oid := range want {
			if _, err := w.WriteString(oid + "\n"); err != nil {
				break
			}
		}
		w.Flush()
		stdin.Close()
	}()
	err = readBlobs(root, bufio.NewReader(stdout), blobs, &st)
	if err != nil {
		cancel()
	}
	<-fed
	werr := cmd.Wait()
	if err != nil {
		return st, nil, err
	}
	if werr != nil {
		return st, nil, fmt.Errorf("git cat-file: %w: %s", werr, lastLine(strings.TrimSpace(stderr.String())))
	}
	return st, subs, nil
}

// readBlobs reads "git cat-file --batch" answers, one per entry in order,
// and creates each entry under root.
func readBlobs(root *os.Root, r *bufio.Reader, entries []treeEntry, st *copyStats) error {
	made := map[string]bool{}
	for _, e := range entries {
		hdr, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("git cat-file: reading %s: %w", e.path, err)
		}
		f := strings.Fields(hdr)
		if len(f) != 3 || f[1] != "blob" {
			return fmt.Errorf("git cat-file: %s: unexpected answer %q", e.path, strings.TrimSpace(hdr))
		}
		size, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("git cat-file: %s: bad size in %q", e.path, strings.TrimSpace(hdr))
		}
		name := filepath.FromSlash(e.path)
		if d := filepath.Dir(name); d != "." && !made[d] {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return fmt.Errorf("creating %s: %w", d, err)
			}
			made[d] = true
		}
		if e.mode == "120000" {
			target := make([]byte, size)
			if _, err := io.ReadFull(r, target); err != nil {
				return fmt.Errorf("git cat-file: reading %s: %w", e.path, err)
			}
			if err := root.Symlink(string(target), name); err != nil {
				return fmt.Errorf("creating the symlink %s: %w", e.path, err)
			}
			st.Links++
		} else {
			perm := fs.FileMode(0o644)
			if e.mode == "100755" {
				perm = 0o755
			}
			out, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
			if err != nil {
				return fmt.Errorf("creating %s: %w", e.path, err)
			}
			_, err = io.CopyN(out, r, size)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = root.Chmod(name, perm) // OpenFile applied the umask
			}
			if err != nil {
				return fmt.Errorf("writing %s: %w", e.path, err)
			}
			st.Files++
			st.Bytes += size
		}
		if b, err := r.ReadByte(); err != nil || b != '\n' {
			return fmt.Errorf("git cat-file: %s: answer not ended by a newline", e.path)
		}
	}
	return nil
}

// copyApp puts the app's source in the build dir: the working tree as git
// sees it, or the tree of opts.Commit; .git, .ganger and the .slugignore
// matches left out.
func (s *session) copyApp(ctx context.Context) error {
	if s.opts.Commit != "" {
		return s.copyCommit(ctx)
	}
	envFiles := envFilesIn(s.appDir, s.opts.Config)
	isEnv := func(rel string) bool { return envFiles[rel] || isEnvFileName(rel) }
	ig, warnings, err := readSlugIgnore(s.appDir)
	if err != nil {
		return err
	}
	src, err := listSource(ctx, s.appDir, s.opts.Environ, isEnv)
	if err != nil {
		return err
	}
	ignored := 0
	st, err := copyTree(ctx, s.appDir, s.buildDir, func(rel string, isDir bool) bool {
		if rel == GangerDir || rel == ".git" || strings.HasSuffix(rel, "/.git") {
			return true
		}
		if !src.keep(rel, isDir) {
			return true
		}
		if ig.match(rel, isDir) {
			ignored++
			return true
		}
		return false
	})
	for _, w := range append(warnings, src.allWarnings()...) {
		fmt.Fprintf(s.out, " !     %s\n", w)
	}
	if err != nil {
		return fmt.Errorf("copying the app: %w", err)
	}
	s.printCopied(st, src.how, ignored, src.envLeft, nil)
	return nil
}

// copyCommit writes the tree of opts.Commit (the app's directory in it)
// into the build dir, minus .ganger and what that commit's .slugignore
// lists. SOURCE_VERSION becomes the commit unless it was given.
func (s *session) copyCommit(ctx context.Context) error {
	id, entries, err := commitTree(ctx, s.appDir, s.opts.Commit, s.opts.Environ)
	if err != nil {
		return err
	}
	var ig slugIgnore
	for _, e := range entries {
		if e.path == SlugIgnoreFile && e.mode != "160000" && e.mode != "120000" {
			data, err := gitRaw(ctx, s.opts.Environ, io.Discard, "-C", s.appDir, "cat-file", "blob", e.oid)
			if err != nil {
				return fmt.Errorf("reading %s of commit %s: %w", SlugIgnoreFile, s.opts.Commit, err)
			}
			var warnings []string
			ig, warnings, err = parseSlugIgnore(strings.NewReader(data), SlugIgnoreFile)
			if err != nil {
				return err
			}
			for _, w := range warnings {
				fmt.Fprintf(s.out, " !     %s\n", w)
			}
		}
	}
	// Directories first met are asked about once, top-down, as in copyTree.
	dirSkip := map[string]bool{}
	skipDir := func(d string) bool {
		parts := strings.Split(d, "/")
		for i := range parts {
			p := strings.Join(parts[:i+1], "/")
			v, ok := dirSkip[p]
			if !ok {
				v = p == GangerDir || ig.match(p, true)
				dirSkip[p] = v
			}
			if v {
				return true
			}
		}
		return false
	}
	ignored := 0
	kept := entries[:0:0]
	for _, e := range entries {
		if d := path.Dir(e.path); d != "." && skipDir(d) {
			continue
		}
		if e.path == GangerDir || ig.match(e.path, false) {
			ignored++
			continue
		}
		kept = append(kept, e)
	}
	if err := os.Mkdir(s.buildDir, 0o700); err != nil {
		return err
	}
	st, subs, err := writeTree(ctx, s.appDir, s.buildDir, kept, s.opts.Environ)
	if err != nil {
		return fmt.Errorf("writing commit %s of %s: %w", s.opts.Commit, s.appDir, err)
	}
	if err := os.Chmod(s.buildDir, 0o755); err != nil {
		return err
	}
	if s.opts.SourceVersion == "" {
		s.sourceVer = id
	}
	how := "commit " + id
	s.printCopied(st, how, ignored, nil, subs)
	return nil
}

func (s *session) printCopied(st copyStats, how string, ignored int, envLeft, subs []string) {
	fmt.Fprintf(s.out, "-----> Copied the app to the build dir: %d files, %s (%s)", st.Files, humanBytes(st.Bytes), how)
	if ignored > 0 {
		fmt.Fprintf(s.out, ", %d paths left out by %s", ignored, SlugIgnoreFile)
	}
	fmt.Fprintln(s.out)
	for _, e := range envLeft {
		fmt.Fprintf(s.out, "       left out %s: an env file reaches the build only when git tracks it\n", e)
	}
	for _, m := range subs {
		fmt.Fprintf(s.out, "       left out the submodule %s: a commit's tree does not hold it\n", m)
	}
}
