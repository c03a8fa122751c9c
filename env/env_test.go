package env_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/gangerdev/ganger/env"
)

func TestZeroEnv(t *testing.T) {
	var e env.Env
	if e.Len() != 0 || len(e.Vars()) != 0 || len(e.Environ()) != 0 {
		t.Fatal("zero Env not empty")
	}
	if _, ok := e.Get("A"); ok {
		t.Fatal("zero Env has A")
	}
	e.Set("B", "2", env.SourceGanger)
	e.Set("A", "1", "x.env")
	e.Set("B", "3", env.SourceGanger)
	if got, want := e.Environ(), []string{"A=1", "B=3"}; !slices.Equal(got, want) {
		t.Fatalf("Environ = %q, want %q", got, want)
	}
	if v, ok := e.Lookup("B"); !ok || v != (env.Var{Key: "B", Value: "3", Source: env.SourceGanger}) {
		t.Fatalf("Lookup(B) = %+v, %v", v, ok)
	}
	if e.Len() != 2 {
		t.Fatalf("Len = %d", e.Len())
	}
}

func TestFromEnviron(t *testing.T) {
	e := env.FromEnviron([]string{"Z=1", "A=b=c", "NOEQUALS", "=x", "D=first", "D=last", "E="})
	want := []env.Var{
		{Key: "A", Value: "b=c", Source: env.SourceShell},
		{Key: "D", Value: "last", Source: env.SourceShell},
		{Key: "E", Value: "", Source: env.SourceShell},
		{Key: "Z", Value: "1", Source: env.SourceShell},
	}
	if got := e.Vars(); !slices.Equal(got, want) {
		t.Fatalf("Vars = %+v\nwant %+v", got, want)
	}
	if got, want := e.Environ(), []string{"A=b=c", "D=last", "E=", "Z=1"}; !slices.Equal(got, want) {
		t.Fatalf("Environ = %q, want %q", got, want)
	}
}

