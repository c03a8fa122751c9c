package export

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/template"

	"github.com/gangerdev/ganger/procfile"
)

//go:embed templates
var builtin embed.FS

// Data is the value every template is executed with. Files written once
// per app see a zero Type and Instance; files written per type see Type;
// files written per instance see both.
type Data struct {
	App       App    // normalised: Config without PORT, PS and DYNO; Timeout and WorkDir defaulted
	Format    string // "systemd", ...
	Dir       string // the export directory, absolute
	EnvRef    string // where the config lives; see each format in the package doc
	Timeout   int    // App.Timeout in whole seconds, at least 1
	UserUnits bool   // systemd: units for the user manager
	Type      Type
	Instance  procfile.Instance
}

// funcs are the functions templates may call. Each quotes for one engine;
// the ones returning an error stop the export when a value cannot be
// written safely.
func funcs() template.FuncMap {
	return template.FuncMap{
		"systemdWord":     systemdWord,         // one double-quoted word of an Exec line
		"systemdPath":     systemdPath,         // a path setting, specifiers escaped
		"shQuote":         procfile.ShellQuote, // a POSIX sh single-quoted word
		"supervisorArg":   supervisorArg,       // one argument of a supervisord command=
		"supervisorValue": supervisorValue,     // a whole supervisord option value
		"xml":             xmlText,             // XML character data
		"json":            jsonString,          // a JSON string, also a YAML double-quoted scalar
		"dollars":         dollars,             // "$" doubled, for Compose and the kubelet
		"dns":             dnsLabel,            // a Kubernetes name
		"port":            typePort,            // the PORT of a Type's replicas; 0 for none
		"published":       published,           // Compose "HOST:CONTAINER" ports of a Type
	}
}

// published is the Compose short port syntax publishing every replica of
// t: "5000:5000", or "5000-5001:5000" for two replicas.
func published(t Type) string {
	p := typePort(t)
	if len(t.Instances) > 1 {
		last := t.Instances[len(t.Instances)-1].Port
		if last > p {
			return fmt.Sprintf("%d-%d:%d", p, last, p)
		}
	}
	return fmt.Sprintf("%d:%d", p, p)
}

// Templates returns the built-in templates of format, to copy as a
// starting point for Options.Template.
func Templates(format string) (fs.FS, error) {
	f, err := lookup(format)
	if err != nil {
		return nil, err
	}
	return fs.Sub(builtin, "templates/"+f.name)
}

// loadTemplates parses the templates of f: the built-in ones, each replaced
// by the file of the same name in dir when dir is set. A *.tmpl file in dir
// that f does not use is an error, so a misspelt name does not go unnoticed.
func loadTemplates(f format, dir string) (map[string]*template.Template, error) {
	if dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("template directory: %w", err)
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".tmpl") && !slices.Contains(f.templates, e.Name()) {
				return nil, fmt.Errorf("template %s: %s does not use a template of that name; it uses %s",
					filepath.Join(dir, e.Name()), f.name, strings.Join(f.templates, ", "))
			}
		}
	}
	out := make(map[string]*template.Template, len(f.templates))
	for _, name := range f.templates {
		text, err := builtin.ReadFile("templates/" + f.name + "/" + name)
		if err != nil {
			return nil, fmt.Errorf("built-in template %s/%s: %w", f.name, name, err)
		}
		src := f.name + "/" + name
		if dir != "" {
			user := filepath.Join(dir, name)
			b, err := os.ReadFile(user)
			switch {
			case err == nil:
				text, src = b, user
			case !errors.Is(err, fs.ErrNotExist):
				return nil, fmt.Errorf("template: %w", err)
			}
		}
		t, err := template.New(src).Funcs(funcs()).Option("missingkey=error").Parse(string(text))
		if err != nil {
			return nil, err // text/template names the file and line
		}
		out[name] = t
	}
	return out, nil
}

// outFile is one file to write, its path relative to the export directory.
type outFile struct {
	path  string
	mode  fs.FileMode
	data  []byte
	owner string // chown to this user when running as root
}

// renderer collects the files of one export.
type renderer struct {
	f     format
	app   App
	opt   Options
	dir   string
	tmpls map[string]*template.Template
	files []outFile
	dirs  map[string]fs.FileMode // directories with a mode other than 0755
	notes []string
}

func (r *renderer) data() Data {
	return Data{
		App:       r.app,
		Format:    r.f.name,
		Dir:       r.dir,
		Timeout:   timeoutSeconds(r.app.Timeout),
		UserUnits: r.opt.UserUnits,
	}
}

// exec runs the template name with d.
func (r *renderer) exec(name string, d Data) ([]byte, error) {
	var b bytes.Buffer
	if err := r.tmpls[name].Execute(&b, d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// add renders template name with d into path.
func (r *renderer) add(path string, mode fs.FileMode, name string, d Data) error {
	b, err := r.exec(name, d)
	if err != nil {
		return err
	}
	r.addData(path, mode, b)
	return nil
}

func (r *renderer) addData(path string, mode fs.FileMode, b []byte) {
	r.files = append(r.files, outFile{path: path, mode: mode, data: b})
}

// render produces every file of an export of app in dir, in memory.
func render(f format, dir string, app App, opt Options) (*renderer, error) {
	tmpls, err := loadTemplates(f, opt.Template)
	if err != nil {
		return nil, err
	}
	r := &renderer{f: f, app: app, opt: opt, dir: dir, tmpls: tmpls, dirs: map[string]fs.FileMode{}}
	if err := f.render(r); err != nil {
		return nil, fmt.Errorf("%s: %w", f.name, err)
	}
	slices.SortFunc(r.files, func(a, b outFile) int { return strings.Compare(a.path, b.path) })
	for i := 1; i < len(r.files); i++ {
		if r.files[i].path == r.files[i-1].path {
			return nil, fmt.Errorf("%s: two files named %s; rename a process type", f.name, r.files[i].path)
		}
	}
	return r, nil
}
