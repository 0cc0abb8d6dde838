package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // profiles for --pprof
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `dynakv: a Dynamo-style store that speaks the Redis protocol.

Usage:
  dynakv server [flags]   run one node (dynakv server --help for flags)
  dynakv dev [flags]      run a local setup in one process (dynakv dev --help)
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "server":
		err = runServer(ctx, args[1:], stdout, stderr)
	case "dev":
		err = runDev(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "dynakv: unknown subcommand %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "dynakv: %v\n", err)
		return 1
	}
	return 0
}

var errUsage = errors.New("dynakv: bad usage")

// servePprof serves net/http/pprof on addr unless it is empty.
func servePprof(addr string, stderr io.Writer) {
	if addr == "" {
		return
	}
	go func() {
		if err := http.ListenAndServe(addr, nil); err != nil {
			fmt.Fprintf(stderr, "dynakv: pprof: %v\n", err)
		}
	}()
}

// envName returns the environment variable that backs a flag:
// read-quorum → DYNAKV_READ_QUORUM.
func envName(flagName string) string {
	return "DYNAKV_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parse parses args into fs, then takes each flag not given on the
// command line from its environment variable. An alias and its flag count
// as one: if either is on the command line, neither's variable is read;
// if both variables are set, the flag's own wins.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.VisitAll(func(f *flag.Flag) { f.Usage += fmt.Sprintf(" (env %s)", envName(f.Name)) })
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments: %q\n", fs.Args())
		return errUsage
	}
	canonical := func(name string) string {
		if c, ok := aliases[name]; ok {
			return c
		}
		return name
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[canonical(f.Name)] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		c := canonical(f.Name)
		v, ok := os.LookupEnv(envName(f.Name))
		if !ok || set[c] || err != nil {
			return
		}
		if c != f.Name {
			if _, own := os.LookupEnv(envName(c)); own {
				return // the flag's own variable wins over its alias's
			}
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = fmt.Errorf("%s=%q: %w", envName(f.Name), v, e)
		}
	})
	return err
}

// newLogger returns the logger the options ask for.
func newLogger(w io.Writer, o *options) *slog.Logger {
	opts := &slog.HandlerOptions{Level: o.logLevel}
	if o.logJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
