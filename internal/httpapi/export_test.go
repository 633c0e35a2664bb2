package httpapi

// Patterns returns the route patterns of a, so that tests can check they
// cover every route.
func Patterns(a *API) []string { return append([]string(nil), a.patterns...) }
