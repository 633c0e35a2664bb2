// Package socialtest is the conformance suite of the social.Store port. Every
// engine's tests call Run with a factory that returns a fresh, empty store and
// the job queue of the same engine; the suite drives them through a real
// social.Service and jobs.Runner, so it checks the domain and job rules
// as a user of the API sees them.
//
// The Service runs with a timeline size of 5 and a fan-out chunk of 3, so that
// trimming, refills and fan-outs split over several jobs show up with a
// handful of users. Jobs run when a test drains the queue, which lets the
// suite check both what a call does before it returns and what its jobs do
// afterwards, and it reruns, delays and abandons jobs the way crashed or slow
// workers would. Where the Service never reaches a Store method's failure
// (a store-side uniqueness check, an unknown user id), the suite calls the
// Store directly.
//
// Time-dependent rules (token expiry, newest-first follower order) move the
// Service's clock instead of sleeping. The package's own test runs the suite
// against a minimal in-memory engine, which keeps the suite honest without any
// real engine.
package socialtest
