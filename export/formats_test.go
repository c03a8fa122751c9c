package export

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gangerdev/ganger/procfile"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// runtimeApp is an app whose processes are this test binary dumping what
// it was started with, behind a command line that is hard to quote. The
// dumps land in out as DYNO.json.
func runtimeApp(t *testing.T) (app App, out string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out = t.TempDir()
	cmd := procfile.ShellQuote(exe) + " " + dumpVerb + " " + procfile.ShellQuote(out) + `/"$DYNO".json "$PORT" 'single $HOME %i %% ;#' ` +
		`"double \"q\" \$x \\" back\\slash 100% '$(PORT) ${PLAIN} $PLAIN' tab` + "\t" + `sep "$PLAIN" && : ' ; # not a comment'`
	return App{
		Name:    "rt",
		Root:    t.TempDir(),
		Timeout: 3 * time.Second,
		Image:   "example/rt:1",
		Types: []Type{
			{Name: "web", Command: cmd, Instances: instances("web", 0, 6000, 2)},
			{Name: "worker", Command: cmd, Instances: instances("worker", 1, 6000, 1)},
		},
		Config: nastyConfig(),
	}, out
}

// noRaceSleep stops a -race build of the helper from sleeping a second
// as it exits.
const noRaceSleep = "GORACE=atexit_sleep_ms=0"

// reference runs command as "ganger start" does (/bin/sh -c in root) for
// instance in and returns its dump, which every engine's run must match.
func reference(t *testing.T, app App, t0 Type, in Instance, out string) dumped {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", t0.Command)
	cmd.Dir = app.Root
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), noRaceSleep, "PORT=" + strconv.Itoa(in.Port), "PS=" + in.Name, "DYNO=" + in.Name}
	for k, v := range wantConfig() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	runCmd(t, cmd)
	return readDump(t, out, in.Name)
}

// Instance is procfile.Instance, named shorter for the tests.
type Instance = procfile.Instance

func runCmd(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
	c.Dir, c.Env = cmd.Dir, cmd.Env
	if b, err := c.CombinedOutput(); err != nil {
		t.Fatalf("%q: %v\n%s", cmd.Args, err, b)
	}
}

