package buildpack

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
	const (
		bpFile  = "# buildpacks for this app\n\n./bp/one   # the first\nhttps://example.com/two.git#v2\n"
		appJSON = `{"name":"x","buildpacks":[{"url":"heroku/nodejs"},{"url":"./bp/three"}]}`
	)
	tests := []struct {
		name    string
		files   map[string]string
		flags   []string
		workDir string
		config  map[string]string
		detect  []string
		source  string
		refs    []string // Raw of each ref
		paths   []string // Path of each local ref, relative to the app ("" for remote)
		isDet   bool
		err     string
	}{
		{name: "flags first", files: map[string]string{".buildpacks": bpFile, "app.json": appJSON},
			flags: []string{"./x", "heroku/go"}, config: map[string]string{"BUILDPACK_URL": "./y"},
			source: FromFlags, refs: []string{"./x", "heroku/go"}, paths: []string{"WORK/x", ""}},
		{name: "flags relative to the app without workdir", flags: []string{"./x"}, source: FromFlags,
			refs: []string{"./x"}, paths: []string{"x"}},
		{name: "BUILDPACK_URL", files: map[string]string{".buildpacks": bpFile, "app.json": appJSON},
			config: map[string]string{"BUILDPACK_URL": " ./y "}, source: FromBuildpackURL, refs: []string{"./y"}, paths: []string{"y"}},
		{name: ".buildpacks", files: map[string]string{".buildpacks": bpFile, "app.json": appJSON},
			source: FromFile, refs: []string{"./bp/one", "https://example.com/two.git#v2"}, paths: []string{"bp/one", ""}},
		{name: "app.json", files: map[string]string{"app.json": appJSON},
			source: FromAppJSON, refs: []string{"heroku/nodejs", "./bp/three"}, paths: []string{"", "bp/three"}},
		{name: "detect", files: map[string]string{"app.json": `{"name":"x"}`}, detect: []string{"./bp/a", "./bp/b"},
			source: FromDetect, refs: []string{"./bp/a", "./bp/b"}, paths: []string{"bp/a", "bp/b"}, isDet: true},
		{name: "default detect order", source: FromDetect, refs: DefaultDetectOrder(), isDet: true,
			paths: make([]string, len(DefaultDetectOrder()))},
		{name: "detection disabled", detect: []string{}, err: "no buildpack configured"},
		{name: "bad flag", flags: []string{"--upload-pack=x"}, err: FromFlags + `: buildpack reference "--upload-pack=x" starts with "-"`},
		{name: "bad BUILDPACK_URL", config: map[string]string{"BUILDPACK_URL": "git://x/y"}, err: "BUILDPACK_URL: "},
		{name: "bad .buildpacks line", files: map[string]string{".buildpacks": "./a\n./b ./c\n-x\n"},
			err: ".buildpacks:2: expected one buildpack reference a line"},
		{name: "bad .buildpacks ref", files: map[string]string{".buildpacks": "./a\n-x\n"}, err: `.buildpacks:2: buildpack reference "-x"`},
		{name: "empty .buildpacks", files: map[string]string{".buildpacks": "# nothing\n"}, err: "names no buildpack"},
		{name: "bad app.json", files: map[string]string{"app.json": "{\n\"buildpacks\": [\n}"}, err: "app.json:3:"},
		{name: "app.json without url", files: map[string]string{"app.json": `{"buildpacks":[{}]}`}, err: "buildpacks[0] has no url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := newApp(t, tc.files)
			work := t.TempDir()
			wd := ""
			if tc.flags != nil && tc.name == "flags first" {
				wd = work
			}
			sel, err := Select(SelectOptions{AppDir: app, Flags: tc.flags, WorkDir: wd, Config: tc.config, Detect: tc.detect})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var raws, paths []string
			for _, r := range sel.Refs {
				raws = append(raws, r.Raw)
				p := r.Path
				switch {
				case p == "":
				case strings.HasPrefix(p, work):
					p = "WORK" + strings.TrimPrefix(p, work)
				default:
					p, _ = filepath.Rel(app, p)
				}
				paths = append(paths, p)
			}
			if sel.Source != tc.source || sel.Detect != tc.isDet || !reflect.DeepEqual(raws, tc.refs) || !reflect.DeepEqual(paths, tc.paths) {
				t.Errorf("got source %s detect %v refs %q paths %q\nwant source %s detect %v refs %q paths %q",
					sel.Source, sel.Detect, raws, paths, tc.source, tc.isDet, tc.refs, tc.paths)
			}
		})
	}
}

// FuzzBuildpacksFile: never panics; every accepted line is a valid ref.
func FuzzBuildpacksFile(f *testing.F) {
	for _, s := range []string{"", "./a\n# c\nhttps://x/y.git#v1 # comment\n", "\uFEFF./a\r\n", "./a ./b", "-x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		refs, err := parseBuildpacksFile(strings.NewReader(s), ".buildpacks", "", "/base")
		if err != nil {
			return
		}
		for _, r := range refs {
			if _, err := ParseRef(r.Raw, ""); err != nil {
				t.Fatalf("accepted %q: %v", r.Raw, err)
			}
		}
	})
}
