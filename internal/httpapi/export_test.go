package httpapi

// Patterns returns the route patterns of a, so that tests can check they
// cover every route.
func Patterns(a *API) []string { return append([]string(nil), a.patterns...) }

// HeldPolls returns the long polls of a that hold their connection off
// their handler now.
func HeldPolls(a *API) int64 { return a.heldNow.Load() }
