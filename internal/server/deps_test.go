package server

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyDirection keeps the layering of docs/ARCHITECTURE.md: the
// domain and its ports know nothing of engines, storage drivers or HTTP, and
// only the wiring picks an engine.
func TestDependencyDirection(t *testing.T) {
	forbidden := map[string][]string{
		"starling/internal/social":               {"starling/internal/engine/", "starling/internal/httpapi", "starling/internal/server", "github.com/redis/", "modernc.org/sqlite", "net/http"},
		"starling/internal/jobs":                 {"starling/internal/", "github.com/redis/", "modernc.org/sqlite", "net/http"},
		"starling/internal/events":               {"starling/internal/", "github.com/redis/", "modernc.org/sqlite", "net/http"},
		"starling/internal/ratelimit":            {"starling/internal/", "github.com/redis/", "modernc.org/sqlite", "net/http"},
		"starling/internal/seed":                 {"starling/internal/engine/", "starling/internal/httpapi", "starling/internal/server", "starling/internal/bench", "github.com/redis/", "modernc.org/sqlite", "net/http"},
		"starling/internal/stream":               {"starling/internal/engine/", "starling/internal/httpapi", "starling/internal/server", "starling/internal/social", "github.com/redis/", "modernc.org/sqlite", "net/http"},
		"starling/internal/web":                  {"starling/internal/engine/", "starling/internal/server", "github.com/redis/", "modernc.org/sqlite"},
		"starling/internal/httpapi":              {"starling/internal/engine/", "starling/internal/server", "github.com/redis/", "modernc.org/sqlite"},
		"starling/internal/engine/sqlite":        {"starling/internal/engine/redis", "starling/internal/httpapi", "starling/internal/server", "github.com/redis/"},
		"starling/internal/engine/redis":         {"starling/internal/engine/sqlite", "starling/internal/httpapi", "starling/internal/server", "modernc.org/sqlite"},
		"starling/internal/engine/statuscache":   {"starling/internal/engine/sqlite", "starling/internal/engine/redis", "starling/internal/httpapi", "starling/internal/server", "github.com/redis/", "modernc.org/sqlite"},
		"starling/internal/accesslog":            {"starling/internal/engine/", "starling/internal/httpapi", "starling/internal/server", "github.com/redis/", "modernc.org/sqlite", "net/http"},
		"starling/internal/metrics":              {"starling/internal/engine/", "starling/internal/httpapi", "starling/internal/server", "starling/internal/social", "github.com/redis/", "modernc.org/sqlite"},
		"starling/internal/engine/timelinecache": {"starling/internal/engine/sqlite", "starling/internal/engine/redis", "starling/internal/httpapi", "starling/internal/server", "github.com/redis/", "modernc.org/sqlite"},
	}
	for pkg, bad := range forbidden {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == pkg {
				continue
			}
			for _, b := range bad {
				if dep == b || strings.HasPrefix(dep, b) && strings.HasSuffix(b, "/") {
					t.Errorf("%s depends on %s; the layering forbids it", pkg, dep)
				}
			}
		}
	}
}

// TestOnlyEngineOpenNamesEngines keeps the choice of engine in one place:
// no package but internal/engine imports a concrete engine (tests aside).
func TestOnlyEngineOpenNamesEngines(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "starling/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := fields[0]
		if pkg == "starling/internal/engine" || strings.HasPrefix(pkg, "starling/internal/engine/") {
			continue
		}
		for _, imp := range fields[1:] {
			if imp == "starling/internal/engine/redis" || imp == "starling/internal/engine/sqlite" {
				t.Errorf("%s imports %s; only internal/engine may name a concrete engine", pkg, imp)
			}
		}
	}
}
