package web

import (
	"fmt"
	"html/template"
	"io/fs"
	"strings"
	"time"

	"starling/internal/social"
)

// mustParsePages parses every page template with the layout and the
// shared partials: one template set per page, so that each page defines
// its own "content" block.
func mustParsePages(funcs template.FuncMap) map[string]*template.Template {
	base := template.Must(template.New("base").Funcs(funcs).ParseFS(templateFS, "templates/_*.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := make(map[string]*template.Template)
	for _, path := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(path, "templates/"), ".html")
		if strings.HasPrefix(name, "_") {
			continue
		}
		t := template.Must(base.Clone())
		pages[name] = template.Must(t.ParseFS(templateFS, path))
	}
	return pages
}

// timeLayout is how the API writes times: RFC 3339, UTC, milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z"

func (h *Handler) funcs() template.FuncMap {
	return template.FuncMap{
		"isotime":  func(t time.Time) string { return t.UTC().Format(timeLayout) },
		"fulltime": func(t time.Time) string { return t.UTC().Format("Mon 2 Jan 2006 15:04:05 MST") },
		"ago":      func(t time.Time) string { return ago(h.now().Sub(t)) },
		"coord":    func(f float64) string { return fmt.Sprintf("%.4f", f) },
		"maxlen":   func() int { return h.svc.Config().MaxStatusLen },
		"fieldErr": func(errs formErrors, field string) string { return errs[field] },
		"value":    func(vals formValues, field string) string { return vals[field] },
		"dict": func(kv ...any) map[string]any {
			m := make(map[string]any, len(kv)/2)
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			return m
		},
		"statusView": func(v viewer, s social.Status) statusView { return statusView{V: v, S: s} },
		"mine":       func(v viewer, s social.Status) bool { return v.SignedIn() && s.UID == v.ID },
	}
}

// ago says how long ago something happened, as people say it; the exact
// time is in the title beside it.
func ago(d time.Duration) string {
	switch {
	case d < 10*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	case d < 30*24*time.Hour:
		return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
	}
	return fmt.Sprintf("%dmo ago", int(d/(30*24*time.Hour)))
}

// statusView is one status as the status template shows it.
type statusView struct {
	V viewer
	S social.Status
}