func TestClone(t *testing.T) {
	a := env.FromEnviron([]string{"A=1"})
	b := a.Clone()
	b.Set("A", "2", env.SourceGanger)
	b.Set("B", "x", env.SourceGanger)
	if v, _ := a.Get("A"); v != "1" || a.Len() != 1 {
		t.Fatalf("clone shares state: A=%q len=%d", v, a.Len())
	}
	var nilEnv *env.Env
	if c := nilEnv.Clone(); c == nil || c.Len() != 0 {
		t.Fatal("nil Clone")
	}
	c := (&env.Env{}).Clone()
	c.Set("A", "1", "s")
	if c.Len() != 1 {
		t.Fatal("clone of zero Env not usable")
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	first := writeFile(t, dir, ".env", "HOST=db\nA=one\nKEEP\nONLY1=x\n")
	second := writeFile(t, dir, ".env.local", "# local\nURL=http://${HOST}:${PORT:-5432}/\nA=two\nPATH=/x:$PATH\nSELF=$A\n")
	base := env.FromEnviron([]string{"PATH=/bin", "HOME=/h", "A=shell", "KEEP=inherited"})

	got, err := env.Load(base, first, second)
	if err != nil {
		t.Fatal(err)
	}
	want := []env.Var{
		{Key: "A", Value: "two", Source: second, Line: 3},
		{Key: "HOME", Value: "/h", Source: env.SourceShell},
		{Key: "HOST", Value: "db", Source: first, Line: 1},
		{Key: "KEEP", Value: "inherited", Source: env.SourceShell},
		{Key: "ONLY1", Value: "x", Source: first, Line: 4},
		{Key: "PATH", Value: "/x:/bin", Source: second, Line: 4},
		{Key: "SELF", Value: "two", Source: second, Line: 5},
		{Key: "URL", Value: "http://db:5432/", Source: second, Line: 2},
	}
	if vars := got.Vars(); !slices.Equal(vars, want) {
		t.Errorf("Load:\n got %+v\nwant %+v", vars, want)
	}
	// base is untouched.
	if got, want := base.Environ(), []string{"A=shell", "HOME=/h", "KEEP=inherited", "PATH=/bin"}; !slices.Equal(got, want) {
		t.Errorf("base modified: %q", got)
	}

	// Order matters: the later file wins, and expansion sees only earlier files.
	rev, err := env.Load(base, second, first)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := rev.Get("A"); v != "one" {
		t.Errorf("reversed A = %q, want one", v)
	}
	if v, _ := rev.Get("URL"); v != "http://:5432/" {
		t.Errorf("reversed URL = %q, want http://:5432/ (HOST not yet defined)", v)
	}

	// No files, nil base.
	if e, err := env.Load(nil); err != nil || e.Len() != 0 {
		t.Errorf("Load(nil) = %v, %v", e, err)
	}
	if e, err := env.Load(nil, first); err != nil || e.Len() != 3 {
		t.Errorf("Load(nil, first) = %v, %v", e.Environ(), err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.env", "A=1\n")
	bad := writeFile(t, dir, "bad.env", "A=1\nMY KEY=2\nB=\"x\n")
	missing := filepath.Join(dir, ".env.test")
	base := env.FromEnviron([]string{"A=0"})

	_, err := env.Load(base, good, missing)
	if err == nil || err.Error() != `env file "`+missing+`": no such file` || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v (is ErrNotExist: %v)", err, errors.Is(err, fs.ErrNotExist))
	}

	_, err = env.Load(base, bad)
	want := bad + `:2: invalid key "MY": unexpected text at column 4; keys are letters, digits, '_' and '.', followed by '=' or ':'` + "\n" +
		bad + `:3: unterminated double quote in the value of "B" (opened at column 3): add the closing "`
	if err == nil || err.Error() != want {
		t.Errorf("bad file:\n got %v\nwant %s", err, want)
	}

	_, err = env.Load(base, dir)
	if err == nil || err.Error() != `env file "`+dir+`" is a directory; name a file` {
		t.Errorf("directory: %v", err)
	}

	if os.Geteuid() != 0 {
		locked := writeFile(t, dir, "locked.env", "A=1\n")
		if err := os.Chmod(locked, 0); err != nil {
			t.Fatal(err)
		}
		_, err = env.Load(base, locked)
		if err == nil || err.Error() != `env file "`+locked+`": cannot read: permission denied` || !errors.Is(err, fs.ErrPermission) {
			t.Errorf("unreadable: %v", err)
		}
	}
	if v, _ := base.Get("A"); v != "0" || base.Len() != 1 {
		t.Errorf("base modified by a failed Load")
	}
}

func TestCheckExec(t *testing.T) {
	ok := env.FromEnviron([]string{"A=1", "B=" + strings.Repeat("x", env.MaxEntry-4)})
	if err := ok.CheckExec(); err != nil {
		t.Fatalf("entry of exactly MaxEntry: %v", err)
	}

	secret := strings.Repeat("s", 199995)
	tooBig := env.FromEnviron([]string{"A=1", "KEY=" + secret, "Z=" + secret})
	err := tooBig.CheckExec()
	want := `variable "KEY" is too large to pass to a program (200000 bytes; Linux allows 131072 per variable)`
	if err == nil || err.Error() != want {
		t.Errorf("large variable:\n got %v\nwant %s", err, want)
	}

	var many env.Env
	for i := range 15 {
		many.Set("V"+strings.Repeat("_", i), strings.Repeat("v", 100000+i), env.SourceShell)
	}
	if err := many.CheckExec(); err != nil {
		t.Errorf("1.5 MB environment: %v", err)
	}
	many.Set("W", strings.Repeat("w", 100000), env.SourceShell)
	err = many.CheckExec()
	want = `environment is too large to pass to a program (1600394 bytes in 16 variables; keep it under 1572864 so it fits Linux's 2 MiB for arguments and environment); the largest is "V______________" (100031 bytes)`
	if err == nil || err.Error() != want {
		t.Errorf("total:\n got %v\nwant %s", err, want)
	}

	for _, tc := range []struct {
		key, value, want string
	}{
		{"", "v", "a variable has an empty name; programs cannot receive it"},
		{"A=B", "v", `invalid variable name "A=B": names cannot hold '=' or a NUL byte`},
		{"A\x00", "v", `invalid variable name "A\x00": names cannot hold '=' or a NUL byte`},
		{"A", "sec\x00ret", `variable "A" holds a NUL byte; programs cannot receive it`},
	} {
		var e env.Env
		e.Set(tc.key, tc.value, env.SourceGanger)
		if err := e.CheckExec(); err == nil || err.Error() != tc.want {
			t.Errorf("Set(%q): got %v, want %s", tc.key, err, tc.want)
		}
	}
}

// TestCheckExecMatchesKernel runs a real program with a variable just over
// and just under the per-variable limit, so the constant stays honest.
func TestCheckExecMatchesKernel(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("MAX_ARG_STRLEN, the per-variable limit, is Linux's")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	for _, size := range []int{env.MaxEntry, env.MaxEntry + 1} {
		var e env.Env
		e.Set("BIG", strings.Repeat("x", size-len("BIG=")-1), env.SourceGanger)
		checkErr := e.CheckExec()
		p, startErr := os.StartProcess(exe, []string{exe, "-test.run=^$"}, &os.ProcAttr{Env: e.Environ()})
		if startErr == nil {
			if _, err := p.Wait(); err != nil {
				t.Fatal(err)
			}
		}
		if (checkErr == nil) != (startErr == nil) {
			t.Errorf("entry of %d bytes: CheckExec %v, exec %v", size, checkErr, startErr)
		}
	}
}

func TestSecrets(t *testing.T) {
	for _, tc := range []struct {
		key, value string
		secret     bool
		masked     string
	}{
		{"API_KEY", "abc", true, "****"},
		{"github_token", "ghp_x", true, "****"},
		{"DB_PASSWORD", "pw", true, "****"},
		{"PASSWD", "pw", true, "****"},
		{"AWS_SECRET_ACCESS_KEY", "x", true, "****"},
		{"GOOGLE_CREDENTIALS", "{}", true, "****"},
		{"SECRET", "", true, ""},
		{"DATABASE_URL", "postgres://u:p4ss@db:5432/x", true, "postgres://u:****@db:5432/x"},
		{"DATABASE_URL", "postgres://u@db:5432/x", false, "****"},
		{"DATABASE_URL", "postgres://db/x", false, "****"},
		{"REDIS", "redis://:pw@cache:6379", true, "redis://:****@cache:6379"},
		{"URLS", "amqp://a:1@h1/v, amqp://b:2@h2", true, "amqp://a:****@h1/v, amqp://b:****@h2"},
		{"WEIRD", "http://u:p@ss@host/?q=a@b", true, "http://u:****@host/?q=a@b"},
		{"EMPTY_PW", "http://u:@host/", false, "****"},
		{"PORT", "5000", false, "****"},
		{"NOTE", "see http://example.com/a:b@c", false, "****"},
		{"NOTE", "://u:p@h", false, "****"},
	} {
		if got := env.IsSecret(tc.key, tc.value); got != tc.secret {
			t.Errorf("IsSecret(%q, %q) = %v, want %v", tc.key, tc.value, got, tc.secret)
		}
		if got := env.Mask(tc.value); got != tc.masked {
			t.Errorf("Mask(%q) = %q, want %q", tc.value, got, tc.masked)
		}
	}
}

func TestCheckEntries(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("x", env.MaxEntry)
	file := writeFile(t, dir, ".env", "A=1\nBIG="+big+"\nOK=2\nHUGE="+big+big+"\n")
	loaded, err := env.Load(env.FromEnviron([]string{"SHELL_VAR=s"}), file)
	if err != nil {
		t.Fatal(err)
	}
	withNUL := loaded.Clone()
	withNUL.Set("NUL", "a\x00b", env.SourceGanger)

	var many env.Env
	for i := range 16 {
		many.Set("V"+strings.Repeat("_", i), strings.Repeat("v", 100000), env.SourceShell)
	}

	for _, tc := range []struct {
		name string
		env  *env.Env
		want []string // each error; "" for none
	}{
		{"fine", env.FromEnviron([]string{"A=1", "B=2"}), nil},
		{"every large variable, with its file and line", loaded, []string{
			file + `:2: variable "BIG" is too large to pass to a program (131077 bytes; Linux allows 131072 per variable)`,
			file + `:4: variable "HUGE" is too large to pass to a program (262150 bytes; Linux allows 131072 per variable)`,
		}},
		{"a NUL byte from elsewhere", withNUL, []string{
			file + `:2: variable "BIG" is too large to pass to a program (131077 bytes; Linux allows 131072 per variable)`,
			file + `:4: variable "HUGE" is too large to pass to a program (262150 bytes; Linux allows 131072 per variable)`,
			`variable "NUL" holds a NUL byte; programs cannot receive it`,
		}},
		{"total", &many, []string{
			`environment is too large to pass to a program (1600304 bytes in 16 variables; keep it under 1572864 so it fits Linux's 2 MiB for arguments and environment); the largest is "V_______________" (100018 bytes)`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.env.CheckEntries()
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("CheckEntries:\n got %q\nwant %q", got, tc.want)
			}
			for _, one := range joinedErrors(err) {
				var le *env.LineError
				if errors.As(one, &le) != strings.HasPrefix(one.Error(), file) {
					t.Errorf("%q: *LineError %v, want it exactly when it names the file", one, le)
				}
			}
			// CheckExec reports the first of them.
			if first := tc.env.CheckExec(); (first == nil) != (err == nil) {
				t.Errorf("CheckExec = %v, CheckEntries = %v", first, err)
			}
		})
	}
	if err := loaded.CheckExec(); err == nil || err.Error() != `variable "BIG" (from `+file+`:2) is too large to pass to a program (131077 bytes; Linux allows 131072 per variable)` {
		t.Errorf("CheckExec = %v", err)
	}
}

func joinedErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// TestIsSecretKeys covers each word rule of IsSecret, with a value that is
// no URL.
func TestIsSecretKeys(t *testing.T) {
	for _, tc := range []struct {
		key    string
		secret bool
	}{
		// A word holds SECRET, TOKEN, PASSWORD, PASSWD, PASSPHRASE, CREDENTIAL.
		{"WEBHOOK_SECRET", true}, {"client-secret", true}, {"GITHUBTOKEN", true}, {"PGPASSWORD", true},
		{"DB_PASSWD", true}, {"GPG_PASSPHRASE", true}, {"GOOGLE_APPLICATION_CREDENTIALS", true}, {"SECRETS", true},
		// A word ends in KEY or KEYS.
		{"API_KEY", true}, {"APIKEY", true}, {"apiKey", true}, {"APIKey", true}, {"SECRET_KEY_BASE", true},
		{"AWS_ACCESS_KEY_ID", true}, {"API_KEYS", true}, {"KEY2", true}, {"S3KEY", true}, {"KEY", true},
		{"KEYBOARD_LAYOUT", false}, {"keyboardLayout", false}, {"KEYCLOAK_URL", false},
		// A word is PASS, PWD, SK, PRIVATE, PEM, CERT, SALT, DSN.
		{"DB_PASS", true}, {"dbPass", true}, {"MYSQL_PWD", true}, {"STRIPE_SK", true}, {"stripeSk", true},
		{"SK_LIVE", true}, {"PRIVATE_PEM", true}, {"TLS_CERT", true}, {"PASSWORD_SALT", true},
		{"SENTRY_DSN", true}, {"PRIVATE", true},
		{"PASSENGER_APP_ENV", false}, {"PASSENGER_MAX_POOL_SIZE", false}, {"PATH", false}, {"GIT_ASKPASS", false},
		{"COMPASS_DIR", false}, {"BYPASS", false}, {"DESK", false}, {"OLDPWD", false}, {"SKIP", false},
		// The last word is AUTH, SESSION, COOKIE, SIGNATURE.
		{"AUTH", true}, {"REDIS_AUTH", true}, {"basicAuth", true}, {"ADMIN_SESSION", true}, {"AUTH_COOKIE", true},
		{"WEBHOOK_SIGNATURE", true}, {"REDIS_AUTH2", true},
		{"SSH_AUTH_SOCK", false}, {"AUTH_URL", false}, {"AUTH0_DOMAIN", false}, {"XDG_SESSION_TYPE", false},
		{"DBUS_SESSION_BUS_ADDRESS", false}, {"SESSION_DRIVER", false}, {"COOKIE_DOMAIN", false},
		{"SESSION_COOKIE_NAME", false}, {"S3_SIGNATURE_VERSION", false}, {"MAX_SESSIONS", false},
		// The shell's working directory.
		{"PWD", false},
		// Nothing.
		{"PORT", false}, {"HOME", false}, {"RAILS_ENV", false}, {"", false}, {"_", false}, {"42", false}, {"A.B-C", false},
	} {
		if got := env.IsSecret(tc.key, "v"); got != tc.secret {
			t.Errorf("IsSecret(%q) = %v, want %v", tc.key, got, tc.secret)
		}
	}
}
