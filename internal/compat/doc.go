// Package compat holds no code: it exists for its tests, which check that
// sessions written by github.com/gorilla/sessions v1.4.0 are read by
// github.com/fasthttp-sessions/sessions and the other way round (cookies
// signed and encrypted with the same keys and gob-serialized values, flash
// messages, key rotation), each side running behind a real HTTP server.
//
// It is a separate module so that gorilla/sessions, net/http's session
// library, is a dependency of these tests only and never of the core module.
package compat
