package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// parseFlags parses args into fs, after setting each flag from the
// configuration file when fs has --config and one is named (configfile.go),
// then from its environment variable STARLING_<NAME> when withEnv: the
// command line wins over the environment, which wins over the file.
// An error names the flag or variable, the value and what was wanted, and
// is returned for main to print once: the flag package's own message (with
// "parse error" as its only reason, and the whole usage after it) is not
// printed. -h prints the usage and returns flag.ErrHelp.
func parseFlags(fs *flag.FlagSet, args []string, withEnv bool) error {
	if fs.Lookup(configFlag) != nil {
		if path := configPath(args); path != "" {
			if err := setFromFile(fs, path); err != nil {
				return fmt.Errorf("%s: %w", fs.Name(), err)
			}
		}
	}
	if withEnv {
		if err := setFromEnv(fs); err != nil {
			return err
		}
	}
	out := fs.Output()
	fs.SetOutput(io.Discard)
	usage := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = usage
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return err
	case err != nil:
		return fmt.Errorf("%s: %w (run 'starling %s -h' for the flags)", fs.Name(), explainParseError(fs, err), fs.Name())
	}
	return nil
}

// parseWithEnv is parseFlags with the environment.
func parseWithEnv(fs *flag.FlagSet, args []string) error { return parseFlags(fs, args, true) }

// envName is the environment variable that sets flag name.
func envName(name string) string {
	return "STARLING_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// setFromEnv sets each flag of fs from its STARLING_ variable, if set.
func setFromEnv(fs *flag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		key := envName(f.Name)
		if v, ok := os.LookupEnv(key); ok && err == nil {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("%s: %s=%q (the variable of --%s): %w", fs.Name(), key, v, f.Name, explainSetError(f, v, serr))
			}
		}
	})
	return err
}

// flagValueError matches the flag package's message for a value a flag
// refused (flag.go's failf formats).
var flagValueError = regexp.MustCompile(`\Ainvalid (?:boolean )?value "((?:[^"\\]|\\.)*)" for (?:flag )?-([^:]+): (.*)\z`)

// explainParseError rewrites the flag package's message for a refused
// value so that it says what the flag wants.
func explainParseError(fs *flag.FlagSet, err error) error {
	m := flagValueError.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	value, uerr := strconv.Unquote(`"` + m[1] + `"`)
	f := fs.Lookup(m[2])
	if uerr != nil || f == nil {
		return err
	}
	return fmt.Errorf("--%s %q: %w", f.Name, value, explainSetError(f, value, errors.New(m[3])))
}

// explainSetError replaces the flag package's "parse error" and "value out
// of range" with what f wants; other errors (those of Starling's own flag
// types) already say it.
func explainSetError(f *flag.Flag, value string, err error) error {
	if msg := err.Error(); msg != "parse error" && msg != "value out of range" {
		return err
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return err
	}
	switch g.Get().(type) {
	case int, int64:
		if _, perr := strconv.ParseInt(value, 0, 64); perr == nil || errors.Is(perr, strconv.ErrRange) {
			return errors.New("out of range")
		}
		return errors.New("want a whole number")
	case uint, uint64:
		if _, perr := strconv.ParseUint(value, 0, 64); perr == nil || errors.Is(perr, strconv.ErrRange) {
			return errors.New("out of range")
		}
		return errors.New("want a whole number, 0 or more")
	case float64:
		return errors.New("want a number")
	case bool:
		return errors.New("want true or false")
	case time.Duration:
		return errors.New("want a duration such as 500ms, 30s, 5m or 2h")
	}
	return err
}

// autoInt is an integer flag whose default, "auto", leaves the choice to
// the engine (server.Config's zero value).
type autoInt struct {
	n             int
	set           bool
	engineDefault string
}

func (a *autoInt) String() string {
	if a == nil || !a.set {
		return "auto"
	}
	return strconv.Itoa(a.n)
}

func (a *autoInt) Set(s string) error {
	if s == "auto" {
		a.n, a.set = 0, false
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf(`want a whole number or "auto"`)
	}
	a.n, a.set = n, true
	return nil
}
