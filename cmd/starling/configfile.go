package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxConfigBytes bounds a configuration file: a few hundred settings at
// most, never megabytes.
const maxConfigBytes = 1 << 20

// configFlag names the flag (and STARLING_CONFIG) that points at a
// configuration file.
const configFlag = "config"

// configPath finds the configuration file named on the command line
// (-config FILE, --config=FILE) or else by STARLING_CONFIG, before the
// flags are parsed, since the file's settings go under the environment's
// and the command line's.
func configPath(args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name != configFlag {
			continue
		}
		if hasValue {
			return value
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return os.Getenv(envName(configFlag))
}

// setFromFile sets the flags of fs from the YAML file at path: a mapping
// whose keys are flag names and whose values are scalars (or lists, for
// the flags that take comma-separated lists). An unknown key, a value of
// the wrong shape or one the flag refuses is an error naming the key.
func setFromFile(fs *flag.FlagSet, path string) error {
	data, err := readConfig(path)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil // an empty file sets nothing
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("config %s: want a mapping of flag names to values", path)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key := k.Value
		where := fmt.Sprintf("config %s:%d: %s", path, k.Line, key)
		f := fs.Lookup(key)
		switch {
		case k.Kind != yaml.ScalarNode:
			return fmt.Errorf("config %s:%d: keys must be flag names", path, k.Line)
		case f == nil || key == configFlag:
			return fmt.Errorf("%s: no such setting (the keys are the flags of 'starling %s -h', without dashes)", where, fs.Name())
		case seen[key]:
			return fmt.Errorf("%s: given twice", where)
		}
		seen[key] = true
		value, err := scalarValue(v)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if err := fs.Set(key, value); err != nil {
			return fmt.Errorf("%s: %q: %w", where, value, err)
		}
	}
	return nil
}

func readConfig(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if len(data) > maxConfigBytes {
		return nil, fmt.Errorf("config %s: larger than %d bytes", path, maxConfigBytes)
	}
	return data, nil
}

// scalarValue turns a YAML value into a flag's text: a scalar as written,
// a list of scalars joined by commas.
func scalarValue(v *yaml.Node) (string, error) {
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return "", nil
		}
		return v.Value, nil
	case yaml.SequenceNode:
		items := make([]string, 0, len(v.Content))
		for _, item := range v.Content {
			if item.Kind != yaml.ScalarNode || strings.Contains(item.Value, ",") {
				return "", fmt.Errorf("a list may hold only single values without commas")
			}
			items = append(items, item.Value)
		}
		return strings.Join(items, ","), nil
	}
	return "", fmt.Errorf("want a value or a list, not a mapping")
}
