package export

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gangerdev/ganger/env"
	"github.com/gangerdev/ganger/procfile"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// The test binary doubles as the processes the exported configs start
// (the helper-process pattern): "ganger-export-dump OUT ARGS..." writes its
// arguments, environment and working directory to OUT as JSON; run under
// the name "chpst" it is a stand-in for runit's chpst (see fakeChpst).
const dumpVerb = "ganger-export-dump"

func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "chpst" {
		os.Exit(fakeChpst(os.Args[1:]))
	}
	if len(os.Args) > 2 && os.Args[1] == dumpVerb {
		os.Exit(dump(os.Args[2], os.Args[3:]))
	}
	os.Exit(m.Run())
}

// dumped is what the dump helper records.
type dumped struct {
	Args []string          `json:"args"`
	Env  map[string]string `json:"env"`
	Dir  string            `json:"dir"`
}

func dump(out string, args []string) int {
	d := dumped{Args: args, Env: map[string]string{}}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		d.Env[k] = v
	}
	d.Dir, _ = os.Getwd()
	b, err := json.Marshal(d)
	if err == nil {
		err = os.WriteFile(out, b, 0o600)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// fakeChpst does what runit's chpst does with "-e DIR" (src/chpst.c,
// edir(): per file, the first line, trailing blanks and tabs stripped, NUL
// as newline, an empty file unsets) and "-u USER" (ignored: tests do not
// switch users), then executes the rest of its arguments.
func fakeChpst(args []string) int {
	for len(args) > 1 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "-e":
			entries, err := os.ReadDir(args[1])
			if err != nil {
				fmt.Fprintln(os.Stderr, "chpst:", err)
				return 111
			}
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".") {
					continue
				}
				b, err := os.ReadFile(filepath.Join(args[1], e.Name()))
				if err != nil {
					fmt.Fprintln(os.Stderr, "chpst:", err)
					return 111
				}
				if len(b) == 0 {
					os.Unsetenv(e.Name())
					continue
				}
				if i := bytes.IndexByte(b, '\n'); i >= 0 {
					b = b[:i]
				}
				b = bytes.TrimRight(b, " \t")
				os.Setenv(e.Name(), string(bytes.ReplaceAll(b, []byte{0}, []byte{'\n'})))
			}
		case "-u":
		default:
			fmt.Fprintln(os.Stderr, "chpst: unexpected option", args[0])
			return 100
		}
		args = args[2:]
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "chpst:", err)
		return 111
	}
	err = syscall.Exec(path, args, os.Environ())
	fmt.Fprintln(os.Stderr, "chpst:", err)
	return 111
}

// nastyConfig is a config every format must carry unchanged.
func nastyConfig() []env.Var {
	return []env.Var{
		{Key: "PLAIN", Value: "hello"},
		{Key: "EMPTY", Value: ""},
		{Key: "LEADING", Value: "  two leading blanks"},
		{Key: "MULTILINE", Value: "line one\nline two\n"},
		{Key: "CRLF", Value: "a\r\nb"},
		{Key: "QUOTES", Value: `it's "quoted" \' \"`},
		{Key: "DOLLAR", Value: "$HOME ${HOME} $(id) $$ $ end$"},
		{Key: "PERCENT", Value: "100% %i %n %% %(ENV_HOME)s %"},
		{Key: "BACKSLASH", Value: `C:\path\ends\`},
		{Key: "BACKTICK", Value: "`id` \\`"},
		{Key: "HASH", Value: "#a #not comment ; nor ;this"},
		{Key: "TAB", Value: "a\tb"},
		{Key: "UNICODE", Value: "héllo ✓ \u00a0nbsp"},
		{Key: "XMLISH", Value: `<a href="x">&amp;</a> ]]> <!-- -->`},
		{Key: "EQUALS", Value: "a=b=c"},
		{Key: "Y", Value: "yes"},
		{Key: "ON", Value: "0123"},
		{Key: "PORT", Value: "9999"}, // dropped: ganger sets PORT
		{Key: "PLAIN", Value: "hello again"},
	}
}

func envVar(k, v string) env.Var { return env.Var{Key: k, Value: v, Source: ".env"} }

// wantConfig is nastyConfig as every format must deliver it.
func wantConfig() map[string]string {
	m := map[string]string{}
	for _, v := range nastyConfig() {
		if v.Key != "PORT" {
			m[v.Key] = v.Value
		}
	}
	return m
}

// goldenApp is the app of the golden files: fixed paths, three types, one
// of them scaled to 0.
func goldenApp() App {
	return App{
		Name:    "myapp",
		Root:    "/srv/myapp",
		User:    "deploy",
		LogDir:  "/var/log/myapp",
		Timeout: 7 * time.Second,
		Image:   "registry.example/myapp:1",
		Types: []Type{
			{Name: "web", Command: `bundle exec puma -p $PORT -C config/puma.rb`, Instances: instances("web", 0, 5000, 2)},
			{Name: "worker", Command: `bin/worker --queues "default,mail" --tag '100% $HOME' # ; \done`, Instances: instances("worker", 1, 5000, 1)},
			{Name: "clock", Command: "bin/clock", Port: 5200},
		},
		Config: nastyConfig(),
	}
}

func instances(typ string, index, base, n int) []procfile.Instance {
	var out []procfile.Instance
	for i := 1; i <= n; i++ {
		out = append(out, procfile.Instance{
			Type: typ, Num: i, Name: fmt.Sprintf("%s.%d", typ, i), Index: index,
			Port: procfile.Port(base, index, i),
		})
	}
	return out
}

// readTree returns every file under dir but the manifest, by slash path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == ManifestName {
			return nil
		}
		b, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// checkGolden compares the files under dir with testdata/golden/name, the
// export directory's path replaced by /EXPORT. -update rewrites them.
func checkGolden(t *testing.T, name, dir string) {
	t.Helper()
	golden := filepath.Join("testdata", "golden", name)
	got := readTree(t, dir)
	for p, b := range got {
		got[p] = bytes.ReplaceAll(b, []byte(dir), []byte("/EXPORT"))
	}
	if *update {
		if err := os.RemoveAll(golden); err != nil {
			t.Fatal(err)
		}
		for p, b := range got {
			f := filepath.Join(golden, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(f, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	want := readTree(t, golden)
	for _, p := range slices.Sorted(mapsKeys(want, got)) {
		switch {
		case want[p] == nil:
			t.Errorf("%s: unexpected file %s (run go test -update after checking it)", name, p)
		case got[p] == nil:
			t.Errorf("%s: missing file %s", name, p)
		case !bytes.Equal(want[p], got[p]):
			t.Errorf("%s: %s differs from the golden file (run go test -update after checking it):\n--- got\n%s\n--- want\n%s", name, p, got[p], want[p])
		}
	}
}

func mapsKeys[V any](ms ...map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		seen := map[string]bool{}
		for _, m := range ms {
			for k := range m {
				if !seen[k] && !yield(k) {
					return
				}
				seen[k] = true
			}
		}
	}
}

// mode returns the permission bits of path.
func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// export writes app in format into a new directory and returns it.
func export(t *testing.T, format string, app App, opt Options) (string, Result) {
	t.Helper()
	dir := t.TempDir()
	res, err := Write(format, dir, app, opt)
	if err != nil {
		t.Fatalf("Write(%s): %v", format, err)
	}
	return dir, res
}
