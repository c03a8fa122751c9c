package app

import "errors"

// Problem is one thing wrong in one of the app's files, as check reports
// it: the file, the line (0 for the whole file) and the message with its
// hint.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

// located is what every parser's line error offers (procfile, env and
// config each have one): where the problem is, and what it is without the
// location. Problems asks for it without knowing the packages.
type located interface {
	error
	Location() (file string, line int)
	Detail() string
}

// problemsOf turns an error, possibly joined, into one Problem per located
// error in it; anything else becomes a Problem with only a message.
func problemsOf(err error) []Problem {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []Problem
		for _, e := range j.Unwrap() {
			out = append(out, problemsOf(e)...)
		}
		return out
	}
	var l located
	if errors.As(err, &l) {
		file, line := l.Location()
		return []Problem{{File: file, Line: line, Message: l.Detail()}}
	}
	return []Problem{{Message: err.Error()}}
}