func readDump(t *testing.T, out, name string) dumped {
	t.Helper()
	p := filepath.Join(out, name+".json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("the process did not run: %v", err)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	var d dumped
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// checkRun compares what an engine started with what "ganger start" would.
func checkRun(t *testing.T, engine string, got, ref dumped, app App, in Instance) {
	t.Helper()
	if !slices.Equal(got.Args, ref.Args) {
		t.Errorf("%s %s: arguments\n got %q\nwant %q", engine, in.Name, got.Args, ref.Args)
	}
	if got.Dir != app.Root {
		t.Errorf("%s %s: working directory %q, want %q", engine, in.Name, got.Dir, app.Root)
	}
	want := wantConfig()
	want["PORT"], want["PS"], want["DYNO"] = strconv.Itoa(in.Port), in.Name, in.Name
	for k, v := range want {
		if g, ok := got.Env[k]; !ok || g != v {
			t.Errorf("%s %s: %s=%q, want %q (set: %v)", engine, in.Name, k, g, v, ok)
		}
	}
}

// forEachInstance runs f for every instance of app, with the reference.
func forEachInstance(t *testing.T, app App, out string, f func(Type, Instance, dumped)) {
	t.Helper()
	for _, ty := range app.Types {
		for _, in := range ty.Instances {
			f(ty, in, reference(t, app, ty, in, out))
		}
	}
}

// secretFree asserts that no config value appears in a world-readable file.
func secretFree(t *testing.T, dir string) {
	t.Helper()
	for p, b := range readTree(t, dir) {
		if mode(t, filepath.Join(dir, p))&0o077 != 0 {
			for _, v := range []string{"hello again", "two leading blanks", "ends"} {
				if bytes.Contains(b, []byte(v)) {
					t.Errorf("%s (mode %v) holds the config value %q", p, mode(t, filepath.Join(dir, p)), v)
				}
			}
		}
	}
}

func TestSystemd(t *testing.T) {
	for _, user := range []bool{false, true} {
		t.Run(fmt.Sprintf("user=%v", user), func(t *testing.T) {
			app, out := runtimeApp(t)
			app.User, app.LogDir = "deploy", "/var/log/rt"
			dir, _ := export(t, "systemd", app, Options{UserUnits: user})
			secretFree(t, dir)
			if m := mode(t, filepath.Join(dir, "rt.env")); m != 0o600 {
				t.Errorf("rt.env has mode %v, want 0600", m)
			}
			envFile, err := os.ReadFile(filepath.Join(dir, "rt.env"))
			if err != nil {
				t.Fatal(err)
			}
			config, err := parseSystemdEnvFile(string(envFile))
			if err != nil {
				t.Fatal(err)
			}
			if want := wantConfig(); !mapsEqual(config, want) {
				t.Errorf("EnvironmentFile as systemd reads it:\n got %q\nwant %q", config, want)
			}

			target := parseINI(t, "rt.target", readFile(t, dir, "rt.target"))
			if got, want := target["Unit"]["Wants"], []string{"rt-web@1.service", "rt-web@2.service", "rt-worker@1.service"}; !slices.Equal(got, want) {
				t.Errorf("target Wants=%q, want %q", got, want)
			}
			wantedBy := map[bool]string{false: "multi-user.target", true: "default.target"}[user]
			if got := target.one(t, "Install", "WantedBy"); got != wantedBy {
				t.Errorf("WantedBy=%s, want %s", got, wantedBy)
			}
			for _, ty := range app.Types {
				name := "rt-" + ty.Name + "@.service"
				u := parseINI(t, name, readFile(t, dir, name))
				for k, v := range map[string]string{
					"Restart": "always", "KillMode": "control-group", "TimeoutStopSec": "3",
					"EnvironmentFile": filepath.Join(dir, "rt.env"), "WorkingDirectory": app.Root,
				} {
					if got := u.one(t, "Service", k); got != v {
						t.Errorf("%s: %s=%s, want %s", name, k, got, v)
					}
				}
				if got, ok := u["Service"]["User"]; ok == user {
					t.Errorf("%s: User=%q with user units %v", name, got, user)
				}
				if got := u.one(t, "Unit", "PartOf"); got != "rt.target" {
					t.Errorf("%s: PartOf=%s", name, got)
				}
			}
			systemdAnalyzeVerify(t, dir, user)
			systemdRun(t, dir, app, out, user)
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// systemdAnalyzeVerify runs "systemd-analyze verify" on the target and
// every instance; any message fails the test.
func systemdAnalyzeVerify(t *testing.T, dir string, user bool) {
	t.Helper()
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze is not installed: skipping the verification by systemd itself")
		return
	}
	args := []string{"verify", "--man=no"}
	if user {
		args = append([]string{"--user"}, args...)
	}
	args = append(args, filepath.Join(dir, "rt.target"), filepath.Join(dir, "rt-web@1.service"),
		filepath.Join(dir, "rt-web@2.service"), filepath.Join(dir, "rt-worker@1.service"))
	cmd := exec.Command(tool, args...)
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+t.TempDir(), "SYSTEMD_LOG_LEVEL=notice")
	b, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(b)) > 0 {
		t.Errorf("systemd-analyze %s: %v\n%s", strings.Join(args, " "), err, b)
	}
}

// systemdRun has systemd load the units ("systemd --test" dumps each
// unit's settings, ExecStart as systemd parsed it) and runs each instance's
// command the way systemd would: the Environment= of unit and drop-in, the
// EnvironmentFile (as systemd reads it), "$$" made "$" at exec time.
// systemd refuses --test as root, so as root it runs as nobody.
func systemdRun(t *testing.T, dir string, app App, out string, user bool) {
	t.Helper()
	systemd := "/lib/systemd/systemd"
	if _, err := os.Stat(systemd); err != nil {
		t.Log("systemd is not installed: skipping the run through systemd's own unit parser")
		return
	}
	// A copy of the units that nobody can read, without the env file.
	units, err := os.MkdirTemp("", "ganger-export-units-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(units) })
	for p, b := range readTree(t, dir) {
		if strings.HasSuffix(p, ".env") {
			continue
		}
		f := filepath.Join(units, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(units, 0o755); err != nil {
		t.Fatal(err)
	}
	run, err := os.MkdirTemp("", "ganger-export-home-") // nobody must reach it
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(run) })
	args := []string{systemd, "--test", "--system", "--unit=rt.target", "--log-target=console", "--log-level=warning"}
	if user {
		args[2] = "--user"
	}
	if os.Geteuid() == 0 {
		setpriv, err := exec.LookPath("setpriv")
		if err != nil {
			t.Log("setpriv is not installed: cannot run systemd --test as non-root; skipping")
			return
		}
		if err := os.Chown(run, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		args = append([]string{setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + run, "XDG_RUNTIME_DIR=" + run, "SYSTEMD_UNIT_PATH=" + units + ":"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	dumpOut, err := cmd.Output()
	if err != nil {
		t.Fatalf("systemd --test: %v\n%s", err, stderr.Bytes())
	}
	units2 := parseSystemdTest(string(dumpOut))
	envFile, _ := parseSystemdEnvFile(string(readFile(t, dir, "rt.env")))

	forEachInstance(t, app, out, func(ty Type, in Instance, ref dumped) {
		name := fmt.Sprintf("rt-%s@%d.service", ty.Name, in.Num)
		u, ok := units2[name]
		if !ok {
			t.Fatalf("systemd did not load %s:\n%s", name, dumpOut)
		}
		if len(u["Command Line"]) != 1 {
			t.Fatalf("%s: ExecStart %q", name, u["Command Line"])
		}
		argv, err := splitSystemdDump(u["Command Line"][0])
		if err != nil {
			t.Fatal(err)
		}
		env := []string{"PATH=" + os.Getenv("PATH"), noRaceSleep}
		env = append(env, u["Environment"]...) // Environment= first: EnvironmentFile= overrides it
		for k, v := range envFile {
			env = append(env, k+"="+v)
		}
		for i := range argv {
			argv[i] = systemdExecExpand(argv[i], env)
		}
		if u.get("WorkingDirectory") != app.Root || u.get("KillMode") != "control-group" ||
			u.get("Restart") != "always" || u.get("TimeoutStopSec") != "3s" {
			t.Errorf("%s as systemd loaded it: %v", name, u)
		}
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir, cmd.Env = u.get("WorkingDirectory"), env
		runCmd(t, cmd)
		checkRun(t, "systemd", readDump(t, out, in.Name), ref, app, in)
	})
}

// unitDump is one unit's settings as "systemd --test" prints them.
type unitDump map[string][]string

func (u unitDump) get(k string) string {
	if len(u[k]) == 0 {
		return ""
	}
	return u[k][0]
}

func parseSystemdTest(s string) map[string]unitDump {
	units := map[string]unitDump{}
	var cur unitDump
	for _, line := range strings.Split(s, "\n") {
		trimmed := strings.TrimLeft(line, "\t")
		if name, ok := strings.CutPrefix(trimmed, "-> Unit "); ok {
			cur = unitDump{}
			units[strings.TrimSuffix(name, ":")] = cur
			continue
		}
		if cur == nil {
			continue
		}
		if k, v, ok := strings.Cut(trimmed, ": "); ok {
			cur[k] = append(cur[k], v)
		}
	}
	return units
}

// supervisorPy reads a supervisord config the way supervisor/options.py
// does, with the same Python parsers: RawConfigParser with inline comments
// after ';' or '#' (UnhosedConfigParser), '%' expansion (expand), the
// environment= lexer (datatypes.dict_of_key_value_pairs) and shlex.split
// of the expanded command (get_execv_args). It prints each process as JSON.
const supervisorPy = `
import configparser, json, os, shlex, socket, sys

def expand(s, expansions):
    return s % expansions

def dict_of_key_value_pairs(arg):
    lexer = shlex.shlex(str(arg))
    lexer.wordchars += '/.+-():'
    tokens = list(lexer)
    d, i = {}, 0
    while i < len(tokens):
        kv = tokens[i:i+3]
        if len(kv) != 3 or kv[1] != '=':
            raise ValueError("unexpected end of key/value pairs in %r" % arg)
        d[kv[0]] = kv[2].strip('\'"')
        i += 4
    return d

path = sys.argv[1]
p = configparser.RawConfigParser(inline_comment_prefixes=(';', '#'), strict=False)
with open(path, encoding='utf-8') as f:
    p.read_file(f)
out = []
for sec in p.sections():
    if not sec.startswith('program:'):
        continue
    name = sec.split(':', 1)[1]
    numprocs = int(p.get(sec, 'numprocs', fallback='1'))
    start = int(p.get(sec, 'numprocs_start', fallback='0'))
    for num in range(start, start + numprocs):
        exp = {'ENV_' + k: v for k, v in os.environ.items()}
        exp.update(here=os.path.dirname(path), program_name=name, host_node_name=socket.gethostname(),
                   group_name=name, process_num=num, numprocs=numprocs)
        env = dict_of_key_value_pairs(expand(p.get(sec, 'environment', fallback=''), exp))
        options = {k: expand(v, exp) for k, v in p.items(sec) if k not in ('environment', 'command')}
        if 'stdout_logfile' in options:
            options['stdout_logfile'] = expand(options['stdout_logfile'], exp)
        out.append(dict(name=expand(p.get(sec, 'process_name'), exp), argv=shlex.split(expand(p.get(sec, 'command'), exp)),
                        env=env, options=options))
json.dump(out, sys.stdout)
`

type supervisorProcess struct {
	Name    string            `json:"name"`
	Argv    []string          `json:"argv"`
	Env     map[string]string `json:"env"`
	Options map[string]string `json:"options"`
}

func TestSupervisord(t *testing.T) {
	app, out := runtimeApp(t)
	app.LogDir = "/var/log/rt"
	dir, _ := export(t, "supervisord", app, Options{})
	secretFree(t, dir)
	if m := mode(t, filepath.Join(dir, "rt.env")); m != 0o600 {
		t.Errorf("rt.env has mode %v, want 0600", m)
	}
	conf := parseINI(t, "rt.conf", readFile(t, dir, "rt.conf"))
	for _, ty := range app.Types {
		sec := "program:rt-" + ty.Name
		for k, v := range map[string]string{
			"numprocs": strconv.Itoa(len(ty.Instances)), "stopasgroup": "true", "killasgroup": "true",
			"stopwaitsecs": "3", "autorestart": "true", "numprocs_start": "1",
		} {
			if got := conf.one(t, sec, k); got != v {
				t.Errorf("[%s] %s=%s, want %s", sec, k, got, v)
			}
		}
	}

	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: skipping the check with the parsers supervisord uses")
	}
	script := filepath.Join(t.TempDir(), "supervisor.py")
	if err := os.WriteFile(script, []byte(supervisorPy), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := exec.Command(python, script, filepath.Join(dir, "rt.conf")).Output()
	if err != nil {
		t.Fatalf("supervisor's parsers reject rt.conf: %v\n%s", err, errOutput(err))
	}
	var procs []supervisorProcess
	if err := json.Unmarshal(b, &procs); err != nil {
		t.Fatal(err)
	}
	byName := map[string]supervisorProcess{}
	for _, p := range procs {
		byName[p.Name] = p
	}
	cwd := t.TempDir() // supervisord's own directory: the command must cd itself
	forEachInstance(t, app, out, func(ty Type, in Instance, ref dumped) {
		p, ok := byName[fmt.Sprintf("rt-%s-%d", ty.Name, in.Num)]
		if !ok {
			t.Fatalf("no supervisord process for %s in %v", in.Name, procs)
		}
		if got, want := p.Options["stdout_logfile"], fmt.Sprintf("/var/log/rt/rt-%s-%d.log", ty.Name, in.Num); got != want {
			t.Errorf("%s: stdout_logfile %q, want %q", in.Name, got, want)
		}
		cmd := exec.Command(p.Argv[0], p.Argv[1:]...)
		cmd.Dir = cwd
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), noRaceSleep}
		for k, v := range p.Env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		runCmd(t, cmd)
		checkRun(t, "supervisord", readDump(t, out, in.Name), ref, app, in)
	})
}

func errOutput(err error) []byte {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.Stderr
	}
	return nil
}

// plistValue decodes the plist subset launchd jobs use.
func plistValue(d *xml.Decoder, start xml.StartElement) (any, error) {
	switch start.Name.Local {
	case "string", "integer", "key":
		var s string
		err := d.DecodeElement(&s, &start)
		if start.Name.Local == "integer" {
			return strconv.Atoi(s)
		}
		return s, err
	case "true", "false":
		return start.Name.Local == "true", d.Skip()
	case "array", "dict":
		var items []any
		for {
			tok, err := d.Token()
			if err != nil {
				return nil, err
			}
			switch tok := tok.(type) {
			case xml.StartElement:
				v, err := plistValue(d, tok)
				if err != nil {
					return nil, err
				}
				items = append(items, v)
			case xml.EndElement:
				if start.Name.Local == "array" {
					return items, nil
				}
				m := map[string]any{}
				if len(items)%2 != 0 {
					return nil, fmt.Errorf("dict with a key but no value")
				}
				for i := 0; i < len(items); i += 2 {
					k, ok := items[i].(string)
					if !ok {
						return nil, fmt.Errorf("dict key %v is not a <key>", items[i])
					}
					if _, dup := m[k]; dup {
						return nil, fmt.Errorf("duplicate key %q", k)
					}
					m[k] = items[i+1]
				}
				return m, nil
			case xml.CharData:
				if len(bytes.TrimSpace(tok)) > 0 {
					return nil, fmt.Errorf("text %q in <%s>", tok, start.Name.Local)
				}
			}
		}
	}
	return nil, fmt.Errorf("unexpected <%s>", start.Name.Local)
}

func parsePlist(b []byte) (map[string]any, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local != "plist" {
				return nil, fmt.Errorf("root element <%s>, want <plist>", se.Name.Local)
			}
			for {
				tok, err := d.Token()
				if err != nil {
					return nil, err
				}
				if se, ok := tok.(xml.StartElement); ok {
					v, err := plistValue(d, se)
					if err != nil {
						return nil, err
					}
					m, ok := v.(map[string]any)
					if !ok {
						return nil, fmt.Errorf("plist holds %T, want a dict", v)
					}
					return m, nil
				}
			}
		}
	}
}

func TestLaunchd(t *testing.T) {
	app, out := runtimeApp(t)
	app.User, app.LogDir = "nobody", "/var/log/rt"
	dir, _ := export(t, "launchd", app, Options{})
	python, _ := exec.LookPath("python3")
	forEachInstance(t, app, out, func(ty Type, in Instance, ref dumped) {
		name := fmt.Sprintf("rt-%s-%d.plist", ty.Name, in.Num)
		if m := mode(t, filepath.Join(dir, name)); m != 0o600 {
			t.Errorf("%s has mode %v, want 0600: it holds the config", name, m)
		}
		job, err := parsePlist(readFile(t, dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if python != "" { // Python's plistlib must read it the same
			b, err := exec.Command(python, "-c", "import json, plistlib, sys; json.dump(plistlib.load(open(sys.argv[1], 'rb')), sys.stdout)", filepath.Join(dir, name)).Output()
			if err != nil {
				t.Fatalf("plistlib rejects %s: %v\n%s", name, err, errOutput(err))
			}
			var viaPy map[string]any
			if err := json.Unmarshal(b, &viaPy); err != nil {
				t.Fatal(err)
			}
			a, _ := json.Marshal(job)
			c, _ := json.Marshal(viaPy)
			if !bytes.Equal(a, c) {
				t.Errorf("%s: plistlib reads\n%s\nencoding/xml reads\n%s", name, c, a)
			}
		}
		for k, v := range map[string]any{
			"Label": fmt.Sprintf("rt-%s-%d", ty.Name, in.Num), "KeepAlive": true, "RunAtLoad": true,
			"ExitTimeOut": 3, "UserName": "nobody", "WorkingDirectory": app.Root,
			"StandardOutPath": fmt.Sprintf("/var/log/rt/rt-%s-%d.log", ty.Name, in.Num),
		} {
			if job[k] != v {
				t.Errorf("%s: %s is %#v, want %#v", name, k, job[k], v)
			}
		}
		var argv []string
		for _, a := range job["ProgramArguments"].([]any) {
			argv = append(argv, a.(string))
		}
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = job["WorkingDirectory"].(string)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), noRaceSleep}
		for k, v := range job["EnvironmentVariables"].(map[string]any) {
			cmd.Env = append(cmd.Env, k+"="+v.(string))
		}
		runCmd(t, cmd)
		checkRun(t, "launchd", readDump(t, out, in.Name), ref, app, in)
	})
}

func TestRunit(t *testing.T) {
	app, out := runtimeApp(t)
	app.User = "nobody"
	dir, _ := export(t, "runit", app, Options{})
	secretFree(t, dir)
	// chpst, here, is this test binary under that name.
	bin := t.TempDir()
	exe, _ := os.Executable()
	if err := os.Symlink(exe, filepath.Join(bin, "chpst")); err != nil {
		t.Fatal(err)
	}
	forEachInstance(t, app, out, func(ty Type, in Instance, ref dumped) {
		svc := filepath.Join(dir, fmt.Sprintf("rt-%s-%d", ty.Name, in.Num))
		for p, want := range map[string]os.FileMode{"run": 0o755, "log/run": 0o755, "env": 0o700, "env/PLAIN": 0o600, "env/MULTILINE": 0o600, ".": 0o755} {
			if m := mode(t, filepath.Join(svc, p)); m != want {
				t.Errorf("%s/%s has mode %v, want %v", svc, p, m, want)
			}
		}
		for _, script := range []string{"run", "log/run"} {
			if b, err := exec.Command("/bin/sh", "-n", filepath.Join(svc, script)).CombinedOutput(); err != nil {
				t.Errorf("sh -n %s/%s: %v\n%s", svc, script, err, b)
			}
		}
		cmd := exec.Command(filepath.Join(svc, "run")) // as runsv does, in the service directory
		cmd.Dir = svc
		cmd.Env = []string{"PATH=" + bin + ":" + os.Getenv("PATH"), noRaceSleep}
		runCmd(t, cmd)
		checkRun(t, "runit", readDump(t, out, in.Name), ref, app, in)
	})
}

func TestRunitTrailingBlank(t *testing.T) {
	app := goldenApp()
	app.Config = append(app.Config, envVar("TRAILING", "s3cret "))
	_, err := Write("runit", t.TempDir(), app, Options{})
	if err == nil || !strings.Contains(err.Error(), "TRAILING") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("want an error naming the key, not the value; got %v", err)
	}
}

func TestCompose(t *testing.T) {
	app, _ := runtimeApp(t)
	dir, _ := export(t, "compose", app, Options{})
	secretFree(t, dir)
	if m := mode(t, filepath.Join(dir, "rt.env")); m != 0o600 {
		t.Errorf("rt.env has mode %v, want 0600", m)
	}
	project, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  dir,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(dir, "compose.yaml")}},
		Environment: types.Mapping{"HOME": "/home/nobody", "x": "INTERPOLATED"},
	})
	if err != nil {
		t.Fatalf("the Compose loader rejects the export: %v", err)
	}
	if project.Name != "rt" {
		t.Errorf("project name %q", project.Name)
	}
	for _, ty := range app.Types {
		s, ok := project.Services[ty.Name]
		if !ok {
			t.Fatalf("no service %s in %v", ty.Name, project.ServiceNames())
		}
		if got, want := []string(s.Command), []string{"bash", "-c", ty.Command}; !slices.Equal(got, want) {
			t.Errorf("%s: command\n got %q\nwant %q", ty.Name, got, want)
		}
		if s.Deploy == nil || s.Deploy.Replicas == nil || *s.Deploy.Replicas != len(ty.Instances) {
			t.Errorf("%s: deploy %+v, want %d replicas", ty.Name, s.Deploy, len(ty.Instances))
		}
		if s.StopGracePeriod == nil || time.Duration(*s.StopGracePeriod) != 3*time.Second {
			t.Errorf("%s: stop_grace_period %v", ty.Name, s.StopGracePeriod)
		}
		if s.Image != app.Image || s.WorkingDir != DefaultWorkDir || s.Restart != "always" {
			t.Errorf("%s: image %q, working_dir %q, restart %q", ty.Name, s.Image, s.WorkingDir, s.Restart)
		}
		want := wantConfig()
		want["PORT"], want["PS"] = strconv.Itoa(ty.Instances[0].Port), ty.Name
		for k, v := range want {
			if g := s.Environment[k]; g == nil || *g != v {
				t.Errorf("%s: %s=%v, want %q", ty.Name, k, g, v)
			}
		}
		var ports []string
		for _, p := range s.Ports {
			ports = append(ports, fmt.Sprintf("%s:%d/%s", p.Published, p.Target, p.Protocol))
		}
		wantPorts := map[string][]string{"web": {"6000-6001:6000/tcp"}}[ty.Name]
		if !slices.Equal(ports, wantPorts) {
			t.Errorf("%s: ports %q, want %q", ty.Name, ports, wantPorts)
		}
	}
}

