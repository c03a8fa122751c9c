package procfile

// Formation maps process types to instance counts. The key "all" sets the
// count of every type not named. A nil Formation means one of each type.
type Formation map[string]int

// All is the formation key that sets the default count.
const All = "all"

// Instance is one process ganger runs: "web.2" is Type "web", Num 2.
type Instance struct {
	Type    string `json:"type"`
	Num     int    `json:"num"`   // 1-based
	Name    string `json:"name"`  // Type + "." + Num
	Index   int    `json:"index"` // the entry's index in the Procfile
	Port    int    `json:"port"`
	Command string `json:"command"`
}

// ParseFormation parses "web=2,all=1" (foreman's -m, forego's -c) and heroku
// local's positional "web=2,worker", where a bare name means 1. Blanks are
// ignored, empty items are skipped. A bad item is an error naming it.
func ParseFormation(spec string) (Formation, error) { panic("TODO") }

// Instances expands p into the instances to run, in Procfile order, then by
// instance number.
//
// types are the types named on the command line; when empty, every entry
// but "release" is selected. Counts: f[type] when present, else f["all"]
// when present, else 1 when f is nil or the type was named in types, else 0.
// "release" is only ever selected when named in types or explicitly in f.
// A type in types or f that the Procfile lacks is an error listing the
// types it has. A count over 100 (ports would collide with the next type) or
// a port above 65535 is an error.
func Instances(p *Procfile, types []string, f Formation, basePort int) ([]Instance, error) {
	panic("TODO")
}

// Port is the PORT of instance num (1-based) of the entry at index.
func Port(base, index, num int) int { return base + 100*index + num - 1 }
