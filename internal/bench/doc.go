// Package bench drives a running Starling server over HTTP as a black box and
// measures it: the scenarios behind `starling bench`.
//
// Every scenario is bounded by a duration and a request count, sends traffic
// only to the URL it is given, and reports medians and tail latencies rather
// than averages. Scenarios that need a large social graph read the manifest
// that `starling seed` writes.
package bench
