// Package app is the app as the platform sees it, between the command line
// and the packages that do the work.
//
// It owns loading an app (its Procfile, env files, ganger.yml and, when
// asked, the slug of "ganger build") from typed Options; the formation and
// each instance's environment; the release phase; running a formation from a
// context.Context and an output writer; the reload decisions of --watch; the
// verdicts of the boot check; and what "ganger export", "ganger check" and
// "ganger run" need.
//
// It knows nothing of flags, GANGER_* variables, .foreman, terminals or
// os/signal: cmd/ganger resolves those into Options and Signals. Errors that
// decide the exit code are typed: UsageError (a mistake on the command line,
// exit 2) and ExitError (a given code). Only cmd/ganger imports this package.
package app
