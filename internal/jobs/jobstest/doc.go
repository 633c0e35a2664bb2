// Package jobstest is the conformance suite of the jobs.Queue port. Every
// engine's tests call Run with a factory that returns a fresh, empty queue.
package jobstest
