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
		"starling/internal/httpapi":              {"starling/internal/engine/", "starling/internal/server", "github.com/redis/", "modernc.org/sqlite"},
		"starling/internal/engine/sqlite":        {"starling/internal/engine/redis", "starling/internal/httpapi", "starling/internal/server", "github.com/redis/"},
		"starling/internal/engine/redis":         {"starling/internal/engine/sqlite", "starling/internal/httpapi", "starling/internal/server", "modernc.org/sqlite"},
		"starling/internal/engine/statuscache":   {"starling/internal/engine/sqlite", "starling/internal/engine/redis", "starling/internal/httpapi", "starling/internal/server", "github.com/redis/", "modernc.org/sqlite"},
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
