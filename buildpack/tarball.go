package buildpack

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// writeSlugTarball writes the slug dir as a gzipped tarball at file, mode
// 0600 (via a temporary file renamed into place). Entries are "./path", owned by
// uid/gid 0, with the files' modes and times; symlinks are kept as links;
// .git and the paths matched by the slug's .slugignore are left out.
func writeSlugTarball(ctx context.Context, dir, file string) error {
	ig, _, err := readSlugIgnore(dir)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel != "." {
			if d.Name() == ".git" || ig.match(rel, d.IsDir()) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		} else if !info.Mode().IsRegular() && !info.IsDir() {
			return nil // sockets, FIFOs, devices
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name = "./" + rel
		if rel == "." {
			hdr.Name = "./"
		} else if info.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		hdr.Format = tar.FormatPAX
		if strings.ContainsRune(hdr.Name, 0) {
			return fmt.Errorf("%s: NUL in name", p)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			src, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.CopyN(tw, src, info.Size())
			src.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		return nil
	})
	for _, c := range []io.Closer{tw, zw, f} {
		if cerr := c.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("writing slug tarball %s: %w", file, err)
	}
	// The slug holds the app's code and whatever the buildpacks baked in:
	// private to the user, like the env files (CreateTemp made it 0600;
	// say so in case that changes).
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fmt.Errorf("writing slug tarball %s: %w", file, err)
	}
	if err := os.Rename(tmp, abs); err != nil {
		return fmt.Errorf("writing slug tarball %s: %w", file, err)
	}
	return nil
}
