// Package web is Starling's web UI: server-rendered pages (html/template)
// and a few small scripts, embedded in the binary. Every action is a form
// post with a CSRF token answered by a redirect, so the pages work without
// JavaScript; with it, timelines, chat rooms and the access log update
// live over the API's streams. Pages read the social Service directly.
//
// A Handler is safe for concurrent use; it holds no state that changes
// after New.
package web
