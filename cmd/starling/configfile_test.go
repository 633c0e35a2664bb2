package main

import (
	"flag"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "starling.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A flag beats its variable, which beats the file, which beats the default.
func TestConfigPrecedence(t *testing.T) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.String(configFlag, "", "")
	a, b, c, d := fs.String("a", "default", ""), fs.String("b", "default", ""), fs.String("c", "default", ""), fs.String("d", "default", "")
	list := fs.String("list", "", "")
	path := writeConfig(t, "a: file\nb: file\nc: file\nlist: [x, y]\n")
	t.Setenv("STARLING_B", "env")
	t.Setenv("STARLING_C", "env")
	if err := parseWithEnv(fs, []string{"--config", path, "-c", "flag"}); err != nil {
		t.Fatal(err)
	}
	if *a != "file" || *b != "env" || *c != "flag" || *d != "default" || *list != "x,y" {
		t.Fatalf("got a=%s b=%s c=%s d=%s list=%s; want file env flag default x,y", *a, *b, *c, *d, *list)
	}
}

// Unknown keys and bad values stop the server at start, naming the key and
// the reason.
func TestBadConfigIsRefused(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"max-status-len: 300\nmax-stauts-len: 5\n", "max-stauts-len: no such setting"},
		{"workers: many\n", `workers: "many"`},
		{"shutdown-timeout: soon\n", "shutdown-timeout"},
		{"rate-post:\n  n: 5\n", "rate-post: want a value or a list, not a mapping"},
		{"addr: a\naddr: b\n", "addr: given twice"},
		{"- just\n- a list\n", "want a mapping"},
		{"config: other.yaml\n", "config: no such setting"},
	} {
		path := writeConfig(t, tc.text)
		out, err := exec.Command(binary, "serve", "--config", path, "--data", t.TempDir(), "--addr", freeAddr(t)).CombinedOutput()
		if err == nil {
			t.Fatalf("serve with %q started", tc.text)
		}
		if !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), path) {
			t.Errorf("serve with %q said %q, want the file and %q", tc.text, out, tc.want)
		}
	}
}

// A server runs with its settings from a file; STARLING_CONFIG names it
// too.
func TestServeFromConfigFile(t *testing.T) {
	addr := freeAddr(t)
	path := writeConfig(t, "# settings of the test\naddr: "+addr+"\ndata: "+t.TempDir()+"\nmax-status-len: 3\nadmins: []\nrate-post: off\nargon2-time: 1\nargon2-memory: 64\n")
	p := start(t, []string{"STARLING_CONFIG=" + path, "STARLING_MAX_STATUS_LEN=5"}, "serve")
	p.base = "http://" + addr
	p.waitReady(t)
	tok := p.register(t, "short")
	p.call(t, "POST", "/api/starling/v1/statuses", tok, map[string]string{"message": "12345"}, http.StatusCreated, nil)
	p.call(t, "POST", "/api/starling/v1/statuses", tok, map[string]string{"message": "123456"}, http.StatusUnprocessableEntity, nil)
}

// docs/OPERATIONS.md's table lists every flag of serve.
func TestEveryFlagIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/OPERATIONS.md")
	if err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(binary, "serve", "-h").CombinedOutput()
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		name, ok := strings.CutPrefix(strings.TrimSpace(line), "-")
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(name, " ")
		n++
		if !strings.Contains(string(doc), "`--"+name+"`") {
			t.Errorf("docs/OPERATIONS.md does not list --%s", name)
		}
	}
	if n < 20 {
		t.Fatalf("serve -h listed %d flags:\n%s", n, out)
	}
}
