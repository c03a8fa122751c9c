package router

import (
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"
)

// failure is what an error page says: the code, the instance tried (if
// any) and its last exit, and the table when no instance could be tried.
type failure struct {
	code    code
	dyno    string
	detail  string
	rows    []row
	timeout time.Duration
}

// processType is the type of an instance name: "web" for "web.2".
func processType(name string) string {
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			return name[:i]
		}
	}
	return name
}

// lines are the page's paragraphs, as plain text: what happened, then
// what to do.
func (f *failure) lines() (what []string, hint string) {
	typ := "web"
	if f.dyno != "" {
		typ = processType(f.dyno)
	} else if len(f.rows) > 0 {
		typ = processType(f.rows[0].name)
	}
	for _, r := range f.rows {
		switch r.phase {
		case booting:
			what = append(what, r.name+": starting, not listening on its port yet")
		case up:
			what = append(what, r.name+": up")
		case down:
			d := r.detail
			if d == "" {
				d = "not running"
			}
			what = append(what, r.name+": "+d)
		}
	}
	exited := ""
	if f.detail != "" {
		exited = " It has since " + f.detail + "."
	}
	switch f.code {
	case h10:
		hint = `Its output in ganger's log says why. Once fixed, "ganger restart ` + typ + `" starts it again; "ganger ps" lists the processes.`
	case h14:
		if len(f.rows) == 0 {
			what = append(what, "No web process is part of the formation.")
			hint = `Check the Procfile's web entry and the formation; "ganger ps" lists the processes.`
		} else {
			hint = `"ganger restart ` + typ + `" starts it again; "ganger ps" lists the processes.`
		}
	case h20:
		what = append(what, fmt.Sprintf("None was listening on its port within %v of this request.", f.timeout))
		hint = `A web process must listen on $PORT. Its output in ganger's log shows how far it got; "ganger ps" lists the processes.`
	case h12:
		what = append(what, fmt.Sprintf("%s sent no response within %v.%s", f.dyno, f.timeout, exited))
		hint = `A slow request, or a process that hangs: its output in ganger's log may say which. "ganger restart ` + typ + `" restarts it.`
	case h13:
		what = append(what, f.dyno+" closed the connection without a response."+exited)
		hint = `Its output in ganger's log may say why; "ganger ps" lists the processes.`
	case h21:
		what = append(what, f.dyno+" refused the connection."+exited)
		hint = `A web process must listen on $PORT; "ganger ps" lists the processes.`
	default:
		hint = `"ganger ps" lists the processes.`
	}
	return what, hint
}

// page is f's error page: HTML when the client accepts it, else plain
// text; its Content-Type and body.
func (f *failure) page(asHTML bool) (ctype string, body []byte) {
	what, hint := f.lines()
	var b strings.Builder
	if asHTML {
		b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Application error</title>\n" +
			"<style>body{font-family:system-ui,sans-serif;margin:3em auto;max-width:40em;color:#222}" +
			"code{background:#eee;padding:0 .2em}</style></head>\n<body>\n<h1>Application error</h1>\n<p><b>")
		b.WriteString(f.code.id())
		b.WriteString("</b> ")
		b.WriteString(f.code.desc())
		b.WriteString("</p>\n")
		if len(what) > 0 {
			b.WriteString("<ul>\n")
			for _, l := range what {
				b.WriteString("<li>" + html.EscapeString(l) + "</li>\n")
			}
			b.WriteString("</ul>\n")
		}
		b.WriteString("<p>" + html.EscapeString(hint) + "</p>\n<p><small>ganger router</small></p>\n</body></html>\n")
		return "text/html; charset=utf-8", []byte(b.String())
	}
	b.WriteString(f.code.id() + " " + f.code.desc() + "\n")
	for _, l := range what {
		b.WriteString(l + "\n")
	}
	b.WriteString(hint + "\n")
	return "text/plain; charset=utf-8", []byte(b.String())
}
