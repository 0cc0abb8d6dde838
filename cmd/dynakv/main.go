// Command dynakv runs a dynakv node (`dynakv server`) or a local
// development setup in one process (`dynakv dev`). It is a thin driver:
// flags (each also read from a DYNAKV_* environment variable) become a
// node.Config, and SIGINT/SIGTERM shut the node down gracefully.
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

// pprofAddr is set by --pprof.
var pprofAddr string

// servePprof serves net/http/pprof on pprofAddr when it is set.
func servePprof(stderr io.Writer) {
	if pprofAddr == "" {
		return
	}
	go func() {
		if err := http.ListenAndServe(pprofAddr, nil); err != nil {
			fmt.Fprintf(stderr, "dynakv: pprof: %v\n", err)
		}
	}()
}

// envName returns the environment variable that backs a flag:
// read-quorum → DYNAKV_READ_QUORUM.
func envName(flagName string) string {
	return "DYNAKV_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parse parses args into fs, taking each flag not given on the command line
// from its environment variable.
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
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if v, ok := os.LookupEnv(envName(f.Name)); ok && !set[f.Name] && err == nil {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", envName(f.Name), v, e)
			}
		}
	})
	return err
}

func newLogger(w io.Writer, level string, json bool) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: l}
	if json {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}