// kubeObjects decodes every document of the export, strictly: a field the
// Kubernetes API types do not have is an error.
func kubeObjects(t *testing.T, dir string) (secrets []corev1.Secret, deps []appsv1.Deployment, svcs []corev1.Service) {
	t.Helper()
	for p, b := range readTree(t, dir) {
		for i, doc := range bytes.Split(b, []byte("\n---\n")) {
			var meta struct{ Kind, APIVersion string }
			if err := yaml.Unmarshal(doc, &meta); err != nil {
				t.Fatalf("%s document %d: %v", p, i, err)
			}
			var err error
			switch meta.Kind {
			case "Secret":
				var s corev1.Secret
				err = yaml.UnmarshalStrict(doc, &s)
				secrets = append(secrets, s)
			case "Deployment":
				var d appsv1.Deployment
				err = yaml.UnmarshalStrict(doc, &d)
				deps = append(deps, d)
			case "Service":
				var s corev1.Service
				err = yaml.UnmarshalStrict(doc, &s)
				svcs = append(svcs, s)
			default:
				t.Fatalf("%s document %d: kind %q", p, i, meta.Kind)
			}
			if err != nil {
				t.Fatalf("%s document %d (%s) is not a valid %s: %v", p, i, meta.APIVersion, meta.Kind, err)
			}
		}
	}
	return
}

