package buildpack

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// copyStats counts what copyTree did.
type copyStats struct {
	Files, Dirs, Links, Skipped int
	Bytes                       int64
}

type copyJob struct{ src, dst string }

type dirDone struct {
	dst   string
	mode  fs.FileMode
	mtime time.Time
}

// copyTree copies the directory src to dst, which must not exist, like
// "cp -a": regular files with their permission bits and modification times,
// directories likewise, symlinks as symlinks. Device nodes, sockets and
// FIFOs are left out (counted in Skipped). skip, when not nil, is asked
// about every entry with its slash-separated path relative to src; a
// skipped directory is not entered.
//
// Directories are walked by one goroutine, which creates them and the
// symlinks; regular files are copied by a small pool (copy_file_range on
// Linux through os.File.ReadFrom). Directory modes and times are set last,
// deepest first, so a read-only directory can still be filled.
func copyTree(ctx context.Context, src, dst string, skip func(rel string, isDir bool) bool) (copyStats, error) {
	var st copyStats
	fi, err := os.Stat(src)
	if err != nil {
		return st, err
	}
	if !fi.IsDir() {
		return st, fmt.Errorf("%s is not a directory", src)
	}
	if err := os.Mkdir(dst, 0o700); err != nil {
		return st, err
	}

	c := &copier{jobs: make(chan copyJob, 512)}
	c.ctx, c.cancel = context.WithCancel(ctx)
	defer c.cancel()
	workers := max(4, 2*runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	files := make([]int, workers)
	sizes := make([]int64, workers)
	for i := range workers {
		wg.Go(func() {
			for j := range c.jobs {
				if c.ctx.Err() != nil {
					continue
				}
				n, err := copyFile(j.src, j.dst)
				if err != nil {
					c.fail(err)
					continue
				}
				files[i]++
				sizes[i] += n
			}
		})
	}
	dirs := []dirDone{{dst: dst, mode: fi.Mode(), mtime: fi.ModTime()}}
	c.walk(src, dst, "", skip, &st, &dirs)
	close(c.jobs)
	wg.Wait()
	for i := range workers {
		st.Files += files[i]
		st.Bytes += sizes[i]
	}
	if err := c.err(); err != nil {
		return st, err
	}
	if err := ctx.Err(); err != nil {
		return st, err
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		d := dirs[i]
		if err := os.Chmod(d.dst, d.mode.Perm()); err != nil {
			return st, err
		}
		if err := os.Chtimes(d.dst, time.Time{}, d.mtime); err != nil {
			return st, err
		}
	}
	st.Dirs = len(dirs)
	return st, nil
}

type copier struct {
	ctx    context.Context
	cancel context.CancelFunc
	jobs   chan copyJob
	mu     sync.Mutex
	first  error
}

func (c *copier) fail(err error) {
	c.mu.Lock()
	if c.first == nil {
		c.first = err
	}
	c.mu.Unlock()
	c.cancel()
}

func (c *copier) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.first
}

func (c *copier) walk(src, dst, rel string, skip func(string, bool) bool, st *copyStats, dirs *[]dirDone) {
	f, err := os.Open(src)
	if err != nil {
		c.fail(err)
		return
	}
	ents, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		c.fail(err)
		return
	}
	for _, e := range ents {
		if c.ctx.Err() != nil {
			return
		}
		name := e.Name()
		r := name
		if rel != "" {
			r = rel + "/" + name
		}
		t := e.Type()
		if skip != nil && skip(r, t.IsDir()) {
			continue
		}
		s, d := filepath.Join(src, name), filepath.Join(dst, name)
		switch {
		case t.IsRegular():
			select {
			case c.jobs <- copyJob{s, d}:
			case <-c.ctx.Done():
				return
			}
		case t.IsDir():
			info, err := e.Info()
			if err != nil {
				c.fail(err)
				return
			}
			if err := os.Mkdir(d, 0o700); err != nil {
				c.fail(err)
				return
			}
			*dirs = append(*dirs, dirDone{dst: d, mode: info.Mode(), mtime: info.ModTime()})
			c.walk(s, d, r, skip, st, dirs)
		case t&fs.ModeSymlink != 0:
			target, err := os.Readlink(s)
			if err == nil {
				err = os.Symlink(target, d)
			}
			if err != nil {
				c.fail(err)
				return
			}
			st.Links++
		default:
			st.Skipped++
		}
	}
}

// copyFile copies one regular file, keeping its permission bits and
// modification time, and returns its size.
func copyFile(src, dst string) (int64, error) {
	in, err := os.OpenFile(src, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return 0, err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	var n int64
	if fi.Size() > 0 {
		n, err = io.Copy(out, in)
	}
	if err == nil {
		err = out.Chmod(fi.Mode().Perm())
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chtimes(dst, time.Time{}, fi.ModTime())
	}
	if err != nil {
		return n, fmt.Errorf("copying %s: %w", src, err)
	}
	return n, nil
}
