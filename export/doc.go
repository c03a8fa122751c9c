// Package export writes a formation as the configuration of a process
// manager or orchestrator: systemd, supervisord, launchd, runit, Compose and
// Kubernetes ("ganger export FORMAT DIR"). The CLI builds an App (the
// formation from the Procfile, the config from the env files) and calls
// Write; this package owns rendering, quoting for each engine, and writing
// the files safely.
//
// # What every format does
//
// Each process runs the type's Command as "/bin/sh -c COMMAND" in App.Root
// ("bash -c COMMAND" in App.WorkDir, /app by default, for the image
// formats), as "ganger start" does; the command is passed through untouched
// and quoted for each engine, so the shell sees exactly the Procfile text.
// Each instance gets PORT (when its port is not 0), PS and DYNO ("web.2");
// an env file's own PORT, PS or DYNO is dropped, as ganger's values win in
// "ganger start" too. App.Config holds the env-file variables only; they are
// never written inline into a world-readable file:
//
//	systemd      APP.target wanting one instance per process; a template unit
//	             APP-TYPE@.service per type (Restart=always,
//	             KillMode=control-group, TimeoutStopSec from App.Timeout);
//	             APP-TYPE@N.service.d/ganger.conf sets instance N's PORT;
//	             PS and DYNO come from %i. The config is APP.env (mode 0600,
//	             EnvironmentFile=, systemd's quoting). Options.UserUnits
//	             writes units for "systemctl --user" (no User=, WantedBy
//	             default.target). A type scaled to 0 keeps its template unit;
//	             the target wants no instance of it.
//	supervisord  APP.conf with one [program:APP-TYPE] per type, numprocs from
//	             the formation (processes APP-TYPE-1..N), stopasgroup and
//	             killasgroup. supervisord can only put environment= inline,
//	             so each process is started as /bin/sh -c 'set -a && .
//	             APP.env && ... exec /bin/sh -c "$4"', sourcing APP.env (mode
//	             0600, sh quoting, given to App.User when run as root) and
//	             deriving PORT from %(process_num)d, so a type's instances
//	             must be numbered 1..N with consecutive ports. A type scaled
//	             to 0 has no program.
//	launchd      APP-TYPE-N.plist per instance. launchd has no env file, so
//	             EnvironmentVariables are inline and the plist is mode 0600.
//	runit        a service directory APP-TYPE-N per instance: run (exec chpst
//	             -e ./env -u USER), log/run (svlogd), and env/, mode 0700,
//	             one 0600 file per variable. chpst cannot carry an empty
//	             value (run exports it instead) nor one ending in a blank or
//	             tab (an error). runit has no per-service stop timeout.
//	compose      compose.yaml with a service per type (deploy.replicas from
//	             the formation, 0 when scaled to 0; stop_grace_period;
//	             restart: always; web's port published, a host port range
//	             when it has several replicas) and APP.env (mode 0600,
//	             env_file, compose-go's quoting). "$" is doubled in the file.
//	kubernetes   a Deployment per type (replicas from the formation, bash -c,
//	             PORT and PS in env, envFrom the Secret, web's port named
//	             http with a TCP readiness probe), the Secret APP-env built
//	             from the config (stringData), and a Service for web (port 80
//	             to http). One multi-document APP.yaml (mode 0600, as it holds
//	             the Secret), or with Options.Split one file per object:
//	             APP-env.secret.yaml (0600), APP-TYPE.deployment.yaml,
//	             APP-web.service.yaml. "$" is doubled in the command,
//	             which the kubelet would otherwise expand as $(VAR).
//
// Replicas of compose and kubernetes are identical, so every replica of a
// type gets the same PORT (the first instance's, or Type.Port) and PS=TYPE;
// there is no per-replica DYNO. App.User and App.LogDir apply to the host
// formats only.
//
// # Templates
//
// Each format's unit and config files come from Go text/template files,
// embedded from templates/FORMAT/ (see Templates). Options.Template names a
// directory whose files replace the built-in ones of the same name; any
// other *.tmpl file there is an error. Env files, runit env directories and
// the Kubernetes Secret are not templates: their syntax is the engine's, not
// a matter of taste. Templates run with missingkey=error on a Data value:
//
//	.App        the App: .Name .Root .User .LogDir .Image .WorkDir .Types
//	            .Config (each .Key .Value), normalised as described above
//	.Format     the format's name
//	.Dir        the export directory, absolute
//	.EnvRef     where the config is: the env file's absolute path (systemd,
//	            supervisord), its name next to compose.yaml (compose), "env"
//	            (runit), the Secret's name (kubernetes), "" (launchd)
//	.Timeout    the stop timeout in whole seconds, at least 1
//	.UserUnits  systemd --user units
//	.Type       per-type and per-instance files: .Name .Command .Instances .Port
//	.Instance   per-instance files: .Type .Num .Name .Port .Index
//
// and these functions, each quoting for one engine (those that can fail stop
// the export rather than write something the engine would misread):
// systemdWord, systemdPath, shQuote, supervisorArg, supervisorValue, xml,
// json (a JSON string, which is also a YAML double-quoted scalar), dollars
// ("$" doubled), dns (a Kubernetes name), port (a Type's replica PORT) and
// published (a Compose "HOST:CONTAINER" port).
//
// # Writing
//
// DIR/.ganger-export.manifest (ManifestName) records, for each app and format
// exported into DIR, the files written and their sha256. Write renders
// everything and checks every destination before writing anything; see
// Write for the rules, and ConflictError for what it reports. Files are
// written to a temporary file in the same directory, synced, chmodded and
// renamed; a symlink at a destination is refused, never followed. Env and
// secret files are 0600, directories holding them 0700, runit scripts 0755,
// everything else 0644. A stale directory that still holds files ganger did
// not write (runsv's supervise/) is left in place with a note. Two exports
// into the same directory at the same moment are not guarded against.
//
// Tests check each format against the engine where it runs here: systemd
// loads the units ("systemd --test", "systemd-analyze verify"), Python's
// configparser and shlex read supervisord's file as supervisord does,
// compose-go loads the Compose file, the Kubernetes API types decode the
// manifests strictly, plistlib and encoding/xml read the plists, and the
// exported commands are run and compared with "ganger start"'s /bin/sh -c.
package export