func TestKubernetes(t *testing.T) {
	for _, split := range []bool{false, true} {
		t.Run(fmt.Sprintf("split=%v", split), func(t *testing.T) {
			app, _ := runtimeApp(t)
			app.Types = append(app.Types, Type{Name: "clock_2", Command: "bin/clock", Port: 6200})
			dir, res := export(t, "kubernetes", app, Options{Split: split})
			secretFree(t, dir)
			for _, p := range res.Written {
				want := os.FileMode(0o644)
				if !split || strings.Contains(p, "secret") {
					want = 0o600
				}
				if m := mode(t, filepath.Join(dir, p)); m != want {
					t.Errorf("%s has mode %v, want %v", p, m, want)
				}
			}
			if got := len(res.Written); split && got != 5 || !split && got != 1 {
				t.Errorf("wrote %q", res.Written)
			}
			secrets, deps, svcs := kubeObjects(t, dir)
			if len(secrets) != 1 || len(deps) != 3 || len(svcs) != 1 {
				t.Fatalf("%d secrets, %d deployments, %d services; want 1, 3, 1", len(secrets), len(deps), len(svcs))
			}
			sec := secrets[0]
			if !mapsEqual(sec.StringData, wantConfig()) {
				t.Errorf("Secret stringData:\n got %q\nwant %q", sec.StringData, wantConfig())
			}
			for k := range sec.StringData {
				if errs := validation.IsConfigMapKey(k); errs != nil {
					t.Errorf("secret key %q: %v", k, errs)
				}
			}
			byName := map[string]appsv1.Deployment{}
			for _, d := range deps {
				byName[d.Name] = d
				if errs := validation.IsDNS1123Subdomain(d.Name); errs != nil {
					t.Errorf("deployment name %q: %v", d.Name, errs)
				}
			}
			for _, ty := range app.Types {
				name := "rt-" + dnsLabel(ty.Name)
				d, ok := byName[name]
				if !ok {
					t.Fatalf("no Deployment %s", name)
				}
				spec := d.Spec.Template.Spec
				c := spec.Containers[0]
				if d.Spec.Replicas == nil || int(*d.Spec.Replicas) != len(ty.Instances) {
					t.Errorf("%s: replicas %v, want %d", name, d.Spec.Replicas, len(ty.Instances))
				}
				for k, v := range d.Spec.Selector.MatchLabels {
					if d.Spec.Template.Labels[k] != v {
						t.Errorf("%s: the selector %s=%s does not select its pods", name, k, v)
					}
					if errs := validation.IsDNS1123Label(v); errs != nil {
						t.Errorf("%s: label %s=%s: %v", name, k, v, errs)
					}
				}
				if errs := validation.IsDNS1123Label(c.Name); errs != nil {
					t.Errorf("container name %q: %v", c.Name, errs)
				}
				if len(c.Command) != 3 || c.Command[0] != "bash" || c.Command[1] != "-c" ||
					kubeletExpand(c.Command[2], map[string]string{"PORT": "1", "x": "EXPANDED"}) != ty.Command {
					t.Errorf("%s: command %q, which the kubelet runs as %q; want bash -c %q", name, c.Command, kubeletExpand(c.Command[len(c.Command)-1], nil), ty.Command)
				}
				if spec.TerminationGracePeriodSeconds == nil || *spec.TerminationGracePeriodSeconds != 3 {
					t.Errorf("%s: terminationGracePeriodSeconds %v", name, spec.TerminationGracePeriodSeconds)
				}
				if c.Image != app.Image || c.WorkingDir != DefaultWorkDir {
					t.Errorf("%s: image %q, workingDir %q", name, c.Image, c.WorkingDir)
				}
				if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef == nil || c.EnvFrom[0].SecretRef.Name != sec.Name {
					t.Errorf("%s: envFrom %+v, want the Secret %s", name, c.EnvFrom, sec.Name)
				}
				env := map[string]string{}
				for _, e := range c.Env {
					env[e.Name] = e.Value
				}
				if want := map[string]string{"PORT": strconv.Itoa(typePort(ty)), "PS": ty.Name}; !mapsEqual(env, want) {
					t.Errorf("%s: env %v, want %v", name, env, want)
				}
				isWeb := ty.Name == "web"
				if isWeb != (len(c.Ports) == 1 && c.ReadinessProbe != nil) {
					t.Errorf("%s: ports %+v, readiness %+v", name, c.Ports, c.ReadinessProbe)
				}
				if isWeb && (c.Ports[0].ContainerPort != 6000 || c.ReadinessProbe.TCPSocket == nil || c.ReadinessProbe.TCPSocket.Port.String() != c.Ports[0].Name) {
					t.Errorf("%s: port %+v, readiness probe %+v", name, c.Ports[0], c.ReadinessProbe)
				}
			}
			svc := svcs[0]
			web := byName["rt-web"]
			if errs := validation.IsDNS1035Label(svc.Name); errs != nil {
				t.Errorf("service name %q: %v", svc.Name, errs)
			}
			for k, v := range svc.Spec.Selector {
				if web.Spec.Template.Labels[k] != v {
					t.Errorf("the Service selector %s=%s misses web's pods", k, v)
				}
			}
			if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort.String() != "http" {
				t.Errorf("service ports %+v", svc.Spec.Ports)
			}
		})
	}
}
