// Package socialtest is the conformance suite of the social.Store port. Every
// engine's tests call Run with a factory that returns a fresh, empty store and
// the job queue of the same engine; the suite drives them through a real
// social.Service and jobs.Runner, so it checks the rules of DESIGN.md §3–§4
// as a user of the API sees them.
package socialtest
