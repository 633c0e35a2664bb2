// Package chattest is the conformance suite of chat.History, which every
// engine's tests run (Run), and Memory, an in-process History for tests of
// the layers above it.
package chattest
