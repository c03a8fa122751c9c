// Package buildpack builds an app with classic (Heroku "v2") buildpacks on
// the local machine, without Docker, and describes the resulting slug so the
// runner can start processes from it the way a dyno would.
//
// It follows the classic buildpack API as Heroku documents it (its
// Buildpack API and Testpack API) and as herokuish runs it: bin/detect
// BUILD_DIR says yes with exit 0 and names itself on stdout; bin/compile
// BUILD_DIR CACHE_DIR ENV_DIR builds into BUILD_DIR, which becomes the
// slug, with config vars as files in ENV_DIR rather than in its
// environment; a buildpack may leave an export file that is sourced
// before the next one; bin/release BUILD_DIR prints YAML with
// config_vars and default_process_types, a missing bin/release counting
// as empty; bin/test-compile and bin/test are the test-run counterparts;
// at run time the slug's .profile.d/*.sh scripts are sourced in name
// order before the command. .slugignore is applied before any buildpack
// runs, as Heroku does, not when the slug is packed, as herokuish does.
//
// It owns:
//
//   - buildpack references (ParseRef, Ref.Resolve): a local directory, a
//     file:// path, a git URL with an optional #ref, a tarball URL, and the
//     registry shorthand namespace/name expanded through a template; a
//     tarball (remote or local) may be pinned with #sha256=HEX, and Fetch
//     refuses one whose digest differs, naming both;
//   - choosing the buildpacks (Select): -b flags, then BUILDPACK_URL, then
//     .buildpacks, then app.json buildpacks[].url, else detection over an
//     ordered list;
//   - fetching them (Fetch) into a per-ref cache (a local tarball keyed by
//     its sha256, so an edited one is used at once): git runs as
//     "git clone -- URL DIR" with prompts off and only the https, ssh and file
//     protocols allowed; tarballs are downloaded by curl (https redirects
//     only, ~/.curlrc ignored) with a size cap and extracted inside an
//     os.Root, refusing "..", absolute names, links leading out,
//     setuid/setgid files and device nodes;
//   - the build (Build): a fresh build dir holding what git would send of
//     the app: the files git tracks (with their uncommitted edits) and the
//     untracked files it does not ignore, or, outside a git repository,
//     every file the .gitignore files do not ignore (a small gitignore
//     matcher); an env file (.env, .env.*, a file the config vars came
//     from) only when git tracks it; never .git or .ganger; minus the
//     .slugignore matches. BuildOptions.Commit builds exactly one commit's
//     tree instead (git ls-tree and git cat-file --batch). Then a
//     persistent cache dir; a
//     fresh 0700 ENV_DIR with one 0600 file per config var; a minimal,
//     explicit environment (PATH, a throwaway HOME, STACK, SOURCE_VERSION,
//     LANG, proxies, GIT_CEILING_DIRECTORIES so git run by a buildpack does
//     not find the app's repository above the build dir); per buildpack
//     bin/detect, bin/compile, its export file sourced for the next one, and
//     bin/release YAML (merged, a later buildpack winning). The build dir
//     replaces .ganger/slug only when everything succeeded; the build log is
//     kept at .ganger/build.log; the slug's metadata is SlugMetaFile inside
//     the slug;
//   - test runs (Test): bin/test-compile (else bin/compile), app.json
//     scripts.test-setup, then scripts.test or the buildpack's bin/test;
//   - the argv that runs a Procfile command from a slug (ProcessCommand) and
//     the release's default process types (Slug.Defaults);
//   - the pre-push hook (HookTarget, HookScript, InstallHook,
//     UninstallHook).
//
// What ganger keeps in the app's .ganger directory (created 0700 with a
// .gitignore of "*", so none of it shows in git status; a .ganger, or
// anything below it ganger writes, that is a symlink or another user's is
// refused):
//
//   - slug/ (SlugDir): the last successful build, run by start --slug;
//     replaced only by a build that succeeds;
//   - cache/ (CacheDirName): CACHE_DIR of builds, kept between them; seed
//     it to build offline;
//   - test-cache/ (TestCacheDir): CACHE_DIR of test runs, kept between
//     them; the first test run starts it as a copy of cache/, then the two
//     are separate (a test run never writes the build cache);
//   - buildpacks/ (BuildpackCacheDir): fetched buildpacks, when no other
//     buildpack cache is configured (the CLI uses the user cache dir);
//   - build.log, test.log: the whole output of the last build and test
//     run; test-artifacts/: the last test run's ARTIFACTS_DIR;
//   - build.lock, test.lock: held while a build or a test run runs;
//   - tmp-build-*, tmp-test-*: the workspace of a running build or test
//     run (build dir, ENV_DIR, HOME); removed at its end, or, when it was
//     killed, by the next ganger command that finds the app (RemoveStale);
//   - check/slug (CheckSlugDir): the slug of the last check --boot, kept
//     apart so that a running start --slug keeps its own;
//   - slug.old.N: a previous slug a running start --slug still held when a
//     build replaced it (Slug.Hold), removed by a later build once free.
//
// Running the processes of a slug is the runner's job; this package only
// hands it the slug dir, the argv and the release's config vars.
//
// Buildpacks run arbitrary code as the current user, like a Makefile: there
// is no sandbox. Linux and macOS only (bash, process groups, flock).
package buildpack
